"""Every refusal as an RFC 9457 problem document, with the rule and the fields at fault."""

from __future__ import annotations

import logging
import sqlite3
import traceback
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.http.refusals import REFUSALS, refusal
from api.http.responses import ProblemResponse
from api.http.schemas.common import FieldProblem, Problem
from domain.base import ConflictError, DomainError, NotFoundError
from ledger_store.application.idempotency import IdempotencyMismatchError
from ledger_store.application.results import VersionMismatchError
from projections.engine.freshness import ViewNotCaughtUpError

log = logging.getLogger("eport.api")

PROBLEM_TYPE: Final = "urn:eport-ledger:problem:"
UNAVAILABLE: Final = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    sqlite3.OperationalError,
)
"""The database is down, unreachable or busy: 503 with Retry-After, nothing was half-written."""

TITLES: Final = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Refused by a rule",
    429: "Too many failed authentications",
    500: "Internal error",
    503: "Temporarily unavailable",
}


class ProblemError(Exception):
    """Raised by routes and dependencies to answer with a problem document."""

    def __init__(
        self,
        status: int,
        rule: str,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.rule = rule
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})


def problem(
    request: Request,
    status: int,
    rule: str,
    detail: str,
    errors: Iterable[tuple[str | None, str]] = (),
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    """A problem response for this request, titled by its rule (api/http/refusals.py)."""
    titles = refusal(rule, status)
    body = Problem(
        type=PROBLEM_TYPE + rule,
        title=titles.en,
        title_zh=titles.zh,
        status=status,
        detail=detail,
        instance=request.url.path,
        rule=rule,
        errors=[FieldProblem(field=field, message=message) for field, message in errors],
        request_id=request.scope.get("state", {}).get("request_id"),
        **extra,
    )
    if status < 500:
        _count_refusal(request, rule)
    return ProblemResponse(
        body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers
    )


def _count_refusal(request: Request, rule: str) -> None:
    """`eport_refusals_total{rule}` (api/http/metrics.py) of the app that answers."""
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.refusals.labels(rule).inc()


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a dotted field path (`body` dropped, `query.x` kept)."""
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_errors(errors: Sequence[Any]) -> list[tuple[str | None, str]]:
    return [
        (field_path(error.get("loc", ())), str(error.get("msg", "invalid"))) for error in errors
    ]


def _domain_status(error: DomainError) -> int:
    """The rule's status (api/http/refusals.py); by the error's kind for a rule not listed."""
    if error.rule in REFUSALS:
        return REFUSALS[error.rule].status
    if isinstance(error, NotFoundError):
        return 404
    return 409 if isinstance(error, ConflictError) else 422


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a problem document."""

    @app.exception_handler(ProblemError)
    async def api_problem(request: Request, error: ProblemError) -> ProblemResponse:
        errors = [(error.field, error.detail)] if error.field else []
        return problem(request, error.status, error.rule, error.detail, errors, error.headers)

    @app.exception_handler(VersionMismatchError)
    async def version_mismatch(request: Request, error: VersionMismatchError) -> ProblemResponse:
        return problem(  # RFC 9110 §13.1.1: a failed If-Match is 412, not a conflict
            request,
            412,
            error.rule,
            error.message,
            [("header.If-Match", error.message)],
            headers={"ETag": f'"{error.current}"'},
            current_version=error.current,
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> ProblemResponse:
        errors = [(error.field, error.message)] if error.field else []
        return problem(request, _domain_status(error), error.rule, error.message, errors)

    @app.exception_handler(IdempotencyMismatchError)
    async def idempotency_mismatch(
        request: Request, error: IdempotencyMismatchError
    ) -> ProblemResponse:
        detail = str(error)
        return problem(
            request, 422, "idempotency_key_reused", detail, [("header.Idempotency-Key", detail)]
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, error: RequestValidationError) -> ProblemResponse:
        errors = _validation_errors(error.errors())
        detail = "; ".join(f"{field}: {message}" for field, message in errors[:5])
        return problem(request, 422, "invalid_request", detail, errors)

    @app.exception_handler(ValidationError)
    async def model_invalid(request: Request, error: ValidationError) -> ProblemResponse:
        errors = _validation_errors(error.errors(include_input=False))
        detail = "; ".join(f"{field}: {message}" for field, message in errors[:5])
        return problem(request, 422, "invalid_request", detail, errors)

    @app.exception_handler(ViewNotCaughtUpError)
    async def views_behind(request: Request, error: ViewNotCaughtUpError) -> ProblemResponse:
        return problem(
            request,
            503,
            "views_behind",
            f"the views have not reached ledger position {error.wanted} yet; retry shortly",
            [("query.min_position", str(error))],
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> ProblemResponse:
        status = error.status_code
        rule = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
        detail = str(error.detail) if error.detail else HTTPStatus(status).description
        headers = dict(error.headers or {})
        if status == 405:  # the route that refused knows only its own methods, not the path's
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(request, status, rule, detail, headers=headers)

    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, _unavailable)


METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app fully matches for this request's path (RFC 9110
    §15.5.6: a 405 lists them in `Allow`), asked of every route and router, as Starlette does."""
    routes = request.scope["app"].router.routes
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


async def _unavailable(request: Request, error: Exception) -> ProblemResponse:
    log.warning(
        "database unavailable",
        extra={"error_type": type(error).__name__, "route": _route(request)},
    )
    return problem(
        request,
        503,
        "database_unavailable",
        "the ledger's database cannot be reached right now; retry with the same Idempotency-Key",
        headers={"Retry-After": "2"},
    )


def log_unexpected(error: BaseException, route: str | None) -> None:
    """Log an unexpected error by type and frames only: its message may hold request data."""
    frames = traceback.extract_tb(error.__traceback__)
    where = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in frames[-8:]]
    log.error(
        "unhandled error",
        extra={"error_type": type(error).__name__, "route": route, "frames": where},
    )


def _route(request: Request) -> str | None:
    route = request.scope.get("route")
    return getattr(route, "name", None)


PROBLEMS: Final[dict[int | str, dict[str, Any]]] = {
    status: {
        "model": Problem,
        "description": TITLES[status],
        "content": {"application/problem+json": {}},
    }
    for status in (400, 401, 403, 404, 409, 412, 422, 429, 503)
}
"""The problem answers every route may give, for the OpenAPI document."""
