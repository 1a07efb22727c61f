"""The OpenAPI document: readable operation ids, problem answers typed
`application/problem+json`, and the headers the middleware honours declared on every operation
they apply to (no header is honoured without being declared)."""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.http.conditional import READ_PREFIX

REQUEST_ID: Final = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "your id for the request, echoed and recorded in its events (else one is made)",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"},
}
IF_NONE_MATCH: Final = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "the ETag of the answer you hold: 304 without a body if it is still current",
    "schema": {"type": "string", "maxLength": 1000},
}
ETAG: Final = {"ETag": {"description": "the answer's entity tag", "schema": {"type": "string"}}}
NOT_MODIFIED: Final = {
    "description": "Not Modified: the answer you hold (If-None-Match) is current; no body",
    "headers": ETAG,
}


def operation_id(route: APIRoute) -> str:
    """A route's operation id: its endpoint's name (`get_key`, `record_pin_attempt`)."""
    return route.name


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, made once."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                _problems_typed(operation)
                _headers_declared(path, method, operation)
        app.openapi_schema = schema
    return app.openapi_schema


def _problems_typed(operation: dict[str, Any]) -> None:
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content", {})
        if status[0] in "45" and "application/json" in content:
            content["application/problem+json"] = content.pop("application/json")


def _headers_declared(path: str, method: str, operation: dict[str, Any]) -> None:
    """X-Request-ID everywhere (api/http/middleware.py); If-None-Match, the ETag and 304 on
    the reads that api/http/conditional.py tags; the ETag of a command's answer."""
    parameters = operation.setdefault("parameters", [])
    parameters.append(dict(REQUEST_ID))
    responses = operation.setdefault("responses", {})
    names = {parameter["name"] for parameter in parameters if parameter["in"] == "header"}
    if method == "get" and path.startswith(READ_PREFIX):
        parameters.append(dict(IF_NONE_MATCH))
        responses.setdefault("200", {}).setdefault("headers", {}).update(ETAG)
        responses["304"] = dict(NOT_MODIFIED)
    elif "Idempotency-Key" in names:
        for status in ("200", "201"):
            if status in responses:
                responses[status].setdefault("headers", {}).update(ETAG)
