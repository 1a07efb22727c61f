"""Fixtures of the API tests: the app on each backend, tokens per role, an enrolled enterprise."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    # Starlette asks for `httpx2`; the test extra installs httpx (pyproject.toml). Import it once,
    # quietly, so the deprecation does not turn into an error under `-W error`.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.deps import Services
from api.http.schemas import examples
from api.http.settings import ApiSettings
from ledger_store.eventstore.settings import Settings
from projections.engine.freshness import wait_for_position
from projections.registry import TRACKED
from tests.conftest import LedgerTemplates

OTHER_USCC = "91350100M000100Y43"
ROLES = ("enterprise", "window", "hotline", "auditor", "admin")


def api_settings(**overrides: object) -> ApiSettings:
    """Service settings for tests: no background checkpoints, generous abuse limits (their own
    tests set them: tests/api/test_abuse_limits.py)."""
    values: dict[str, object] = {
        "checkpoints": False,
        "auth_failures_per_minute": 10_000,
        "principal_requests_per_second": 0,
        "query_wait_seconds": 5.0,
        "log_json": False,
    }
    values.update(overrides)
    return ApiSettings.model_validate(values)


@dataclass
class Api:
    """A TestClient with one token per role, and helpers to drive the process."""

    client: TestClient
    headers: dict[str, dict[str, str]]

    @property
    def services(self) -> Services:
        """The running app's services (ledger, tokens, projector)."""
        services: Services = self.client.app.state.services  # type: ignore[attr-defined]
        return services

    def token(self, role: str, uscc: str | None = None, name: str | None = None) -> str:
        """A new token of the role, straight from the store."""
        return str(self.services.tokens.issue(role, uscc=uscc, name=name).token)

    def as_(self, role: str) -> dict[str, str]:
        """The Authorization header of the role's token."""
        return self.headers[role]

    def settle(self) -> None:
        """Wait until every view has applied the whole ledger."""
        ledger = self.services.ledger
        names = [view.name for view in TRACKED]
        assert wait_for_position(ledger.database, names, ledger.position(), timeout=10)

    def post(self, role: str, path: str, body: object = None, **headers: str) -> httpx.Response:
        """POST as the role; extra headers by keyword (Idempotency_Key → Idempotency-Key)."""
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        return self.client.post(path, json=body, headers={**self.as_(role), **extra})

    def get(self, role: str, path: str, **params: Any) -> httpx.Response:
        """GET as the role."""
        return self.client.get(path, params=params, headers=self.as_(role))

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        """The JSON of a response that must have this status."""
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    # -- the process, step by step --------------------------------------------------------------

    def register(self, uscc: str = examples.USCC) -> dict[str, Any]:
        return self.ok(
            self.post(
                "enterprise",
                "/v1/enterprises",
                {
                    "uscc": uscc,
                    "name": examples.COMPANY,
                    "customs_code": examples.CUSTOMS_CODE,
                    "receipt_number": examples.RECEIPT_NUMBER,
                },
            ),
            201,
        )

    def file_all(self, uscc: str = examples.USCC) -> None:
        for kind, body in examples.FILINGS.items():
            self.ok(self.post("enterprise", f"/v1/enterprises/{uscc}/filings/{kind}", body))

    def approve(self, uscc: str = examples.USCC) -> dict[str, Any]:
        return self.ok(
            self.post("window", f"/v1/enterprises/{uscc}/review", {"decision": "approve"})
        )

    def issue_pair(self, uscc: str = examples.USCC) -> dict[str, Any]:
        body = {
            "source": "free_pair",
            "uscc": uscc,
            "legal_person_card_no": examples.LP_CARD,
            "operator_card_no": examples.OP_CARD,
        }
        return self.ok(self.post("window", "/v1/keys", body), 201)

    def hand_over(self) -> None:
        """The window hands both free keys over in person (instead of mailing them)."""
        for card in (examples.LP_CARD, examples.OP_CARD):
            self.ok(self.post("window", f"/v1/keys/{card}/delivery", {"channel": "window"}))

    def mail_and_deliver(self, uscc: str = examples.USCC) -> None:
        """The free pair mailed in one parcel, and its arrival recorded for both keys."""
        path = f"/v1/enterprises/{uscc}/free-pair/mailing"
        self.ok(self.post("window", path, examples.MAILING))
        for card in (examples.LP_CARD, examples.OP_CARD):
            self.ok(self.post("enterprise", f"/v1/keys/{card}/delivery"))

    def enrolled(self, *, mailed: bool = False) -> None:
        """Registered, filed, approved, free pair issued and handed over at the window (or
        `mailed` by EMS and delivered); the legal-person key in use."""
        self.register()
        self.file_all()
        self.approve()
        self.issue_pair()
        if mailed:
            self.mail_and_deliver()
        else:
            self.hand_over()
        self.ok(self.post("enterprise", f"/v1/keys/{examples.LP_CARD}/pin-attempts", {"ok": True}))


@contextmanager
def opened(
    settings: Settings, *, headers: dict[str, dict[str, str]] | None = None, **overrides: object
) -> Iterator[Api]:
    """The app on these settings, started, with a token per role (`headers`: the tokens the
    ledger holds already, as `Api.headers`; else new ones are issued)."""
    app = create_app(settings, api_settings(**overrides))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, {})
        if headers is not None:
            api.headers = {name: dict(header) for name, header in headers.items()}
            yield api
            return
        for role in ROLES:
            uscc = examples.USCC if role == "enterprise" else None
            api.headers[role] = {"Authorization": f"Bearer {api.token(role, uscc)}"}
        api.headers["other_enterprise"] = {
            "Authorization": f"Bearer {api.token('enterprise', OTHER_USCC)}"
        }
        yield api


def _with_tokens(settings: Settings) -> dict[str, dict[str, str]]:
    """Template: a token per role (what `opened` issues)."""
    with opened(settings) as api:
        return api.headers


def _enrolled(settings: Settings) -> dict[str, dict[str, str]]:
    """Template: a token per role, then the example enterprise enrolled (`Api.enrolled`)."""
    with opened(settings) as api:
        api.enrolled()
        return api.headers


@pytest.fixture
def api(
    backend: str,
    tmp_path: Path,
    ledger_templates: LedgerTemplates,
    request: pytest.FixtureRequest,
) -> Iterator[Api]:
    """The API on a fresh ledger, on SQLite and on PostgreSQL, with a token per role; with the
    example enterprise enrolled already when the test asks for `enrolled` too.

    The ledger is a copy of one built once per session through the same app and helpers
    (tests/conftest.py, LedgerTemplates): the same entries at the same positions, in a database
    of the test's own. The app is this test's, so what it keeps in memory (metrics, caches)
    starts empty: a test about the app's own record of the enrollment enrolls through it.
    """
    if backend == "postgres":
        request.getfixturevalue("postgres_available")
    build = _enrolled if "enrolled" in request.fixturenames else _with_tokens
    with (
        ledger_templates.copy(backend, build.__name__, build, tmp_path) as (settings, headers),
        opened(settings, headers=headers) as started,
    ):
        yield started


@pytest.fixture
def enrolled(api: Api) -> Api:
    """The API with the example enterprise enrolled and its free pair issued (the `api`
    fixture's ledger is a copy of one enrolled through `Api.enrolled`)."""
    return api
