"""The hotline's screen (热线): one search box, a status card per key with what to tell the caller.

The box takes a card number, a USCC, a company name, a holder's name, a phone or an ID number;
the search is a POST, so phone and ID numbers never appear in a URL or an access log. Personal
data is masked exactly as the API masks it for the hotline (`mask=True` on the same queries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.console import web
from api.http.console.key_card import advise
from domain.identifiers import (
    check_card_number,
    check_phone,
    check_resident_id,
    check_uscc,
    mask_id_number,
    mask_phone,
)
from ledger_store.application.ledger import Ledger
from projections.engine.query import ViewSource
from projections.key_status.name_search import MAX_KEYS, keys_by_company
from projections.key_status.queries import find_keys, get_key
from projections.key_status.records import KeyRecord

router = web.screens("/ui/hotline")
_PHONE_LIKE: Final = re.compile(r"[+0-9()\- ]{7,20}")
_CARD_LIKE: Final = re.compile(r"[0-9A-Za-z-]{1,20}")


@dataclass(frozen=True, slots=True)
class Query:
    """What the box held, recognised: its kind, the normalised value, and how to show it."""

    kind: str
    value: str
    shown: str


def classify(text: str) -> Query:
    """Recognise a search: USCC, resident ID number, phone, card number, else a name."""
    q = text.strip()
    compact = q.replace(" ", "")
    try:
        return Query("uscc", check_uscc(compact), check_uscc(compact))
    except ValueError:
        pass
    try:
        number = check_resident_id(compact)
        return Query("id", number, mask_id_number(number))
    except ValueError:
        pass
    if _PHONE_LIKE.fullmatch(q) and sum(c.isdigit() for c in q) >= 10:
        try:
            phone = check_phone(q)
            return Query("phone", phone, mask_phone(phone))
        except ValueError:
            pass
    if _CARD_LIKE.fullmatch(compact) and any(c.isdigit() for c in compact):
        card = check_card_number(compact)
        return Query("card", card, card)
    return Query("name", q, q)


def search(ledger: Ledger, query: Query) -> list[KeyRecord]:
    """The keys a recognised search finds, masked for the hotline."""
    source = ViewSource(ledger.database, ledger.vault, mask=True)
    if query.kind == "card":
        record = get_key(source, query.value)
        return [] if record is None else [record]
    if query.kind == "uscc":
        return find_keys(source, uscc=query.value, limit=MAX_KEYS)
    if query.kind == "phone":
        return find_keys(source, phone=query.value, limit=MAX_KEYS)
    if query.kind == "id":
        return find_keys(source, id_number=query.value, limit=MAX_KEYS)
    by_holder = find_keys(source, holder=query.value, limit=MAX_KEYS)
    seen = {record.card_no for record in by_holder}
    by_company = [r for r in keys_by_company(source, query.value) if r.card_no not in seen]
    return by_holder + by_company


KINDS: Final = {
    "card": "by_card",
    "uscc": "by_uscc",
    "phone": "by_phone",
    "id": "by_id",
    "name": "by_name",
}


@router.get("")
async def hotline_page(request: Request, staff: web.Agent) -> Response:
    """The search box."""
    return web.render(request, "hotline.html", {"query": None, "cards": None}, staff=staff)


@router.post("")
async def hotline_search(request: Request, staff: web.Agent) -> Response:
    """Search and show one status card per key found (personal data masked)."""
    form = await web.posted(request, staff)
    text = form.get("q")
    text = text[:100] if isinstance(text, str) else ""
    if not text.strip():
        return web.render(request, "hotline.html", {"query": None, "cards": None}, staff=staff)
    query = classify(text)
    records = await run_in_threadpool(search, web.services_of(request).ledger, query)
    return web.render(
        request,
        "hotline.html",
        {
            "query": query,
            "kind_key": KINDS[query.kind],
            # phone and ID numbers are not put back into the box (nor anywhere in clear)
            "box": query.value if query.kind in ("card", "uscc", "name") else "",
            "cards": [(record, advise(record)) for record in records],
        },
        staff=staff,
    )


@router.get("/keys/{card_no}")
async def hotline_key(request: Request, card_no: str, staff: web.Agent) -> Response:
    """One key's status card (the card number is no personal data)."""
    ledger = web.services_of(request).ledger
    try:
        card = check_card_number(card_no)
    except ValueError:
        card = ""
    record = (
        await run_in_threadpool(get_key, ViewSource(ledger.database, ledger.vault, mask=True), card)
        if card
        else None
    )
    cards = [] if record is None else [(record, advise(record))]
    query = Query("card", card, card)
    return web.render(
        request,
        "hotline.html",
        {"query": query, "kind_key": "by_card", "box": card, "cards": cards},
        staff=staff,
    )
