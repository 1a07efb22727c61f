"""API token decisions: who may grant and revoke, expiry after the grant, revocation once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.aggregate_ids import api_token_id
from domain.api_token import decisions as tokens
from domain.api_token.events import ApiTokenRevoked
from domain.api_token.state import ApiToken
from domain.base import Actor, CommandContext, DomainError, Role, project
from tests.factories import T0, window_ctx

ADMIN = CommandContext(actor=Actor(principal_id="admin-1", role=Role.ADMIN), at=T0)
TOKEN = "tok_0123456789ab"


def test_a_grant_then_a_revocation_make_a_revoked_token() -> None:
    granted = tokens.grant(ADMIN, TOKEN, "window-1", Role.WINDOW, None, T0 + timedelta(days=1))
    token = project(None, granted)
    assert isinstance(token, ApiToken)
    assert (token.id, token.version, token.revoked_on) == (api_token_id(TOKEN), 1, None)
    later = ADMIN.model_copy(update={"at": T0 + timedelta(hours=1)})
    revoked = project(token, tokens.revoke(token, later, TOKEN))
    assert revoked is not None
    assert (revoked.version, revoked.revoked_on) == (2, later.at)
    assert tokens.revoke(revoked, later, TOKEN) == []  # once is enough


def test_a_token_granted_before_grants_were_recorded_is_revoked_as_its_first_event() -> None:
    (event,) = tokens.revoke(None, ADMIN, TOKEN)
    assert isinstance(event, ApiTokenRevoked)
    assert event.originator_version == 1
    token = project(None, [event])
    assert isinstance(token, ApiToken)
    assert (token.principal, token.role, token.revoked_on) == (None, None, T0)


def test_only_an_administrator_grants_and_no_expiry_lies_in_the_past() -> None:
    with pytest.raises(DomainError, match="role_not_allowed"):
        tokens.grant(window_ctx(), TOKEN, "me", Role.ADMIN)
    with pytest.raises(DomainError, match="role_not_allowed"):
        tokens.revoke(None, window_ctx(), TOKEN)
    with pytest.raises(DomainError, match="expiry_in_the_past"):
        tokens.grant(ADMIN, TOKEN, "window-1", Role.WINDOW, None, T0)
