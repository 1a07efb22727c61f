"""Tokens: stored hashed, issued by the admin or the CLI, revocable (limits: test_abuse_limits)."""

from __future__ import annotations

import hashlib
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

from api.cli.main import main as cli
from api.http.auth import TokenStore, hash_token
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from tests.api.conftest import Api, opened


def test_tokens_are_stored_only_as_their_sha256(api: Api) -> None:
    token = api.token("window", name="window-clerk-09")
    assert token.startswith("epl_")
    assert len(token) >= 40
    database = api.services.ledger.database
    with database.transaction() as cursor:
        rows = cursor.execute(f"SELECT * FROM {database.table('api_tokens')}").fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() == hash_token(token)
    assert hash_token(token) in stored


def test_missing_unknown_and_revoked_tokens_are_401(api: Api) -> None:
    missing = api.client.get("/v1/keys")
    assert missing.status_code == 401
    assert missing.json()["rule"] == "token_required"
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="eport-ledger"'
    unknown = api.client.get(
        "/v1/keys", headers={"Authorization": "Bearer epl_nope_nope_nope_nope"}
    )
    assert (unknown.status_code, unknown.json()["rule"]) == (401, "invalid_token")
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]

    created = api.ok(api.post("admin", "/v1/tokens", {"role": "hotline", "name": "hotline-7"}), 201)
    assert created["principal"] == "hotline-7"
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert api.client.get("/v1/keys", headers=bearer).status_code == 200
    listed = api.ok(api.get("admin", "/v1/tokens"))["items"]
    assert created["token_id"] in {t["token_id"] for t in listed}
    assert created["token"] not in str(listed)
    revoked = api.client.delete(f"/v1/tokens/{created['token_id']}", headers=api.as_("admin"))
    assert revoked.status_code == 204
    assert api.client.get("/v1/keys", headers=bearer).status_code == 401


def test_an_enterprise_token_needs_a_valid_uscc(api: Api) -> None:
    missing = api.post("admin", "/v1/tokens", {"role": "enterprise"})
    assert (missing.status_code, missing.json()["rule"]) == (422, "invalid_token_request")
    bad = api.post(
        "admin", "/v1/tokens", {"role": "enterprise", "enterprise": "91350100M000100Y4Z"}
    )
    assert bad.status_code == 422


def test_the_cli_prints_one_token_that_the_api_accepts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert cli(["token", "create", "--role", "auditor", "--name", "auditor-02"]) == 0
    token = out.getvalue().strip()
    assert token.startswith("epl_")
    assert "\n" not in token
    assert token not in err.getvalue()
    with redirect_stderr(err):
        assert cli(["token", "create", "--role", "enterprise"]) == 2
    with opened(settings) as api:
        events = api.client.get("/v1/audit/events", headers={"Authorization": f"Bearer {token}"})
        assert events.status_code == 200
    ledger = EventStore(settings)
    try:
        records = TokenStore(ledger).records()
    finally:
        ledger.close()
    assert next(r.principal_id for r in records if r.role == "auditor") == "auditor-02"
