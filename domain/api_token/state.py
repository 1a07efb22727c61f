"""The ApiToken aggregate: whom a token speaks for, until when, and whether it was revoked."""

from __future__ import annotations

from datetime import datetime

from domain.api_token import events
from domain.base import Aggregate, Role, created_fields, evolves


class ApiToken(Aggregate):
    """One bearer token. A token granted before grants were recorded in the ledger (releases
    up to 0.1) has no grant event: its first event is its revocation, and what it was for is
    unknown here (None)."""

    token_id: str
    principal: str | None
    role: Role | None
    enterprise: str | None = None
    expires_at: datetime | None = None
    revoked_on: datetime | None = None


@evolves(events.ApiTokenGranted)
def _granted(_: None, event: events.ApiTokenGranted) -> ApiToken:
    """Record the grant."""
    return ApiToken(
        **created_fields(event),
        token_id=event.token_id,
        principal=event.principal,
        role=event.role,
        enterprise=event.enterprise,
        expires_at=event.expires_at,
    )


@evolves(events.ApiTokenRevoked)
def _revoked(token: ApiToken | None, event: events.ApiTokenRevoked) -> ApiToken:
    """Record the revocation (of a token granted before grants were recorded, too)."""
    if token is None:
        token = ApiToken(
            **created_fields(event), token_id=event.token_id, principal=None, role=None
        )
    return token.model_copy(update={"revoked_on": event.timestamp})
