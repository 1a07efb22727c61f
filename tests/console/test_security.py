"""The console refuses what it must, on both backends: forms without the session's CSRF token
or posted from another site, a session id chosen before sign-in (fixation), one role's pages
for another, idle and signed-out sessions; cookies are HttpOnly, SameSite and Secure on TLS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.http.schemas import examples
from tests.console.conftest import PASSWORD, STAFF, Console, csrf_of, sign_in

USCC = examples.USCC
REVIEW = f"/ui/window/enterprises/{USCC}/review"


def _filed(console: Console) -> None:
    console.api.register()
    console.api.file_all()


def test_a_form_without_the_sessions_csrf_token_is_refused_and_records_nothing(
    console: Console,
) -> None:
    _filed(console)
    clerk = console.sign_in("window")
    token = csrf_of(clerk.get(f"/ui/window/enterprises/{USCC}").text)
    before = console.api.services.ledger.position()
    for form in ({"decision": "approve"}, {"decision": "approve", "csrf": "forged-" + token}):
        answer = clerk.post(REVIEW, data=form, follow_redirects=False)
        assert answer.status_code == 403
        assert "页面已过期" in answer.text
    cross_site = clerk.post(
        REVIEW,
        data={"decision": "approve", "csrf": token},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    assert console.api.services.ledger.position() == before
    # the same form with the token is accepted (so the refusals above were the token's doing)
    accepted = clerk.post(
        REVIEW, data={"decision": "approve", "csrf": token}, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert console.api.services.ledger.position() > before


def test_the_sign_in_form_needs_its_own_csrf_cookie(console: Console) -> None:
    browser = console.browser()
    login, _ = STAFF["window"]
    answer = browser.post(
        "/ui/login", data={"login": login, "password": PASSWORD, "login_csrf": "x" * 43}
    )
    assert answer.status_code == 403
    assert "eport_console" not in browser.cookies


def test_a_session_id_set_before_sign_in_is_never_taken_over(console: Console) -> None:
    victim = console.browser()
    victim.cookies.set("eport_console", "attacker-chosen-session-id", path="/ui")
    answer = sign_in(victim, STAFF["window"][0], PASSWORD)
    assert answer.status_code == 303
    issued = answer.cookies.get("eport_console")
    assert issued
    assert issued != "attacker-chosen-session-id"
    attacker = console.browser()
    attacker.cookies.set("eport_console", "attacker-chosen-session-id", path="/ui")
    assert attacker.get("/ui/window", follow_redirects=False).status_code == 303
    # signing in again rotates the id; the old one is dead
    again = sign_in(victim, STAFF["window"][0], PASSWORD)
    renewed = again.cookies.get("eport_console")
    assert renewed
    assert renewed != issued
    stale = console.browser()
    stale.cookies.set("eport_console", issued, path="/ui")
    assert (
        stale.get("/ui/window", follow_redirects=False).headers["location"].startswith("/ui/login")
    )


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("hotline", "/ui/window"),
        ("hotline", "/ui/audit"),
        ("window", "/ui/audit/history"),
        ("window", "/ui/hotline"),
        ("auditor", "/ui/window"),
        ("auditor", f"/ui/window/enterprises/{USCC}"),
        ("window", "/ui/admin"),
        ("window", "/ui/enterprise"),
    ],
)
def test_one_roles_pages_are_refused_to_another(console: Console, role: str, path: str) -> None:
    browser = console.sign_in(role)
    answer = browser.get(path, follow_redirects=False)
    assert answer.status_code == 403
    assert "无权访问" in answer.text


def test_another_roles_command_is_refused_even_with_a_valid_token(console: Console) -> None:
    _filed(console)
    auditor = console.sign_in("auditor")
    token = csrf_of(auditor.get("/ui/audit").text)
    before = console.api.services.ledger.position()
    answer = auditor.post(REVIEW, data={"decision": "approve", "csrf": token})
    assert answer.status_code == 403
    assert console.api.services.ledger.position() == before


def test_without_a_session_every_page_sends_to_sign_in(console: Console) -> None:
    browser = console.browser()
    for path in ("/ui/window", "/ui/hotline", "/ui/audit", f"/ui/window/keys/{examples.LP_CARD}"):
        answer = browser.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login?next=")


def test_an_idle_session_ends_and_sign_out_ends_it_at_once(console: Console) -> None:
    clerk = console.sign_in("window")
    assert clerk.get("/ui/window").status_code == 200
    sessions = console.api.client.app.state.console.sessions  # type: ignore[attr-defined]
    long_ago = (datetime.now(UTC) - timedelta(minutes=31)).isoformat()
    with sessions.database.transaction() as cursor:
        cursor.execute(f"UPDATE {sessions.sessions} SET last_seen = ?", (long_ago,))
    answer = clerk.get("/ui/window", follow_redirects=False)
    assert answer.status_code == 303
    assert "expired=1" in answer.headers["location"]

    clerk = console.sign_in("window")
    token = csrf_of(clerk.get("/ui/window").text)
    cookie = clerk.cookies.get("eport_console")
    assert clerk.post("/ui/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    replay = console.browser()
    replay.cookies.set("eport_console", str(cookie), path="/ui")
    assert replay.get("/ui/window", follow_redirects=False).status_code == 303


def test_cookies_are_httponly_samesite_and_secure_behind_tls(console: Console) -> None:
    plain = sign_in(console.browser(), STAFF["hotline"][0], PASSWORD)
    cookie = plain.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie.split("eport_console=")[1].split(",")[0]
    tls = console.browser()
    tls.base_url = tls.base_url.copy_with(scheme="https")  # type: ignore[assignment]
    answer = sign_in(tls, STAFF["hotline"][0], PASSWORD)
    session_cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("eport_console=")
    )
    assert "secure" in session_cookie.lower()


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    console: Console,
) -> None:
    for login, password in ((STAFF["window"][0], "wrong password!"), ("nobody", PASSWORD)):
        answer = sign_in(console.browser(), login, password)
        assert answer.status_code == 401
        assert "账号或密码不正确" in answer.text


def test_pages_forbid_framing_and_outside_resources(console: Console) -> None:
    page = console.sign_in("hotline").get("/ui/hotline")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert "http://" not in page.text
    assert "https://" not in page.text
