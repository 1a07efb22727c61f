"""Token administration: issue, list, revoke (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from api.http.schemas import examples
from api.http.schemas.common import Request, with_examples
from api.http.schemas.queries import Page
from domain.forms import Text
from domain.identifiers import Uscc

TokenRole = Literal["enterprise", "window", "hotline", "auditor", "admin"]


class CreateToken(Request):
    """A new bearer token for a role (an enterprise token is bound to its USCC)."""

    model_config = with_examples(
        {"role": "window", "name": "window-clerk-01"},
        {"role": "enterprise", "enterprise": examples.USCC},
    )

    role: TokenRole
    enterprise: Uscc | None = Field(default=None, description="required for role enterprise")
    name: Text | None = Field(default=None, description="the principal recorded in every event")
    expires_at: AwareDatetime | None = Field(
        default=None, description="when it stops working by itself (default: never)"
    )


class TokenInfo(BaseModel):
    """A token as stored: never its secret."""

    token_id: str
    principal: str
    role: TokenRole
    enterprise: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenInfo):
    """A freshly issued token: `token` is shown this once and never again."""

    token: str = Field(description="send it as Authorization: Bearer <token>")


class TokenList(Page[TokenInfo]):
    """Every token issued (revoked ones too), oldest first; the cursor is the last token id."""
