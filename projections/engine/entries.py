"""Ledger entries as the views read them: orjson-decoded dicts, upcast, with their place.

Views read the stored JSON directly rather than through pydantic validation: the stored form is
already a contract (topic + class version + upcasters), and skipping validation is what makes a
rebuild fast. Old class versions are brought up to date with the event class's own upcasters.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson

from domain.base import DomainEvent
from ledger_store.eventstore.database import SqlCursor
from ledger_store.eventstore.mapping import resolve_event_class, type_name, upcast

ENTRY_COLUMNS = "ledger_index, originator_id, originator_version, topic, state"
PG_ENTRY_COLUMNS = "ledger_index, CAST(originator_id AS text), originator_version, topic, state"


@dataclass(slots=True)
class Item:
    """One ledger entry, decoded: `event` is the class name, `data` the event's JSON fields."""

    index: int
    originator_id: str
    version: int
    event: str
    data: dict[str, Any]
    at: str


@lru_cache(maxsize=1024)
def _topic_info(topic: str) -> tuple[str, type[DomainEvent] | None]:
    """The event's class name, and its class when it has later versions to upcast to."""
    name = type_name(topic)
    try:
        cls = resolve_event_class(topic)
    except LookupError:  # a type no longer known is still shown, never applied wrongly
        return name, None
    if cls.class_version > 1:
        return name, cls
    return name, None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is folded.

    A batch allocates tens of thousands of small dicts that all stay alive until it ends; the
    collector would walk them again and again (measured: a third of the decode time). View code
    makes no reference cycles, so nothing is lost by collecting once afterwards.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def norm_time(value: str | None) -> str | None:
    """An ISO 8601 time as fixed-width UTC text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) that sorts."""
    if value is None:
        return None
    if value.endswith("Z"):
        if len(value) == 27:
            return value
        if len(value) == 20:
            return value[:19] + ".000000Z"
    moment = datetime.fromisoformat(value)
    return time_text(moment)


def time_text(moment: datetime) -> str:
    """A datetime as the views store times (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> datetime | None:
    """A stored view time back as an aware datetime (None stays None)."""
    return None if value is None else datetime.fromisoformat(value)


def to_time(value: str) -> datetime:
    """A stored view time that is always present, as an aware datetime."""
    return datetime.fromisoformat(value)


def canonical_id(value: Any) -> str:
    """An aggregate id as canonical UUID text, from a UUID, canonical text or 32 hex digits."""
    if isinstance(value, str):
        if len(value) == 36:
            return value
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def decode_rows(rows: Sequence[Sequence[Any]]) -> list[Item]:
    """Decode rows of ENTRY_COLUMNS (either backend) into items, in the order given."""
    items: list[Item] = []
    append = items.append
    loads = orjson.loads
    topic_info = _topic_info
    for index, originator_id, version, topic, state in rows:
        name, upcast_to = topic_info(topic)
        data: dict[str, Any] = loads(state)
        if upcast_to is not None:
            data = upcast(upcast_to, data)
        stamp = data.get("timestamp") or ""
        at = stamp if len(stamp) == 27 and stamp[-1] == "Z" else norm_time(stamp) or ""
        oid = originator_id if len(originator_id) == 36 else canonical_id(originator_id)
        append(Item(index, oid, version, name, data, at))
    return items


def fetch_rows(
    cursor: SqlCursor, events_table: str, after: int, limit: int, until: int | None
) -> list[Any]:
    """Up to `limit` raw rows (ENTRY_COLUMNS) after ledger index `after`, and up to `until`.

    Ledger indexes are dense, so the page is the index range (after, after + limit]: an index
    range scan whatever the table's statistics say (a bare LIMIT can make the planner sort).
    """
    upper = after + limit if until is None else min(until, after + limit)
    if upper <= after:
        return []
    postgres = cursor.dialect == "postgres"
    statement = cursor.sql(
        f"SELECT {PG_ENTRY_COLUMNS if postgres else ENTRY_COLUMNS} FROM {events_table} "
        "WHERE ledger_index > ? AND ledger_index <= ? ORDER BY ledger_index"
    )
    if postgres:  # binary: bytea without the hex round trip
        cursor.raw.execute(statement, (after, upper), binary=True)
    else:
        cursor.raw.execute(statement, (after, upper))
    rows: list[Any] = cursor.raw.fetchall()
    return rows


def read_items(
    cursor: SqlCursor, events_table: str, after: int, limit: int, until: int | None
) -> list[Item]:
    """Up to `limit` decoded items after ledger index `after` (and up to `until`)."""
    return decode_rows(fetch_rows(cursor, events_table, after, limit, until))
