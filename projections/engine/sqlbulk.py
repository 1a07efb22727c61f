"""Bulk reads and writes of view rows: portable SQL, with COPY and arrays on PostgreSQL.

Every view writes through these few functions, so a batch costs a handful of round trips
whatever its size: one SELECT of the rows it touches, one DELETE, one COPY (or executemany).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from ledger_store.eventstore.database import SqlCursor
from projections.engine.schema import TableSpec

SQLITE_CHUNK = 500
"""Keys per `IN (...)` on SQLite (it allows at most 32766 parameters; stay well below)."""

PG_ARRAY_TYPES = {"TEXT": "text[]", "BIGINT": "bigint[]", "INTEGER": "integer[]"}
PG_TYPES = {"TEXT": "text", "BIGINT": "int8", "INTEGER": "int4"}


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def select_where_in(
    cursor: SqlCursor,
    table: str,
    columns: Sequence[str],
    column: str,
    values: Collection[Any],
    column_type: str = "TEXT",
) -> list[tuple[Any, ...]]:
    """The rows whose `column` is one of `values`."""
    if not values:
        return []
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE {column}"
    keys = list(values)
    if cursor.dialect == "postgres":
        array = PG_ARRAY_TYPES[column_type]
        return cursor.execute(f"{select} = ANY(?::{array})", (keys,)).fetchall()
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(keys, SQLITE_CHUNK):
        marks = ",".join("?" * len(chunk))
        rows += cursor.execute(f"{select} IN ({marks})", chunk).fetchall()
    return rows


def delete_where_in(
    cursor: SqlCursor, table: str, column: str, values: Collection[Any], column_type: str = "TEXT"
) -> None:
    """Delete the rows whose `column` is one of `values`."""
    if not values:
        return
    keys = list(values)
    if cursor.dialect == "postgres":
        array = PG_ARRAY_TYPES[column_type]
        cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(?::{array})", (keys,))
        return
    for chunk in _chunks(keys, SQLITE_CHUNK):
        marks = ",".join("?" * len(chunk))
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)


def insert_rows(
    cursor: SqlCursor, table: str, spec: TableSpec, rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows (values in `spec`'s column order): binary COPY on PostgreSQL."""
    if not rows:
        return
    cols = ", ".join(spec.column_names)
    if cursor.dialect == "postgres":
        with cursor.raw.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([PG_TYPES[kind] for _, kind in spec.columns])
            for row in rows:
                copy.write_row(row)
        return
    marks = ",".join("?" * len(spec.columns))
    cursor.raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def replace_rows(
    cursor: SqlCursor,
    table: str,
    spec: TableSpec,
    rows: Sequence[Sequence[Any]],
    *,
    fresh: Collection[Any] = (),
) -> None:
    """Write rows whole, replacing any stored row with the same (single-column) key.

    `fresh` holds keys known not to be stored yet (created in this batch): no DELETE for them.
    """
    if not rows:
        return
    key = spec.key[0]
    index = spec.column_names.index(key)
    stale = [row[index] for row in rows if row[index] not in fresh]
    delete_where_in(cursor, table, key, stale, dict(spec.columns)[key])
    insert_rows(cursor, table, spec, rows)
