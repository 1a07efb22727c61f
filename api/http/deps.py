"""`Annotated` dependencies: the services, the authenticated principal and its role checks.

Dependencies that do no I/O are `async def`: FastAPI runs sync dependencies in the thread pool,
and a thread hop per dependency costs more than the dependency itself. Routes are sync `def`
(one hop each), but for the hotline's lookup and the PIN attempt, which run their statements
on the event loop (the ledger's async pool).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.http.auth import Principal, TokenCache, TokenStore
from api.http.errors import ProblemError
from api.http.limits import FailedAuthLimiter, PrincipalRateLimiter
from api.http.metrics import Metrics
from api.http.settings import ApiSettings
from domain.base import Role
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.probe import DatabaseProbe
from ledger_store.eventstore.settings import Settings
from ledger_store.transparency.checkpointer import Checkpointer
from projections.engine.inprocess import InProcessProjector

MAX_KEY_OWNERS = 200_000
POKE_EVERY = 0.05
VIEWS_POLL_SECONDS = 0.1


@dataclass
class Services:
    """What the app opened at start and closes at shutdown: ONE ledger and its helpers."""

    settings: Settings
    api: ApiSettings
    ledger: Ledger
    tokens: TokenStore
    token_cache: TokenCache
    limiter: FailedAuthLimiter
    principal_limiter: PrincipalRateLimiter
    metrics: Metrics
    signing_key: Ed25519PrivateKey
    projector: InProcessProjector | None = None
    checkpointer: Checkpointer | None = None
    probe: DatabaseProbe | None = None
    """The database's state within a bounded time (`/readyz`, and `eport_database_up`)."""
    views_due: int = 0
    """The ledger's size when the in-process views started: `/readyz` says `starting` until
    every view has reached it (then it never looks back)."""
    views_warm: bool = False
    key_owners: dict[str, str] = field(default_factory=dict)
    _last_poke: float = 0.0
    _owners_lock: threading.Lock = field(default_factory=threading.Lock)

    def key_owner(self, card_no: str) -> str | None:
        """The USCC of a key's enterprise (it never changes, so it is cached), or None."""
        owner = self.key_owners.get(card_no)
        if owner is not None:
            return owner
        key = self.ledger.find_key(card_no)
        if key is None:
            return None
        with self._owners_lock:
            if len(self.key_owners) >= MAX_KEY_OWNERS:
                self.key_owners.clear()
            self.key_owners[card_no] = key.uscc
        return key.uscc

    def committed(self) -> None:
        """Wake the in-process views after a command, at most every POKE_EVERY seconds.

        A projector woken after every command competes with the next one for the interpreter;
        coalescing wakes makes its batches larger. Readers that pass `min_position` wake it
        themselves, so read-your-writes stays immediate; the others see a command within the
        projector's polling interval.
        """
        now = time.monotonic()
        if self.projector is not None and now - self._last_poke >= POKE_EVERY:
            self._last_poke = now
            self.projector.poke()


