"""Conditional GETs (RFC 9110 §13): every read of the API carries an ETag, and a client that
already holds that representation (`If-None-Match`) gets `304 Not Modified` without a body."""

from __future__ import annotations

import hashlib
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READS: Final = frozenset({"GET"})
READ_PREFIX: Final = "/v1/"
"""The reads tagged: the API's (not the console's pages, nor health and metrics)."""


def entity_tag(body: bytes) -> str:
    """A strong entity tag of the body: equal bytes, equal tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(header: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (weak comparison, §13.1.2; `*` names any)."""
    if header is None:
        return False
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or tag.removeprefix("W/") in {
        candidate.removeprefix("W/") for candidate in candidates
    }


class ConditionalGetMiddleware:
    """Tags every 200 answer to a GET under `prefix` by its body, and answers 304 to a request
    whose `If-None-Match` names the tag (its headers kept, its body dropped)."""

    def __init__(self, app: ASGIApp, prefix: str = READ_PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request: reads under the prefix are buffered and tagged, others pass."""
        if (
            scope["type"] != "http"
            or scope["method"] not in READS
            or not str(scope["path"]).startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        wanted = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        body = bytearray()

        async def tag(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] == 200:
                start = message  # held until the whole body is known
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = MutableHeaders(scope=start)
            etag = headers.get("etag") or entity_tag(bytes(body))
            headers["ETag"] = etag
            if none_match(wanted, etag):
                del headers["content-length"]
                del headers["content-type"]
                await send({**start, "status": 304})
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, tag)
