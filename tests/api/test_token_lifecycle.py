"""Token expiry, `token list` and `token revoke`, and every grant and revocation in the ledger."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from api.cli.main import main as cli
from api.http.auth import TokenError, hash_token
from domain.aggregate_ids import api_token_id
from domain.api_token.events import ApiTokenGranted, ApiTokenRevoked
from domain.base import Role
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api

READ = "/v1/audit/public-key"


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one `eport-ledger` command."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli(list(argv))
    return code, out.getvalue(), err.getvalue()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_expired_token_is_401_even_when_it_was_cached(api: Api) -> None:
    tokens, cache = api.services.tokens, api.services.token_cache
    issued = tokens.issue("auditor", expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert api.client.get(READ, headers=bearer(issued.token)).status_code == 200  # now cached
    past = datetime.now(UTC) - timedelta(seconds=1)
    database = api.services.ledger.database
    with database.transaction() as cursor:  # the hour has passed: in the table …
        cursor.execute(
            f"UPDATE {database.table('api_tokens')} SET expires_at = ? WHERE token_id = ?",
            (past.isoformat(), issued.record.token_id),
        )
    key = hash_token(issued.token)
    deadline, principal = cache._entries[key]  # … and in what the cache checked an hour ago
    cache._entries[key] = (deadline, replace(principal, expires_at=past))
    assert cache.cached(issued.token) is None
    refused = api.client.get(READ, headers=bearer(issued.token))
    assert (refused.status_code, refused.json()["rule"]) == (401, "invalid_token")


def test_a_token_that_expires_in_the_past_is_refused(api: Api) -> None:
    with pytest.raises(TokenError, match="expire in the future"):
        api.services.tokens.issue("window", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    answer = api.post(
        "admin", "/v1/tokens", {"role": "window", "expires_at": "2020-01-01T00:00:00Z"}
    )
    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (422, "expires_at")


def test_grants_and_revocations_are_recorded_in_the_ledger(api: Api) -> None:
    until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    created = api.ok(
        api.post(
            "admin",
            "/v1/tokens",
            {"role": "hotline", "name": "hotline-3", "expires_at": until.isoformat()},
        ),
        201,
    )
    assert datetime.fromisoformat(created["expires_at"]) == until
    token_id = created["token_id"]
    assert api.client.delete(f"/v1/tokens/{token_id}", headers=api.as_("admin")).status_code == 204
    assert api.client.delete(f"/v1/tokens/{token_id}", headers=api.as_("admin")).status_code == 204
    assert api.client.get(READ, headers=bearer(created["token"])).status_code == 401

    history = api.services.ledger.history(api_token_id(token_id))
    assert [type(event) for event in history] == [ApiTokenGranted, ApiTokenRevoked]
    granted, revoked = history
    assert isinstance(granted, ApiTokenGranted)
    assert (granted.token_id, granted.principal, granted.role) == (token_id, "hotline-3", "hotline")
    assert granted.expires_at == until
    admin = api.services.token_cache.cached(api.as_("admin")["Authorization"][7:])
    assert admin is not None
    assert granted.actor.role is Role.ADMIN
    assert granted.actor.token_id == revoked.actor.token_id == admin.token_id
    stored = orjson.dumps([event.model_dump(mode="json") for event in history]).decode()
    assert created["token"] not in stored


def test_token_list_and_revoke_on_the_command_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    code, token, _ = run_cli("token", "create", "--role", "window", "--expires-in", "90d")
    assert code == 0
    code, out, _ = run_cli("token", "list", "--json")
    assert code == 0
    (listed,) = orjson.loads(out)["tokens"]
    assert (listed["role"], listed["status"], listed["revoked_at"]) == ("window", "active", None)
    expires = datetime.fromisoformat(listed["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert token.strip() not in out

    code, out, _ = run_cli("token", "revoke", listed["token_id"], "--json")
    assert (code, orjson.loads(out)["status"]) == (0, "revoked")
    code, out, _ = run_cli("token", "list")
    assert code == 0
    assert f"{listed['token_id']}  revoked" in out

    code, out, err = run_cli("token", "revoke", "tok_000000000000", "--json")
    assert (code, orjson.loads(out)["ok"]) == (2, False)
    assert "no token tok_000000000000" in err
    with pytest.raises(SystemExit):
        run_cli("token", "create", "--role", "window", "--expires-in", "soon")
