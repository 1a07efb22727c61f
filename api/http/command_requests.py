"""Running a command for a request: context, Idempotency-Key, If-Match, the answer and headers."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Concatenate, Final, ParamSpec

import orjson
from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from api.http.auth import Principal
from api.http.deps import Services
from api.http.errors import UNAVAILABLE, ProblemError
from api.http.responses import OrjsonResponse
from domain.base import CommandContext, ConflictError, DomainError, NotFoundError, Role
from ledger_store.application.idempotency import IdempotencyClaim, IdempotencyMismatchError
from ledger_store.application.reader import Reader
from ledger_store.application.results import CommandResult, Decision

_ETAG: Final = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')

P = ParamSpec("P")
RequestDecider = Callable[Concatenate[Reader, CommandContext, P], Decision]
"""A decider (`ledger_store.application.deciders`): the request supplies the reader's context."""
Location = str | Callable[[dict[str, Any]], str]
"""Where the created record lives: a path, or one computed from the answer."""

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="any unique string (e.g. a UUID): a retry with it returns the first answer",
        examples=["6f9c1e1a-0b7e-4c55-9a57-3c1f0e0d2a11"],
    ),
]
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=40,
        description='the version you last saw ("3" or 3); 412 with the current one if it moved',
        examples=['"3"'],
    ),
]


def parse_if_match(value: str | None) -> int | None:
    """The expected version named by If-Match (`3`, `"3"`, `W/"3"`; `*` means any)."""
    if value is None or value.strip() in ("", "*"):
        return None
    match = _ETAG.match(value.strip())
    if match is None:
        raise ProblemError(
            422,
            "invalid_if_match",
            f'If-Match must be the aggregate version, e.g. "3"; got {value!r}',
            field="header.If-Match",
        )
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Command:
    """The command headers of one request, bound to the app's services."""

    services: Services
    request: Request
    idempotency_key: str | None
    expected_version: int | None

    async def execute(
        self,
        principal: Principal,
        body: BaseModel | None,
        decider: RequestDecider[P],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> CommandResult:
        """Execute `decider(reader, ctx, *args, **kwargs)` as `principal`, with the request's
        If-Match and Idempotency-Key; on the event loop where the ledger can (see `Ledger`)."""
        ctx, claim = self._begin(principal, body)
        name = getattr(decider, "__name__", "command")
        metrics = self.services.metrics
        try:
            result = await self.services.ledger.execute_async(
                lambda reader: decider(reader, ctx, *args, **kwargs),
                expected_version=self.expected_version,
                idempotency=claim,
            )
        except Exception as error:
            metrics.commands.labels(name, failed_outcome(error)).inc()
            raise
        if result.replayed:
            metrics.replays.labels(name).inc()
        elif result.events:
            self.services.committed()
        metrics.commands.labels(name, succeeded_outcome(result)).inc()
        return result

    def answer(self, result: CommandResult, location: Location | None = None) -> Response:
        """The command's answer, with ETag (and Location) set.

        The status is the route's (`status_code=201` on creations). The answer is rendered
        here: FastAPI would otherwise validate the dict again.
        """
        answer = result.fields()
        headers = {"ETag": f'"{result.version}"'}
        if location is not None:
            headers["Location"] = location if isinstance(location, str) else location(answer)
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        route = self.request.scope.get("route")
        status = getattr(route, "status_code", None) or 200
        return OrjsonResponse(answer, status_code=status, headers=headers)

    def _begin(
        self, principal: Principal, body: BaseModel | None
    ) -> tuple[CommandContext, IdempotencyClaim | None]:
        ctx = CommandContext(
            actor=principal.actor,
            at=datetime.now(UTC),
            request_id=self.request.scope.get("state", {}).get("request_id"),
            idempotency_key=self.idempotency_key,
        )
        claim = None
        if self.idempotency_key is not None:
            claim = IdempotencyClaim(
                scope=principal.token_id,  # a token's answers are its own (names may repeat)
                key=self.idempotency_key,
                fingerprint=self.fingerprint(body),
            )
        return ctx, claim

    def fingerprint(self, body: BaseModel | None) -> str:
        """What the request asks, so a key reused for another request is recognised."""
        payload = None if body is None else body.model_dump(mode="json")
        text = orjson.dumps(
            {"method": self.request.method, "path": self.request.url.path, "body": payload},
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(text).hexdigest()


def succeeded_outcome(result: CommandResult) -> str:
    """`replayed` (the first answer, given again), `recorded`, or `unchanged` (no events)."""
    if result.replayed:
        return "replayed"
    return "recorded" if result.events else "unchanged"


def failed_outcome(error: Exception) -> str:
    """`conflict`, `refused` (a rule, a reused Idempotency-Key), `unavailable` or `error`."""
    if isinstance(error, ConflictError):
        return "conflict"
    if isinstance(error, DomainError | IdempotencyMismatchError):
        return "refused"
    if isinstance(error, UNAVAILABLE):
        return "unavailable"
    return "error"


async def command(
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
    if_match: IfMatchHeader = None,
) -> Command:
    """A command on an existing record: Idempotency-Key and If-Match."""
    services: Services = request.app.state.services
    return Command(services, request, idempotency_key, parse_if_match(if_match))


async def creation(
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Command:
    """A command that creates a record: Idempotency-Key only."""
    services: Services = request.app.state.services
    return Command(services, request, idempotency_key, None)


CommandDep = Annotated[Command, Depends(command)]
CreationDep = Annotated[Command, Depends(creation)]


async def own_key(services: Services, principal: Principal, card_no: str) -> None:
    """Refuse an enterprise token acting on a key of another enterprise (404 if no such key)."""
    if principal.role is Role.ENTERPRISE:
        owner = services.key_owners.get(card_no) or await asyncio.to_thread(
            services.key_owner, card_no
        )
        check_key_owner(principal, card_no, owner)


def check_key_owner(principal: Principal, card_no: str, owner: str | None) -> None:
    """Refuse an enterprise acting on a key that is not its own, exactly as on a key that does
    not exist: an enterprise learns nothing of another's card numbers."""
    if owner is None or owner != principal.uscc:
        raise NotFoundError("not_found", f"key {card_no} does not exist")
