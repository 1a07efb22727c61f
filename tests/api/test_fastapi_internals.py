"""The private FastAPI internals our routing relies on are still there and still behave.

`api/http/routing.py` (`PrefixRouter`) overrides `APIRouter.matches`: it pays off only because
FastAPI (since 0.137) includes a router lazily, wrapping it in `fastapi.routing._IncludedRouter`,
whose `matches` asks the router's own `matches` on every request. `api/http/middleware.py` names
routes by their full template through `fastapi.routing.iter_route_contexts` (since 0.138). Both
are private, so pyproject.toml caps fastapi below its next minor release; raise the cap only once
this file passes on the new version.
"""

from __future__ import annotations

from typing import Any

import fastapi
import fastapi.routing
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match
from starlette.types import Scope

from api.http.middleware import route_templates
from api.http.routing import PrefixRouter

BROKEN = (
    f"FastAPI {fastapi.__version__} changed an internal that api/http/routing.py (PrefixRouter) "
    "or api/http/middleware.py relies on: {what}. Keep fastapi below this version in "
    "pyproject.toml until the router and the middleware are adapted."
)


class CountingRouter(PrefixRouter):
    """A PrefixRouter that notes every answer its `matches` gives."""

    def __init__(self, prefix: str, answers: list[tuple[str, str, Match]]) -> None:
        super().__init__(prefix=prefix)
        self.answers = answers

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        self.answers.append((self.prefix, str(scope["path"]), match))
        return match, child_scope


def two_router_app(answers: list[tuple[str, str, Match]]) -> FastAPI:
    keys, audit = CountingRouter("/v1/keys", answers), CountingRouter("/v1/audit", answers)

    @keys.get("/{card_no}")
    def key(card_no: str) -> dict[str, Any]:
        return {"card_no": card_no}

    @audit.get("/events")
    def events() -> list[Any]:
        return []

    app = FastAPI()
    app.include_router(audit)  # tried first: it must rule itself out for /v1/keys/...
    app.include_router(keys)
    return app


def test_include_router_wraps_the_router_it_includes() -> None:
    wrapper = getattr(fastapi.routing, "_IncludedRouter", None)
    assert wrapper is not None, BROKEN.format(what="fastapi.routing._IncludedRouter is gone")
    router = PrefixRouter(prefix="/v1/keys")
    router.get("/{card_no}")(lambda card_no: card_no)
    app = FastAPI()
    app.include_router(router)
    included = [route for route in app.router.routes if isinstance(route, wrapper)]
    assert [getattr(route, "original_router", None) for route in included] == [router], (
        BROKEN.format(
            what="include_router no longer keeps the router itself (lazily) in the app's routes"
        )
    )


def test_each_request_asks_the_included_routers_whether_they_match() -> None:
    answers: list[tuple[str, str, Match]] = []
    client = TestClient(two_router_app(answers))

    response = client.get("/v1/keys/0123456789012345")

    assert response.status_code == 200, response.text
    assert response.json() == {"card_no": "0123456789012345"}
    assert ("/v1/audit", "/v1/keys/0123456789012345", Match.NONE) in answers, BROKEN.format(
        what=f"an included router's matches() is not asked per request (asked: {answers})"
    )
    assert ("/v1/keys", "/v1/keys/0123456789012345", Match.FULL) in answers, BROKEN.format(
        what=f"APIRouter.matches no longer matches the router's own routes (asked: {answers})"
    )


def test_prefix_routers_still_route_under_a_root_path() -> None:
    answers: list[tuple[str, str, Match]] = []
    client = TestClient(two_router_app(answers), root_path="/ledger")

    # As a server started with --root-path sends it: the path includes the root path.
    assert client.get("/ledger/v1/keys/K-1").json() == {"card_no": "K-1"}
    assert client.get("/ledger/v1/audit/events").json() == []
    assert client.get("/ledger/v1/tokens").status_code == 404
    assert ("/v1/audit", "/ledger/v1/keys/K-1", Match.NONE) in answers
    assert ("/v1/keys", "/ledger/v1/keys/K-1", Match.FULL) in answers


def test_route_contexts_give_the_full_template_of_an_included_route() -> None:
    assert hasattr(fastapi.routing, "iter_route_contexts"), BROKEN.format(
        what="fastapi.routing.iter_route_contexts is gone (request logs and metrics name routes "
        "with it)"
    )
    templates = {path for path, _ in route_templates(two_router_app([])).values()}
    assert {"/v1/keys/{card_no}", "/v1/audit/events"} <= templates, BROKEN.format(
        what=f"iter_route_contexts no longer yields full route templates ({sorted(templates)})"
    )
