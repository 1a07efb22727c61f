"""Staff single sign-on against a local OpenID Connect issuer the test starts: a provisioned
person signs in with the role their ID token claims; an unknown person, a role claim that
differs from the account's, and a forged state are refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from api.http.app import create_app
from api.http.console.settings import ConsoleSettings
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import TestClient, api_settings
from tests.console.issuer import CLIENT_ID, CLIENT_SECRET, Issuer, running_issuer


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    """The local issuer."""
    with running_issuer() as started:
        yield started


@pytest.fixture
def browser(settings: Settings, issuer: Issuer) -> Iterator[TestClient]:
    """The app configured for SSO at the local issuer, with one provisioned clerk."""
    console = ConsoleSettings.model_validate(
        {
            "oidc_issuer": issuer.url,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
        }
    )
    app = create_app(settings, api_settings(), console)
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.console.staff.create(
            login="wang.li",
            role="window",
            display_name="王丽",
            oidc_issuer=issuer.url,
            oidc_subject="u-1001",
        )
        yield client


def _sso(browser: TestClient, state: str | None = None) -> httpx.Response:
    """Start the sign-in, let the issuer answer, and come back with its code."""
    start = browser.get("/ui/login/oidc", follow_redirects=False)
    assert start.status_code == 303
    at_issuer = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_issuer.status_code == 302
    back = urlsplit(at_issuer.headers["location"])
    query = back.query
    if state is not None:
        query = query.split("&state=")[0] + f"&state={state}"
    return browser.get(f"{back.path}?{query}", follow_redirects=False)


def test_a_provisioned_person_signs_in_with_the_role_their_token_claims(
    browser: TestClient, issuer: Issuer
) -> None:
    assert "统一身份认证" in browser.get("/ui/login").text
    issuer.person = {"sub": "u-1001", "eport_role": "window", "name": "王丽"}
    answer = _sso(browser)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/ui/window"
    page = browser.get("/ui/window")
    assert page.status_code == 200
    assert "王丽 · 窗口" in page.text


@pytest.mark.parametrize(
    ("person", "words"),
    [
        ({"sub": "u-9999", "eport_role": "window"}, "未在本系统开通账号"),
        ({"sub": "u-1001", "eport_role": "auditor"}, "角色与本系统账号不符"),
        ({"sub": "u-1001"}, "角色与本系统账号不符"),
    ],
)
def test_an_unknown_person_or_another_role_is_refused(
    browser: TestClient, issuer: Issuer, person: dict[str, str], words: str
) -> None:
    issuer.person = person
    answer = _sso(browser)
    assert answer.status_code == 403
    assert words in answer.text
    assert browser.get("/ui/window", follow_redirects=False).status_code == 303


def test_a_forged_state_is_refused(browser: TestClient, issuer: Issuer) -> None:
    issuer.person = {"sub": "u-1001", "eport_role": "window"}
    answer = _sso(browser, state="forged")
    assert answer.status_code == 403
    assert browser.get("/ui/window", follow_redirects=False).status_code == 303
