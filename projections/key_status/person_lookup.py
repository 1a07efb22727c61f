"""The hotline's search by person and by company: keys by the holder's phone, ID number or name,
and by (part of) the company's name.

**The one place to switch to blind indexes.** Today the key-status view holds the holder's
phone (E.164) and ID number in clear (`view_key_holders`), so `holder_ids_by_phone` and
`holder_ids_by_id_number` compare those columns. When personal data is encrypted per person,
these two functions become lookups of a keyed hash (a blind index) of the normalised value;
nothing else — the console, the API — needs to change. The caller normalises the value first
(`domain.identifiers.check_phone` / `check_resident_id`), so equal numbers compare equal.
"""

from __future__ import annotations

from datetime import datetime

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from projections.engine.freshness import DEFAULT_TIMEOUT
from projections.engine.query import now_or, snapshot
from projections.engine.schema import TableNames
from projections.key_status.fold import ENTERPRISES, HOLDERS
from projections.key_status.queries import VIEWS, _records, _select
from projections.key_status.records import KeyRecord

MAX_KEYS = 50
"""At most this many keys come back from one search (a caller is one person or company)."""


def holder_ids_by_phone(cursor: SqlCursor, tables: TableNames, phone_e164: str) -> list[str]:
    """The card holders with this phone (E.164). Blind-index lookup at merge time."""
    rows = cursor.execute(
        f"SELECT holder_id FROM {tables(HOLDERS.name)} WHERE phone = ?", (phone_e164,)
    ).fetchall()
    return [str(row[0]) for row in rows]


def holder_ids_by_id_number(cursor: SqlCursor, tables: TableNames, id_number: str) -> list[str]:
    """The card holders with this ID number (normalised). Blind-index lookup at merge time."""
    rows = cursor.execute(
        f"SELECT holder_id FROM {tables(HOLDERS.name)} WHERE id_number = ?", (id_number,)
    ).fetchall()
    return [str(row[0]) for row in rows]


def _keys_where(
    cursor: SqlCursor,
    tables: TableNames,
    where: str,
    params: list[object],
    *,
    mask: bool,
    now: datetime,
) -> list[KeyRecord]:
    rows = cursor.execute(
        f"{_select(tables)} WHERE {where} ORDER BY k.card_no LIMIT ?", [*params, MAX_KEYS]
    ).fetchall()
    return _records(cursor, tables, rows, mask, now)


def keys_by_person(
    database: LedgerDatabase,
    *,
    mask: bool,
    phone_e164: str | None = None,
    id_number: str | None = None,
    name: str | None = None,
    now: datetime | None = None,
    min_position: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[KeyRecord]:
    """Keys of the holder(s) with this phone, ID number or name (exactly one is given)."""
    given = [value for value in (phone_e164, id_number, name) if value]
    if len(given) != 1:
        raise ValueError("give exactly one of phone_e164, id_number, name")
    moment = now_or(now)
    with snapshot(database, VIEWS, min_position, timeout) as (cursor, tables):
        if name:
            return _keys_where(
                cursor, tables, "k.holder_name = ?", [name.strip()], mask=mask, now=moment
            )
        if phone_e164:
            holders = holder_ids_by_phone(cursor, tables, phone_e164)
        else:
            holders = holder_ids_by_id_number(cursor, tables, str(id_number))
        if not holders:
            return []
        marks = ", ".join("?" * len(holders))
        return _keys_where(
            cursor, tables, f"k.holder_id IN ({marks})", list(holders), mask=mask, now=moment
        )


def keys_by_company(
    database: LedgerDatabase,
    text: str,
    *,
    mask: bool,
    now: datetime | None = None,
    min_position: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[KeyRecord]:
    """Keys of the enterprises whose name contains `text` (company names are not personal)."""
    needle = text.strip()
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    moment = now_or(now)
    with snapshot(database, VIEWS, min_position, timeout) as (cursor, tables):
        usccs = [
            str(row[0])
            for row in cursor.execute(
                f"SELECT uscc FROM {tables(ENTERPRISES.name)} WHERE name LIKE ? ESCAPE '\\' "
                "ORDER BY uscc LIMIT ?",
                (pattern, MAX_KEYS),
            ).fetchall()
        ]
        if not usccs:
            return []
        marks = ", ".join("?" * len(usccs))
        return _keys_where(
            cursor, tables, f"k.uscc IN ({marks})", list(usccs), mask=mask, now=moment
        )


def enterprises_by_name(
    database: LedgerDatabase, text: str, *, limit: int = 50
) -> list[tuple[str, str]]:
    """(USCC, name) of the enterprises whose name contains `text`, by USCC."""
    needle = text.strip()
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with snapshot(database, VIEWS, None) as (cursor, tables):
        rows = cursor.execute(
            f"SELECT uscc, name FROM {tables(ENTERPRISES.name)} WHERE name LIKE ? ESCAPE '\\' "
            "ORDER BY uscc LIMIT ?",
            (pattern, limit),
        ).fetchall()
    return [(str(uscc), str(name)) for uscc, name in rows]
