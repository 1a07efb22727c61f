"""Routers that rule themselves out by their path prefix before trying their routes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class PrefixRouter(APIRouter):
    """An APIRouter that answers "no match" at once for paths outside its prefix.

    FastAPI (since 0.137) matches included routers lazily, route by route, on every request:
    without this, a request for `/v1/keys/...` is tried against every enterprise, window and
    audit route (about a sixth of a hotline lookup's CPU time, measured with
    `tests/benchmarks/bench_http.py`). It relies on private FastAPI internals (the router is
    asked through `fastapi.routing._IncludedRouter.matches`), hence the cap on fastapi in
    pyproject.toml and `tests/api/test_fastapi_internals.py`.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match only paths under the prefix (after any root path)."""
        if self.prefix and not _route_path(scope).startswith(self.prefix):
            return Match.NONE, {}
        return super().matches(scope)


def _route_path(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path
