"""Abuse limits hit the abuser: failed authentications never lock out valid tokens, each
principal has its own request budget, X-Forwarded-For counts only from a configured proxy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.app import create_app
from api.http.deps import Services
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import Api, TestClient, api_settings, opened
from tests.console.conftest import PASSWORD, STAFF, Console

PEER = "x-test-peer"
"""The socket peer a request comes from, in these tests only (see `PeerFromHeader`)."""
BAD = {"Authorization": "Bearer epl_guessing_guessing_guessing"}


class PeerFromHeader:
    """Stands in for the network: the request's socket peer is the `x-test-peer` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == PEER.encode():
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


@contextmanager
def served(settings: Settings, **overrides: object) -> Iterator[Api]:
    """The app behind `PeerFromHeader`, with a window and an auditor token."""
    app = create_app(settings, api_settings(**overrides))
    with TestClient(PeerFromHeader(app), raise_server_exceptions=False) as client:
        services: Services = app.state.services
        api = Api(client, {})
        for role in ("window", "auditor"):
            token = services.tokens.issue(role).token
            api.headers[role] = {"Authorization": f"Bearer {token}"}
        yield api


def get(api: Api, peer: str, headers: dict[str, str], **extra: str) -> int:
    """The status of one authenticated read from `peer`."""
    response = api.client.get("/v1/audit/public-key", headers={**headers, PEER: peer, **extra})
    return response.status_code


def test_a_valid_token_passes_after_30_failures_from_its_own_address(settings: Settings) -> None:
    with served(settings, auth_failures_per_minute=30) as api:
        failures = [get(api, "192.0.2.10", BAD) for _ in range(30)]
        assert failures == [401] * 30
        assert get(api, "192.0.2.10", BAD) == 429  # the guesser is stopped …
        assert get(api, "192.0.2.10", api.as_("window")) == 200  # … its neighbour is not
        missing = api.client.get("/v1/audit/public-key", headers={PEER: "192.0.2.10"})
        assert missing.status_code == 429  # no token at all: limited like a wrong one
        assert int(missing.headers["Retry-After"]) >= 1
        assert get(api, "192.0.2.11", BAD) == 401  # another address has its own count


def test_each_principal_has_its_own_request_budget(settings: Settings) -> None:
    with served(settings, principal_requests_per_second=0.001, principal_burst=3) as api:
        window = [get(api, "192.0.2.20", api.as_("window")) for _ in range(3)]
        assert window == [200, 200, 200]
        refused = api.client.get(
            "/v1/audit/public-key", headers={**api.as_("window"), PEER: "192.0.2.20"}
        )
        assert (refused.status_code, refused.json()["rule"]) == (429, "too_many_requests")
        assert int(refused.headers["Retry-After"]) >= 1
        assert get(api, "192.0.2.20", api.as_("auditor")) == 200  # same address, other token
        assert get(api, "192.0.2.21", api.as_("window")) == 429  # the token, wherever it is


def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(
    settings: Settings,
) -> None:
    with served(settings, auth_failures_per_minute=2, trusted_proxies="10.0.0.1") as api:
        for n in range(2):
            assert get(api, "192.0.2.30", BAD, **{"X-Forwarded-For": f"198.51.100.{n}"}) == 401
        # a new forwarded address each time does not make a new client: the peer is the client
        assert get(api, "192.0.2.30", BAD, **{"X-Forwarded-For": "198.51.100.9"}) == 429


def test_without_trusted_proxies_even_loopback_is_the_client_itself(settings: Settings) -> None:
    with served(settings, auth_failures_per_minute=2) as api:
        for n in range(2):
            assert get(api, "127.0.0.1", BAD, **{"X-Forwarded-For": f"198.51.100.{n}"}) == 401
        assert get(api, "127.0.0.1", BAD, **{"X-Forwarded-For": "198.51.100.9"}) == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(settings: Settings) -> None:
    with served(settings, auth_failures_per_minute=2, trusted_proxies="10.0.0.0/24") as api:
        via_proxy = {"X-Forwarded-For": "198.51.100.1, 10.0.0.7"}  # two proxies of ours
        assert [get(api, "10.0.0.1", BAD, **via_proxy) for _ in range(3)] == [401, 401, 429]
        other = {"X-Forwarded-For": "198.51.100.2"}
        assert get(api, "10.0.0.1", BAD, **other) == 401  # another client behind the proxy
        assert get(api, "10.0.0.1", api.as_("window"), **via_proxy) == 200


def test_a_console_session_has_its_staff_members_own_request_budget(settings: Settings) -> None:
    with opened(settings, principal_requests_per_second=0.001, principal_burst=2) as api:
        staff = api.client.app.state.console.staff  # type: ignore[attr-defined]
        for role in ("window", "hotline"):
            login, name = STAFF[role]
            staff.create(login=login, role=role, display_name=name, password=PASSWORD)
        console = Console(api, {})
        window, hotline = console.sign_in("window"), console.sign_in("hotline")
        assert [window.get("/ui/window").status_code for _ in range(2)] == [200, 200]
        refused = window.get("/ui/window")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert hotline.get("/ui/hotline").status_code == 200
