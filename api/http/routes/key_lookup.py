"""Keys (UKEY) looked up: one key by card number (the hotline's call), or keys by enterprise,
holder or status."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response

from api.http.auth import Principal
from api.http.deps import MinPosition, Reader, ServicesDep, check_enterprise
from api.http.errors import PROBLEMS
from api.http.paging import Limit, cursor, first, page
from api.http.responses import model_response
from api.http.routing import PrefixRouter
from api.http.schemas import examples
from api.http.schemas.queries import KeyPage, KeySearch
from domain.base import NotFoundError, Role
from domain.forms import Name
from domain.identifiers import CardNumber, Uscc
from domain.ukey.status import KeyStatus
from projections.engine.freshness import Freshness
from projections.engine.query import ViewSource
from projections.key_status import queries as key_queries
from projections.key_status.records import KeyRecord

router = PrefixRouter(prefix="/v1/keys", tags=["keys"], responses=PROBLEMS)
"""Included before the key commands' router: routes are tried in order on every request, and
the lookup is the most frequent call."""

CardPath = Annotated[CardNumber, Path(description="卡号 as printed", examples=[examples.LP_CARD])]


@router.get("/{card_no}", response_model=KeyRecord, summary="Look up one key · 按卡号查询UKEY")
async def get_key(
    card_no: CardPath,
    principal: Reader,
    services: ServicesDep,
    min_position: MinPosition,
) -> Response:
    """One key by card number: status, PIN state, validity, mailing, holder (masked for hotline)."""
    # On the event loop: the hotline's call is the most frequent, and a worker thread's hop
    # costs more than its query (docs/performance.md).
    record = await key_queries.get_key_async(
        ViewSource(
            services.ledger.database, services.ledger.vault, mask=principal.role is Role.HOTLINE
        ),
        services.ledger.async_pool,
        card_no,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    if record is None or not may_see(principal, record.uscc):
        raise NotFoundError("not_found", f"key {card_no} does not exist")  # the same for both
    return model_response(record)


@router.get(
    "", response_model=KeyPage, summary="Find keys by enterprise, holder or status · 查询UKEY列表"
)
def find_keys(
    principal: Reader,
    services: ServicesDep,
    min_position: MinPosition,
    uscc: Annotated[Uscc | None, Query(description="the enterprise's keys")] = None,
    holder: Annotated[Name | None, Query(description="holder's name")] = None,
    status: Annotated[KeyStatus | None, Query(description="the key's status now")] = None,
    after: Annotated[CardNumber | None, cursor("a card number")] = None,
    limit: Limit = 100,
) -> Response:
    """Keys by enterprise, holder name and/or status (an enterprise sees only its own)."""
    if principal.role is Role.ENTERPRISE:
        uscc = uscc or principal.uscc
        check_enterprise(principal, uscc or "")
    items = key_queries.find_keys(
        ViewSource(
            services.ledger.database, services.ledger.vault, mask=principal.role is Role.HOTLINE
        ),
        uscc=uscc,
        holder=holder,
        status=None if status is None else status.value,
        after_card_no=after,
        limit=limit + 1,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    return model_response(KeyPage(**first(items, limit, _card_no)))


@router.post(
    "/search",
    response_model=KeyPage,
    summary="Search keys by what a caller gives · 按来电信息查找UKEY",
)
def search_keys(
    body: KeySearch,
    principal: Reader,
    services: ServicesDep,
    min_position: MinPosition,
) -> Response:
    """Keys by what a caller gives: card number, USCC, company name, holder name, phone or ID
    number (exact, through keyed blind indexes; a POST, so none of it lands in a URL or log)."""
    finder = body.finder()
    source = ViewSource(
        services.ledger.database, services.ledger.vault, mask=principal.role is Role.HOTLINE
    )
    fresh = Freshness(min_position, services.api.query_wait_seconds)
    uscc = finder.get("uscc")
    if principal.role is Role.ENTERPRISE:
        if uscc not in (None, principal.uscc):
            return model_response(KeyPage(**page([], False, None)))
        uscc = principal.uscc
    if (card_no := finder.get("card_no")) is not None:
        record = key_queries.get_key(source, card_no, fresh=fresh)
        found = [record] if record is not None and may_see(principal, record.uscc) else []
        return model_response(KeyPage(**page(found, False, None)))
    items = key_queries.find_keys(
        source,
        uscc=uscc,
        holder=finder.get("holder_name"),
        phone=finder.get("phone"),
        id_number=finder.get("id_number"),
        company=finder.get("company_name"),
        after_card_no=body.after,
        limit=body.limit + 1,
        fresh=fresh,
    )
    return model_response(KeyPage(**first(items, body.limit, _card_no)))


def _card_no(record: KeyRecord) -> str:
    return record.card_no


def may_see(principal: Principal, uscc: str) -> bool:
    """Whether the principal may see a record of enterprise `uscc` (an enterprise: its own)."""
    return principal.role is not Role.ENTERPRISE or principal.uscc == uscc
