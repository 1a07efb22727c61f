"""Events of API tokens, data only: who a token speaks for and until when, never its secret."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from domain.base import DomainEvent, Role, stored_as
from domain.identifiers import Uscc

TokenId = Annotated[str, Field(pattern=r"^tok_[0-9a-f]{12}$")]
"""A token's public id (`tok_` and 12 hex digits): it names the token, it is no credential."""


@stored_as("ApiTokenGranted")
class ApiTokenGranted(DomainEvent):
    """A bearer token was issued (`eport-ledger token create`, `POST /v1/tokens`, a first start).

    The secret is never recorded; the token table keeps its SHA-256 beside the same id.
    """

    token_id: TokenId
    principal: Annotated[str, Field(min_length=1, max_length=100)]
    """The principal its commands are recorded under (the token's name)."""
    role: Role
    enterprise: Uscc | None = None
    """The USCC an enterprise token acts for."""
    expires_at: datetime | None = None
    """When it stops working by itself; None: only a revocation ends it."""


@stored_as("ApiTokenRevoked")
class ApiTokenRevoked(DomainEvent):
    """A bearer token was revoked: every request with it is refused from now on."""

    token_id: TokenId
