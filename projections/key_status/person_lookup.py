"""The hotline's search by person and by company: keys by the holder's phone, ID number or name
(exact, through the keyed blind index: `docs/privacy.md`), and by (part of) the company's name;
enterprises by name for the window."""

from __future__ import annotations

from datetime import datetime

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.privacy.vault import PersonalDataVault
from projections.engine.freshness import DEFAULT_TIMEOUT
from projections.engine.query import snapshot
from projections.key_status.fold import ENTERPRISES
from projections.key_status.queries import VIEWS, find_keys
from projections.key_status.records import KeyRecord

MAX_KEYS = 50
"""At most this many keys come back from one search (a caller is one person or company)."""


def keys_by_person(
    database: LedgerDatabase,
    vault: PersonalDataVault,
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
    return find_keys(
        database, vault, mask=mask, phone=phone_e164, id_number=id_number, holder=name,
        now=now, limit=MAX_KEYS, min_position=min_position, timeout=timeout,
    )  # fmt: skip


def keys_by_company(
    database: LedgerDatabase,
    vault: PersonalDataVault,
    text: str,
    *,
    mask: bool,
    now: datetime | None = None,
    min_position: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[KeyRecord]:
    """Keys of the enterprises whose name contains `text` (company names are not personal)."""
    if not text.strip():
        return []
    return find_keys(
        database, vault, mask=mask, company=text, now=now, limit=MAX_KEYS,
        min_position=min_position, timeout=timeout,
    )  # fmt: skip


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
