"""Operations: liveness, readiness (database reachable, views' lag), Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.http.deps import ServicesDep
from api.http.responses import OrjsonResponse
from api.http.schemas.health import Health, Readiness, ViewState
from projections.registry import TRACKED

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness · 存活检查")
def healthz() -> dict[str, str]:
    """The process is alive (no database call)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    summary="Readiness and the views' lag · 就绪检查",
)
async def readyz(services: ServicesDep) -> Response:
    """Ready when the database answers (within 1.5 s, whatever it does) and the views kept in
    this process have caught up with the ledger as it was at start; how far each view lags."""
    names = [view.name for view in TRACKED]
    projector = services.projector
    error = projector.last_error if projector is not None else None
    probe = services.probe
    result = await run_in_threadpool(probe.check) if probe is not None else None
    if result is None or not result.up or result.ledger_size is None:
        body = Readiness(
            status="unavailable",
            database="unreachable",
            ledger_size=None,
            views={},
            views_kept_by=services.api.views,
        )
        return OrjsonResponse(
            body.model_dump(mode="json"), status_code=503, headers={"Retry-After": "2"}
        )
    size, positions = result.ledger_size, result.positions
    views = {
        name: ViewState(position=positions.get(name, 0), lag=max(0, size - positions.get(name, 0)))
        for name in names
    }
    if not services.views_warm and projector is not None:
        services.views_warm = all(view.position >= services.views_due for view in views.values())
    warm = services.views_warm or projector is None
    body = Readiness(
        status="ready" if warm else "starting",
        database="reachable",
        ledger_size=size,
        views=views,
        views_kept_by=services.api.views,
        projector_error=None if error is None else type(error).__name__,
    )
    if not warm:
        return OrjsonResponse(
            body.model_dump(mode="json"), status_code=503, headers={"Retry-After": "1"}
        )
    return OrjsonResponse(body.model_dump(mode="json"))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    summary="Prometheus metrics · 监控指标",
)
def metrics(services: ServicesDep) -> Response:
    """Prometheus metrics: process, database up, pools, request latency by route, commands,
    refusals by rule, idempotent replays, checkpoint age, ledger size and each view's lag
    (docs/operations.md lists them)."""
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
