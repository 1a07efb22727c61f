"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright against a real
`eport-ledger serve` subprocess, on SQLite and on PostgreSQL.

Every page a test opens is recorded: a request to anything but the server itself fails the
test (the console must work on an intranet with no internet). Screenshots go to
`build/screenshots/<backend>/` (or `$EPORT_SCREENSHOTS`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.console.accounts import StaffStore
from api.http.schemas import examples
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from tests.conftest import IN_CI, LedgerTemplates
from tests.reliability.processes import ROOT, ServedApi, issue_tokens

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
STAFF = {
    "window": ("lin.fang", "林芳"),
    "hotline": ("zhou.min", "周敏"),
    "auditor": ("he.jun", "何军"),
    "enterprise": ("yefeng", "椰风贸易"),
}
SCREENSHOTS = Path(os.environ.get("EPORT_SCREENSHOTS") or ROOT / "build" / "screenshots")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium per test module (skipped visibly without it, except in CI).

    Module scope, not session: Playwright's sync API keeps an event loop running on the
    main thread while it is open, and later tests that call `asyncio.run` must not see it.
    """
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Served:
    """The running server, API tokens for setting up the story, and the staff's ids."""

    server: ServedApi
    backend: str
    tokens: dict[str, str]
    staff_ids: dict[str, str]
    shots: Path
    outside: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    def call(self, role: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """One API call as the role (a 2xx is required)."""
        answer = httpx.request(
            method,
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=30,
        )
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json() if answer.content else {}
        return result

    def register(self) -> None:
        """The example enterprise registers with its customs receipt."""
        self.call(
            "enterprise",
            "POST",
            "/v1/enterprises",
            {
                "uscc": examples.USCC,
                "name": examples.COMPANY,
                "customs_code": examples.CUSTOMS_CODE,
                "receipt_number": examples.RECEIPT_NUMBER,
            },
        )

    def register_and_file(self) -> None:
        """The example enterprise registers and files all four filings."""
        self.register()
        for kind, body in examples.FILINGS.items():
            self.call("enterprise", "POST", f"/v1/enterprises/{examples.USCC}/filings/{kind}", body)

    def lock(self, card_no: str) -> int:
        """Five wrong PINs: the key locks; the ledger position reached."""
        position = 0
        for _ in range(5):
            answer = self.call(
                "enterprise", "POST", f"/v1/keys/{card_no}/pin-attempts", {"ok": False}
            )
            position = int(answer["position"])
        return position

    def page(self, browser: Any) -> Any:
        """A new browser tab at a counter screen's size, Chinese, recording every request."""
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()

        def seen(request: Any) -> None:
            if not request.url.startswith((self.url, "data:", "about:")):
                self.outside.append(request.url)

        page.on("request", seen)
        return page

    def sign_in(self, page: Any, role: str) -> None:
        """Sign in through the form as the role's staff account."""
        login, _ = STAFF[role]
        page.goto(self.url + "/ui/login")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/ui/login" not in page.url, page.content()[:2000]

    def shot(self, page: Any, name: str, *, full: bool = True) -> Path:
        """A screenshot of the page as the person sees it."""
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=full)
        return path


def _staff_and_tokens(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """Template: the staff accounts (argon2 hashes: ~0.5 s) and the API tokens; their ids and
    the tokens."""
    ledger = EventStore(settings)
    try:
        store = StaffStore(ledger.database)
        staff_ids = {
            role: store.create(
                login=login,
                role=role,
                display_name=name,
                password=PASSWORD,
                uscc=examples.USCC if role == "enterprise" else None,
            ).staff_id
            for role, (login, name) in STAFF.items()
        }
    finally:
        ledger.close()
    window, enterprise, auditor = issue_tokens(
        settings, ("window", None), ("enterprise", examples.USCC), ("auditor", None)
    )
    return staff_ids, {"window": window, "enterprise": enterprise, "auditor": auditor}


@pytest.fixture
def served(
    backend: str, tmp_path: Path, ledger_templates: LedgerTemplates, request: pytest.FixtureRequest
) -> Iterator[Served]:
    """`eport-ledger serve` on a fresh ledger, with staff accounts and API tokens (the ledger
    a copy of one prepared once per session: tests/conftest.py, LedgerTemplates)."""
    if backend == "postgres":
        request.getfixturevalue("postgres_available")
    with ledger_templates.copy(backend, "browser", _staff_and_tokens, tmp_path) as (
        settings,
        built,
    ):
        yield from _serve(settings, backend, tmp_path, dict(built[0]), dict(built[1]))


def _serve(
    settings: Settings,
    backend: str,
    tmp_path: Path,
    staff_ids: dict[str, str],
    tokens: dict[str, str],
) -> Iterator[Served]:
    server = ServedApi(settings, tmp_path / "serve.log")
    server.start()
    shots = SCREENSHOTS / backend
    shots.mkdir(parents=True, exist_ok=True)
    served = Served(server, backend, tokens, staff_ids, shots)
    try:
        yield served
    finally:
        server.stop()
    assert not served.outside, f"pages loaded from outside the server: {served.outside}"
    log = server.output()
    operator = examples.FILINGS["three_in_one"]["materials"]["ic_card_registration_form"][
        "operator"
    ]
    for secret in (PASSWORD, operator["phone"][3:], operator["id_number"]):
        assert secret not in log, f"the server log holds personal data or a secret: {secret}"


def verify_proof_command() -> list[str]:
    """How a test runs `eport-ledger verify-proof` (the installed script, else the module)."""
    script = Path(sys.executable).parent / "eport-ledger"
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli.main"]
