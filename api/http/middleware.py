"""One pure-ASGI middleware: request ids, the access log, latency metrics, last-resort 500s."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any, Final

import orjson
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.errors import PROBLEM_TYPE, log_unexpected
from api.http.metrics import Metrics
from api.http.refusals import REFUSALS

log = logging.getLogger("eport.api.access")

REQUEST_ID_HEADER: Final = b"x-request-id"
_VALID_ID: Final = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _VALID_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


def route_templates(app: Any) -> dict[int, tuple[str, frozenset[str]]]:
    """Every route of the app by id: its full path template (prefix included) and methods.

    FastAPI (since 0.137) includes routers lazily, so `scope["route"]` is the router's own route
    whose `path` lacks the prefix; `iter_route_contexts` (since 0.138) gives the full template.
    """
    return {
        id(context.original_route): (
            str(context.path_format or context.path),
            frozenset(context.methods or ()),
        )
        for context in iter_route_contexts(app.routes)
    }


_TEMPLATES: dict[int, tuple[object, str]] = {}
"""Route → its full template, for every app of the process: the routers are module-level, so
their routes are shared by every app built (each test builds one), and finding the templates
builds every route's FastAPI state (about 0.25 s), which is then paid once per process. The
route itself is kept beside its template so a reused id never names another route."""


def route_template(app: Any, route: object) -> str:
    """The full path template of one of `app`'s routes (its prefix included)."""
    known = _TEMPLATES.get(id(route))
    if known is None or known[0] is not route:
        for context in iter_route_contexts(app.routes):
            template = str(context.path_format or context.path)
            _TEMPLATES[id(context.original_route)] = (context.original_route, template)
        known = _TEMPLATES.get(id(route))
    if known is None or known[0] is not route:
        return str(getattr(route, "path", "unmatched"))
    return known[1]


class RequestContextMiddleware:
    """Gives each request an id (X-Request-ID, echoed), times it, logs it and counts it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def _route_template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return "unmatched"
        return route_template(scope["app"], route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (other scopes pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            log_unexpected(error, self._route_template(scope))
            if response_started:
                raise
            status = 500
            await self._internal_error(scope, send_with_id, request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = self._route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.latency.labels(method, route, str(status)).observe(elapsed)
            principal = scope["state"].get("principal")
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "token_id": getattr(principal, "token_id", None),
                    "role": getattr(getattr(principal, "role", None), "value", None),
                },
            )

    @staticmethod
    async def _internal_error(scope: Scope, send: Send, request_id: str) -> None:
        await _send_problem(
            scope, send, 500, "internal_error", "an unexpected error occurred", [], request_id
        )


class BodyTooLargeError(Exception):
    """The request body passed the configured limit while it was being read."""


class BodyLimitMiddleware:
    """Refuse request bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length first, then count what is actually received."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await self._too_large(scope, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await _send_problem(
            scope,
            send,
            413,
            "body_too_large",
            f"request bodies are limited to {self.max_bytes} bytes",
            [{"field": "body", "message": f"more than {self.max_bytes} bytes"}],
            scope.get("state", {}).get("request_id") or _request_id(scope),
        )


async def _send_problem(
    scope: Scope,
    send: Send,
    status: int,
    rule: str,
    detail: str,
    errors: list[dict[str, str]],
    request_id: str,
) -> None:
    """Answer with a problem document straight through ASGI, from a middleware outside the
    app's exception handlers (the same document they would write)."""
    body = orjson.dumps(
        {
            "type": PROBLEM_TYPE + rule,
            "title": REFUSALS[rule].en,
            "title_zh": REFUSALS[rule].zh,
            "status": status,
            "detail": detail,
            "instance": scope.get("path"),
            "rule": rule,
            "errors": errors,
            "request_id": request_id,
        }
    )
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