async def get_services(request: Request) -> Services:
    """The services of the running app."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_ledger(request: Request) -> Ledger:
    """The app's one Ledger."""
    services: Services = request.app.state.services
    return services.ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A token from `eport-ledger token create --role R` (or POST /v1/tokens).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one, 429 when abused.

    A valid token is checked first and always passes the failure limit (failures from its
    address are someone else's); then its principal's own request rate is limited.
    """
    services: Services = request.app.state.services
    principal = None
    if credentials is not None:
        token = credentials.credentials
        principal = services.token_cache.cached(token)
        if principal is None:  # a database read: off the event loop
            principal = await run_in_threadpool(services.token_cache.principal, token)
    if principal is None:
        _refuse_unauthenticated(services, _client(request), missing=credentials is None)
    request.scope.setdefault("state", {})["principal"] = principal
    limit_principal(services, principal.principal_key)
    return principal


def _refuse_unauthenticated(services: Services, client: str, *, missing: bool) -> NoReturn:
    """429 when the address failed too often, else 401 (counted as one more failure)."""
    wait = services.limiter.retry_after(client)
    if wait is not None:
        raise _retry_later(
            "too_many_failed_authentications",
            "too many failed authentications from this address",
            wait,
        )
    services.limiter.failed(client)
    if missing:
        raise ProblemError(
            401,
            "token_required",
            "send Authorization: Bearer <token> (eport-ledger token create --role R)",
            headers={"WWW-Authenticate": 'Bearer realm="eport-ledger"'},
        )
    raise ProblemError(
        401,
        "invalid_token",
        "the bearer token is unknown, expired or revoked",
        headers={"WWW-Authenticate": 'Bearer realm="eport-ledger", error="invalid_token"'},
    )


def limit_principal(services: Services, principal_key: str) -> None:
    """429 with Retry-After when the principal (a token, a console session's staff member)
    has spent its requests (`EPORT_API_PRINCIPAL_REQUESTS_PER_SECOND`, `…_BURST`)."""
    wait = services.principal_limiter.take(principal_key)
    if wait is not None:
        raise _retry_later("too_many_requests", "this principal sent too many requests", wait)


def _retry_later(rule: str, detail: str, wait: int) -> ProblemError:
    """A 429: the detail says when to retry, and so does Retry-After (seconds)."""
    return ProblemError(
        429, rule, f"{detail}; retry in {wait} s", headers={"Retry-After": str(wait)}
    )


def allow(*roles: Role) -> Any:
    """A dependency that authenticates and admits only principals of these roles (403 others).

    One dependency (with the bearer scheme under it) rather than a chain: FastAPI's cost per
    request grows with every node of the dependency graph.
    """
    names = ", ".join(role.value for role in roles)

    async def admitted(request: Request, credentials: Credentials) -> Principal:
        principal = await authenticate(request, credentials)
        if principal.role not in roles:
            raise ProblemError(
                403,
                "role_not_allowed",
                f"this is for {names}; the token's role is {principal.role.value}",
            )
        return principal

    return Depends(admitted)


def check_enterprise(principal: Principal, uscc: str) -> None:
    """Refuse (403) an enterprise token acting on another enterprise."""
    if principal.role is Role.ENTERPRISE and principal.uscc != uscc:
        raise ProblemError(
            403,
            "other_enterprise",
            "an enterprise token acts only on its own enterprise",
        )


ROLES_PROCESS = (Role.ENTERPRISE, Role.WINDOW)
ROLES_READ = (Role.ENTERPRISE, Role.WINDOW, Role.HOTLINE, Role.AUDITOR)
ROLES_ANY = (Role.ENTERPRISE, Role.WINDOW, Role.HOTLINE, Role.AUDITOR, Role.ADMIN)

ProcessActor = Annotated[Principal, allow(*ROLES_PROCESS)]
"""The enterprise itself (its own data only) or window staff acting for it."""
WindowActor = Annotated[Principal, allow(Role.WINDOW)]
Reader = Annotated[Principal, allow(*ROLES_READ)]
WindowReader = Annotated[Principal, allow(Role.WINDOW, Role.AUDITOR)]
Auditor = Annotated[Principal, allow(Role.AUDITOR)]
Verifier = Annotated[Principal, allow(*ROLES_ANY)]
CheckpointSigner = Annotated[Principal, allow(Role.AUDITOR, Role.ADMIN)]
Admin = Annotated[Principal, allow(Role.ADMIN)]
Eraser = Annotated[Principal, allow(Role.WINDOW, Role.ADMIN)]
"""Erases personal data on request (删除权): the window or an administrator."""


async def min_position(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**62,
            description="wait (bounded) until the views reach this ledger position "
            "(the `position` a command answered)",
        ),
    ] = None,
) -> int | None:
    """The position a query must reflect; a position the ledger has not reached is a 422."""
    if min_position is None:
        return None
    services: Services = request.app.state.services
    if min_position > await run_in_threadpool(services.ledger.position):
        raise ProblemError(
            422,
            "min_position_beyond_ledger",
            f"min_position {min_position} is beyond the ledger's last position",
            field="query.min_position",
        )
    return min_position


MinPosition = Annotated[int | None, Depends(min_position)]
"""Read-your-writes: the query waits until the views have applied this position."""
