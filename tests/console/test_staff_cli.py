"""`eport-ledger staff create/list/disable`: the account it makes signs in with the password it
prints once; a disabled account can no longer sign in."""

from __future__ import annotations

import pytest

from api.cli.main import main
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import opened
from tests.console.conftest import sign_in


def test_staff_create_prints_a_password_that_signs_in_and_disable_ends_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EPORT_SIGNING_KEY_PATH", str(settings.key_path()))
    args = ["staff", "create", "--role", "hotline", "--login", "Zhou.Min", "--name", "周敏"]
    assert main(args) == 0
    password = capsys.readouterr().out.strip()
    assert len(password) >= 10
    assert main(["staff", "create", "--role", "window", "--login", "zhou.min", "--name", "x"]) == 2
    capsys.readouterr()
    assert main(["staff", "list"]) == 0
    listed = capsys.readouterr().out
    assert "zhou.min\tstaff:" in listed
    assert password not in listed
    with opened(settings) as api:
        assert sign_in(api.client, "zhou.min", password).headers["location"] == "/ui/hotline"
    assert main(["staff", "disable", "--login", "zhou.min"]) == 0
    with opened(settings) as api:
        assert sign_in(api.client, "zhou.min", password).status_code == 401
