"""Fixtures of the console tests: the app on each backend with staff accounts, signed-in
browsers (TestClient with cookies), and the example enterprise driven through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.http.console.settings import ConsoleSettings
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api, TestClient, opened
from tests.conftest import LedgerTemplates

PASSWORD = "correct horse battery"
STAFF = {
    "window": ("lin.fang", "林芳"),
    "hotline": ("zhou.min", "周敏"),
    "auditor": ("he.jun", "何军"),
    "admin": ("admin.01", "管理员"),
}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The session's CSRF token in a page."""
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class Console:
    """The API (tokens, helpers) and the console's staff accounts."""

    api: Api
    staff_ids: dict[str, str]

    def browser(self) -> TestClient:
        """A new browser (cookie jar) on the same app."""
        client = TestClient(self.api.client.app, raise_server_exceptions=False)
        client.__enter__ = None  # type: ignore[method-assign] # the app is already started
        return client

    def sign_in(self, role: str, client: TestClient | None = None) -> TestClient:
        """A browser signed in as the role's staff account."""
        client = client or self.browser()
        login, _ = STAFF[role]
        answer = sign_in(client, login, PASSWORD)
        assert answer.status_code == 303, answer.text
        return client


def sign_in(client: TestClient, login: str, password: str) -> httpx.Response:
    """Open the sign-in page and post the form (not following the redirect)."""
    page = client.get("/ui/login")
    found = _LOGIN_CSRF.search(page.text)
    if found is None:  # signed in already: the form is not shown, post it all the same
        token = "t" * 43
        client.cookies.set("eport_console_login", token, path="/ui")
    else:
        token = found.group(1)
    return client.post(
        "/ui/login",
        data={"login": login, "password": password, "login_csrf": token},
        follow_redirects=False,
    )


def _with_staff(settings: Settings) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Template: a token per role (`opened`) and one staff account a role; the tokens' headers
    and the accounts' ids."""
    with opened(settings) as api:
        store = api.client.app.state.console.staff  # type: ignore[attr-defined]
        ids = {}
        for role, (login, name) in STAFF.items():
            ids[role] = store.create(
                login=login, role=role, display_name=name, password=PASSWORD
            ).staff_id
        return api.headers, ids


@pytest.fixture
def console(
    backend: str,
    tmp_path: Path,
    ledger_templates: LedgerTemplates,
    request: pytest.FixtureRequest,
) -> Iterator[Console]:
    """The app with the console on a fresh ledger (SQLite and PostgreSQL), one account a role.

    The ledger is a copy of one built once per session (tests/conftest.py, LedgerTemplates):
    creating the four accounts hashes four passwords with argon2 (~0.5 s), once, not per test.
    """
    if backend == "postgres":
        request.getfixturevalue("postgres_available")
    with (
        ledger_templates.copy(backend, "console", _with_staff, tmp_path) as (settings, built),
        opened(settings, headers=built[0]) as api,
    ):
        yield Console(api, dict(built[1]))


def console_settings(**values: object) -> ConsoleSettings:
    """Console settings for a test."""
    return ConsoleSettings.model_validate(values)
