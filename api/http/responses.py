"""JSON responses rendered by orjson (FastAPI's own ORJSONResponse is deprecated in 0.12x+)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response


class OrjsonResponse(JSONResponse):
    """`application/json` rendered by orjson (UTF-8, no ASCII escaping)."""

    def render(self, content: Any) -> bytes:
        """The body bytes."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemResponse(OrjsonResponse):
    """An RFC 9457 problem document."""

    media_type = "application/problem+json"


def model_response(model: BaseModel) -> Response:
    """A model a query already built and validated, serialised once by pydantic's core.

    Returned as a Response, it skips FastAPI's second validation against the route's response
    model (which runs in a worker thread for sync routes); the response model still documents
    the answer in OpenAPI, and the tests check answers against that schema.
    """
    return Response(model.model_dump_json(by_alias=True).encode(), media_type="application/json")
