"""The window's work: the queue by stage, and the keys coming up for renewal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from api.http.deps import MinPosition, ServicesDep, WindowReader
from api.http.errors import PROBLEMS
from api.http.paging import Limit, Offset, from_offset
from api.http.routing import PrefixRouter
from api.http.schemas.queries import ExpiringPage, QueuePage
from projections.engine.freshness import Freshness
from projections.engine.query import ViewSource
from projections.expiry_calendar.queries import expiring_keys
from projections.window_queue.queries import Stage, window_queue

router = PrefixRouter(prefix="/v1/window", tags=["window"], responses=PROBLEMS)


@router.get("/queue", response_model=QueuePage, summary="The window's work queue · 窗口待办事项")
def get_window_queue(
    principal: WindowReader,
    services: ServicesDep,
    min_position: MinPosition,
    stage: Annotated[Stage | None, Query(description="one stage; all stages when omitted")] = None,
    after: Offset = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Work waiting at the window, oldest first in each stage, with its age."""
    items = window_queue(
        services.ledger.database,
        stage=stage,
        limit=after + limit + 1,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    return from_offset(items, after, limit)


@router.get("/expiring", response_model=ExpiringPage, summary="Keys expiring soon · 即将到期的UKEY")
def list_expiring_keys(
    principal: WindowReader,
    services: ServicesDep,
    min_position: MinPosition,
    within_days: Annotated[int, Query(ge=0, le=3700)] = 30,
    include_expired: bool = False,
    after: Offset = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Keys whose validity ends within `within_days` (the expiry calendar), soonest first."""
    items = expiring_keys(
        ViewSource(services.ledger.database, services.ledger.vault, mask=False),
        within_days=within_days,
        include_expired=include_expired,
        limit=after + limit + 1,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    return from_offset(items, after, limit)
