"""The FastAPI app: collects the routers; its lifespan opens ONE Ledger and the views' runner."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import metadata

from fastapi import FastAPI

from api.http import openapi
from api.http.api_docs import install as install_docs
from api.http.auth import TokenCache, TokenStore
from api.http.client_address import ClientAddressMiddleware
from api.http.conditional import ConditionalGetMiddleware
from api.http.console.mount import install as install_console
from api.http.console.settings import ConsoleSettings
from api.http.console.web import open_console
from api.http.deps import VIEWS_POLL_SECONDS, Services
from api.http.errors import install as install_errors
from api.http.limits import FailedAuthLimiter, PrincipalRateLimiter
from api.http.metrics import Metrics, ledger_pools
from api.http.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.http.routes import (
    audit,
    enterprises,
    health,
    key_lookup,
    keys,
    personal_data,
    tokens,
    window,
)
from api.http.settings import ApiSettings
from api.http.tracing_extra import tracing_module
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.probe import DatabaseProbe
from ledger_store.eventstore.settings import Settings, load_settings
from ledger_store.proofs.checkpoint import Checkpoint
from ledger_store.transparency.checkpointer import Checkpointer, latest_checkpoint
from ledger_store.transparency.signer import open_signing_key
from projections.engine.inprocess import InProcessProjector
from projections.engine.positions import read_positions
from projections.engine.runner import Runner
from projections.registry import TRACKED

log = logging.getLogger("eport.api")


def release() -> str:
    """This installation's version (package metadata)."""
    try:
        return metadata.version("eport-ledger")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "0.0.0"


DESCRIPTION = """\
The China E-Port enrollment filings and UKEY lifecycle as one tamper-evident, event-sourced
ledger.

**Tokens.** Every `/v1` call needs `Authorization: Bearer <token>`. Get one on the server with
`eport-ledger token create --role window` (roles: enterprise — with `--enterprise USCC` —,
window, hotline, auditor, admin), then press *Authorize* above and paste it.

**Commands** accept `Idempotency-Key` (a retry returns the first answer, nothing is recorded
twice) and `If-Match` (the version you last saw; 412 with the current one if it moved). They
answer `{id, version, position}`: pass `position` as `min_position` to any query to read your
own write. Errors are `application/problem+json` (RFC 9457) naming the rule and the fields.

**Reads** carry an `ETag`; `If-None-Match` with it answers 304 while nothing changed. **Lists**
answer `{items, next_cursor, truncated}`: ask for the next page with `after=next_cursor`.
"""

OPENAPI_TAGS = [
    {"name": "enterprises", "description": "registration, the four filings, review, card holders"},
    {"name": "keys", "description": "issue, EMS, PIN, renewal, loss, freeze, void, replacement"},
    {"name": "window", "description": "the window's work queue and expiry calendar"},
    {"name": "audit", "description": "entries, history as of a moment, checkpoints and proofs"},
    {"name": "personal data", "description": "erasure on request (删除权, PIPL Art. 47)"},
    {"name": "tokens", "description": "bearer tokens (admin)"},
    {"name": "operations", "description": "health, readiness, metrics"},
]


def open_services(settings: Settings, api: ApiSettings, metrics: Metrics) -> Services:
    """Open the ledger, the token table, the signing key and (if configured) the views' runner."""
    ledger = Ledger(settings)
    try:
        store = TokenStore(ledger.store)
        services = Services(
            settings=settings,
            api=api,
            ledger=ledger,
            tokens=store,
            token_cache=TokenCache(store, api.token_cache_seconds),
            limiter=FailedAuthLimiter(api.auth_failures_per_minute),
            principal_limiter=PrincipalRateLimiter(
                api.principal_requests_per_second, api.principal_burst
            ),
            metrics=metrics,
            signing_key=open_signing_key(settings.key_path(), ledger.database),
        )
        if api.views == "inprocess":
            services.views_due = ledger.position()  # /readyz waits for the views to get there
            services.projector = InProcessProjector(
                Runner(ledger.database), interval=VIEWS_POLL_SECONDS
            )
            services.projector.start()
        else:  # the worker keeps them; their tables exist before its first batch all the same
            Runner(ledger.database).setup()
        if api.checkpoints:
            services.checkpointer = Checkpointer(
                ledger.database,
                services.signing_key,
                every_events=settings.checkpoint_every_events,
                every_seconds=settings.checkpoint_every_seconds,
            )
            services.checkpointer.start()
    except BaseException:
        ledger.close()
        raise
    return services


def close_services(services: Services) -> None:
    """Stop the background threads (a final checkpoint first), then close the ledger."""
    try:
        if services.checkpointer is not None:
            services.checkpointer.stop(final=True)
        if services.projector is not None:
            services.projector.stop()
    finally:
        services.ledger.close()


READY_TIMEOUT = 1.5
"""How long `/readyz` and a metrics scrape wait for the database at most."""


def _signed_at(checkpoint: Checkpoint | None) -> datetime | None:
    return None if checkpoint is None else checkpoint.timestamp


def create_app(
    settings: Settings | None = None,
    api: ApiSettings | None = None,
    console_settings: ConsoleSettings | None = None,
) -> FastAPI:
    """The app for these settings (EPORT_*, EPORT_API_* and EPORT_CONSOLE_* from the
    environment by default)."""
    settings = settings or load_settings()
    api = api or ApiSettings()
    console_settings = console_settings or ConsoleSettings()
    metrics = Metrics()

    tracing = tracing_module() if api.tracing else None
    provider = tracing.tracer_provider(release()) if tracing is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if tracing is not None and provider is not None:  # before the pools connect
            tracing.trace_sql(provider)
        services = open_services(settings, api, metrics)
        await services.ledger.open_async()
        app.state.services = services
        if console_settings.enabled:  # the staff console's tables (api/http/console/)
            app.state.console = open_console(services, console_settings)
        database = services.ledger.database
        names = [view.name for view in TRACKED]
        services.probe = probe = DatabaseProbe(
            lambda: (
                services.ledger.position(),
                read_positions(database, names),
                _signed_at(latest_checkpoint(database)),
            ),
            timeout=READY_TIMEOUT,
        )
        metrics.watch_ledger(probe.check)
        metrics.watch_pools(lambda: ledger_pools(services.ledger))
        log.info(
            "serving the ledger",
            extra={
                "database": "postgres" if settings.is_postgres else "sqlite",
                "views": api.views,
            },
        )
        try:
            yield
        finally:
            await services.ledger.close_async()
            close_services(services)
            if tracing is not None and provider is not None:
                tracing.stop_tracing(provider)

    app = FastAPI(
        title="eport-ledger",
        version=release(),
        summary="China E-Port enrollment filings and the UKEY lifecycle, as a hash-chained ledger",
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # served from local assets by api_docs.install
        redoc_url=None,
    )
    install_errors(app)
    app.add_middleware(ConditionalGetMiddleware)  # innermost: it tags what the routes answered
    app.add_middleware(BodyLimitMiddleware, max_bytes=api.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if api.proxy_networks:  # else the socket's peer is the client, loopback included
        app.add_middleware(ClientAddressMiddleware, proxies=api.proxy_networks)
    # Routers are tried in this order on every request: the key lookup and the key commands
    # (PIN attempts) are the most frequent calls; health's routes have no prefix to skip by.
    for module in (key_lookup, keys, enterprises, window, audit, personal_data, tokens, health):
        app.include_router(module.router)
    install_docs(app)
    if console_settings.enabled:
        install_console(app, console_settings)
    if tracing is not None and provider is not None:
        tracing.trace_http(app, provider)
        app.state.tracer_provider = provider
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    return app
