"""Queries of the audit trail: a stream's history (optionally as of a position or a time) and
the global page of entries after an index. Entries are read from the ledger itself, joined with
the trail's stream index; nothing past the trail's own position is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from ledger_store.eventstore.mapping import type_name
from projections.audit_trail.fold import BUCKET, STREAMS, TIMES
from projections.engine.entries import norm_time, read_items, time_text, to_time
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.positions import positions_table, reading
from projections.engine.query import snapshot
from projections.engine.schema import TableNames

VIEW = "audit_trail"
VIEWS = (VIEW,)
STREAM_KINDS = ("enterprise", "key", "operator")
MAX_PAGE = 1000


class Actor(BaseModel):
    """Who caused the entry."""

    model_config = ConfigDict(frozen=True)

    principal_id: str | None
    role: str | None


class AuditEntry(BaseModel):
    """One ledger entry as the auditor sees it."""

    model_config = ConfigDict(frozen=True)

    ledger_index: int
    stream: str | None
    uscc: str | None
    originator_id: str
    originator_version: int
    topic: str
    event_type: str
    recorded_at: datetime
    actor: Actor
    request_id: str | None
    idempotency_key: str | None
    entry_hash: str
    chain_hash: str
    data: dict[str, Any]


def parse_stream(stream: str) -> tuple[str, str]:
    """`kind:value` checked: kind is enterprise, key or operator (a UUID)."""
    kind, sep, value = stream.partition(":")
    if not sep or kind not in STREAM_KINDS or not value:
        raise ValueError(
            f"a stream is enterprise:{{uscc}}, key:{{card_no}} or operator:{{id}}, not {stream!r}"
        )
    if kind == "operator":
        value = str(UUID(value))
    return kind, value


def _select(tables: TableNames, join: str = "JOIN") -> str:
    """Ledger rows with the stream they are filed under (the id's form differs by backend)."""
    database = tables.database
    same = (
        "e.originator_id = CAST(s.originator_id AS uuid)"
        if database.dialect == "postgres"
        else "e.originator_id = replace(s.originator_id, '-', '')"
    )
    return (
        "SELECT e.ledger_index, e.originator_id, e.originator_version, e.topic, e.state, "
        f"e.entry_hash, e.chain_hash, s.stream, s.uscc FROM {database.events_table} e "
        f"{join} {tables(STREAMS.name)} s ON {same}"
    )


def _entries(rows: list[tuple[Any, ...]]) -> list[AuditEntry]:
    entries = []
    for index, oid, version, topic, state, entry_hash, chain_hash, stream, uscc in rows:
        data = orjson.loads(bytes(state))
        actor = data.get("actor") or {}
        entries.append(
            AuditEntry(
                ledger_index=index, stream=stream, uscc=uscc, originator_id=str(UUID(str(oid))),
                originator_version=version, topic=topic, event_type=type_name(topic),
                recorded_at=to_time(norm_time(data["timestamp"]) or ""),
                actor=Actor(principal_id=actor.get("principal_id"), role=actor.get("role")),
                request_id=data.get("request_id"), idempotency_key=data.get("idempotency_key"),
                entry_hash=bytes(entry_hash).hex(), chain_hash=bytes(chain_hash).hex(), data=data,
            )
        )  # fmt: skip
    return entries


def _reached(cursor: SqlCursor, tables: TableNames) -> int:
    """The trail's position (an as-of trail's is the one it was built to)."""
    name = tables.raw(VIEW)
    row = cursor.execute(
        f"SELECT position FROM {positions_table(tables.database)} WHERE view_name = ?", (name,)
    ).fetchone()
    return int(row[0]) if row is not None else 0


def _position_at(cursor: SqlCursor, tables: TableNames, moment: datetime, reached: int) -> int:
    """The ledger as it stood at `moment`: the entries before the first one recorded later."""
    after = time_text(moment)
    row = cursor.execute(
        f"SELECT MIN(bucket) FROM {tables(TIMES.name)} WHERE max_time > ?", (after,)
    ).fetchone()
    if row is None or row[0] is None:
        return reached
    start = int(row[0]) * BUCKET
    items = read_items(cursor, tables.database.events_table, start, BUCKET, reached)
    later = next((item.index for item in items if item.at > after), reached + 1)
    return min(later - 1, reached)


def position_at(database: LedgerDatabase, moment: datetime, *, fresh: Freshness = NO_WAIT) -> int:
    """The ledger position an as-of `moment` means (what `replay --until TIME` builds up to)."""
    with snapshot(database, VIEWS, fresh) as (cursor, tables):
        return _position_at(cursor, tables, moment, _reached(cursor, tables))


def stream_history(
    database: LedgerDatabase,
    stream: str,
    *,
    until_position: int | None = None,
    until_time: datetime | None = None,
    related: bool = True,
    after: int = 0,
    limit: int = MAX_PAGE,
    fresh: Freshness = NO_WAIT,
    names: TableNames | None = None,
) -> list[AuditEntry]:
    """A stream's entries in ledger order, as of a position and/or a time when given.

    `enterprise:{uscc}` with `related` (the default) includes its keys' and card holders'
    entries; `key:{card_no}` and `operator:{id}` are the aggregate's own entries.
    """
    kind, value = parse_stream(stream)
    with snapshot(database, VIEWS, fresh, names) as (cursor, tables):
        upper = _reached(cursor, tables)
        if until_position is not None:
            upper = min(upper, until_position)
        if until_time is not None:
            upper = min(upper, _position_at(cursor, tables, until_time, upper))
        if kind == "enterprise" and related:
            where, param = "s.uscc = ?", value
        else:
            where, param = "s.stream = ?", f"{kind}:{value}"
        rows = cursor.execute(
            f"{_select(tables)} WHERE {where} AND e.ledger_index > ? AND e.ledger_index <= ? "
            "ORDER BY e.ledger_index LIMIT ?",
            (param, after, upper, max(0, min(limit, MAX_PAGE))),
        ).fetchall()
    return _entries(rows)


def audit_events(
    database: LedgerDatabase,
    *,
    after: int = 0,
    limit: int = 100,
    fresh: Freshness = NO_WAIT,
    names: TableNames | None = None,
) -> list[AuditEntry]:
    """Every entry after ledger index `after`, `limit` (at most 1000) at a time."""
    with snapshot(database, VIEWS, fresh, names) as (cursor, tables):
        upper = min(_reached(cursor, tables), after + max(0, min(limit, MAX_PAGE)))
        rows = cursor.execute(
            f"{_select(tables, 'LEFT JOIN')} "
            "WHERE e.ledger_index > ? AND e.ledger_index <= ? ORDER BY e.ledger_index",
            (after, upper),
        ).fetchall()
    return _entries(rows)


def stream_of(database: LedgerDatabase, originator_id: UUID) -> tuple[str, str] | None:
    """The stream (`key:{card_no}`, …) and the enterprise an aggregate's entries belong to, or
    None for entries of no enterprise (erasures, tokens) or not yet in the trail."""
    with reading(database) as cursor:
        row = cursor.execute(
            f"SELECT stream, uscc FROM {database.table(STREAMS.name)} WHERE originator_id = ?",
            (str(originator_id),),
        ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))
