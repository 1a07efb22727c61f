"""API token commands: grant and revoke, by an administrator (or the server's own CLI)."""

from __future__ import annotations

from datetime import datetime

from domain.aggregate_ids import api_token_id
from domain.api_token import events
from domain.api_token.state import ApiToken
from domain.base import CommandContext, DomainError, DomainEvent, Role
from domain.guards import require_role

MANAGERS = (Role.ADMIN, Role.SYSTEM)


def grant(
    ctx: CommandContext,
    token_id: str,
    principal: str,
    role: Role,
    enterprise: str | None = None,
    expires_at: datetime | None = None,
) -> list[DomainEvent]:
    """Grant a new token (its id is new: a taken one is a conflict of the append)."""
    require_role(ctx, *MANAGERS, action="granting API tokens")
    if expires_at is not None and expires_at <= ctx.at:
        raise DomainError(
            "expiry_in_the_past", "a token must expire after it is granted", "expires_at"
        )
    return [
        events.ApiTokenGranted(
            **ctx.first_event_fields(api_token_id(token_id)),
            token_id=token_id,
            principal=principal,
            role=role,
            enterprise=enterprise,
            expires_at=expires_at,
        )
    ]


def revoke(token: ApiToken | None, ctx: CommandContext, token_id: str) -> list[DomainEvent]:
    """Revoke a token; nothing when it is revoked already. `token` is None for a token granted
    before grants were recorded: the revocation is then its first event."""
    require_role(ctx, *MANAGERS, action="revoking API tokens")
    if token is not None and token.revoked_on is not None:
        return []
    return [
        events.ApiTokenRevoked(
            originator_id=api_token_id(token_id),
            originator_version=1 if token is None else token.version + 1,
            **ctx.event_fields(),
            token_id=token_id,
        )
    ]
