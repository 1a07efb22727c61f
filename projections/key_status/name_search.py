"""Searches by a part of a name: the hotline's keys by company name, the window's enterprises by
name. (A search by person is `find_keys` by phone, ID number or holder name: exact, through the
keyed blind index, `docs/privacy.md`.)"""

from __future__ import annotations

from datetime import datetime

from ledger_store.eventstore.database import LedgerDatabase
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.query import ViewSource, snapshot
from projections.key_status.fold import ENTERPRISES
from projections.key_status.queries import VIEWS, escape_like, find_keys
from projections.key_status.records import KeyRecord

MAX_KEYS = 50
"""At most this many keys come back from one search (a caller is one person or company)."""


def keys_by_company(
    source: ViewSource, text: str, *, now: datetime | None = None, fresh: Freshness = NO_WAIT
) -> list[KeyRecord]:
    """Keys of the enterprises whose name contains `text` (company names are not personal)."""
    if not text.strip():
        return []
    return find_keys(source, company=text, now=now, limit=MAX_KEYS, fresh=fresh)


def enterprises_by_name(
    database: LedgerDatabase, text: str, *, limit: int = 50
) -> list[tuple[str, str]]:
    """(USCC, name) of the enterprises whose name contains `text`, by USCC."""
    needle = text.strip()
    if not needle:
        return []
    pattern = f"%{escape_like(needle)}%"
    with snapshot(database, VIEWS) as (cursor, tables):
        rows = cursor.execute(
            f"SELECT uscc, name FROM {tables(ENTERPRISES.name)} WHERE name LIKE ? ESCAPE '\\' "
            "ORDER BY uscc LIMIT ?",
            (pattern, limit),
        ).fetchall()
    return [(str(uscc), str(name)) for uscc, name in rows]
