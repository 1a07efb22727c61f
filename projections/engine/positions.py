"""The `view_positions` table: for each view, the last ledger index its rows reflect."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from projections.engine.entries import time_text

POSITIONS = "view_positions"


def positions_table(database: LedgerDatabase) -> str:
    """The qualified name of the positions table."""
    return database.table(POSITIONS)


def setup_lock(cursor: SqlCursor, database: LedgerDatabase) -> None:
    """Serialise schema changes of the views between processes (BEGIN IMMEDIATE does on SQLite)."""
    if cursor.dialect == "postgres":
        digest = hashlib.sha256(positions_table(database).encode()).digest()
        cursor.execute(
            "SELECT pg_advisory_xact_lock(?)", (int.from_bytes(digest[:8], "big", signed=True),)
        )


def relax_durability(cursor: SqlCursor) -> None:
    """Let this transaction commit without waiting for its WAL flush (PostgreSQL).

    Safe for views: rows and position are lost together if the server crashes just after, and
    the runner then applies those entries again from the older position: still exactly once.
    """
    if cursor.dialect == "postgres":
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def lock_positions(
    cursor: SqlCursor, database: LedgerDatabase, names: Sequence[str], *, skip_locked: bool
) -> dict[str, tuple[int, int]]:
    """Lock the named views' rows for this transaction: {name: (position, version)}.

    With `skip_locked`, rows another worker holds are left out (it is applying that view now).
    SQLite needs no row locks: the transaction holds the database's single write lock.
    """
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    statement = (
        f"SELECT view_name, position, version FROM {positions_table(database)} "
        f"WHERE view_name IN ({marks}) ORDER BY view_name"
    )
    if cursor.dialect == "postgres":
        statement += " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
    rows = cursor.execute(statement, list(names)).fetchall()
    return {str(name): (int(position), int(version)) for name, position, version in rows}


def write_positions(
    cursor: SqlCursor,
    database: LedgerDatabase,
    positions: Mapping[str, int],
    now: datetime | None = None,
) -> None:
    """Set the views' positions (in the transaction that wrote their rows)."""
    stamp = time_text(now or datetime.now(UTC))
    cursor.executemany(
        f"UPDATE {positions_table(database)} SET position = ?, updated_at = ? WHERE view_name = ?",
        [(position, stamp, name) for name, position in positions.items()],
    )


def reset_position(
    cursor: SqlCursor, database: LedgerDatabase, name: str, position: int, version: int
) -> None:
    """Create or overwrite a view's row (after creating or swapping its tables)."""
    table = positions_table(database)
    cursor.execute(f"DELETE FROM {table} WHERE view_name = ?", (name,))
    cursor.execute(
        f"INSERT INTO {table} (view_name, position, version, updated_at) VALUES (?, ?, ?, NULL)",
        (name, position, version),
    )


def reading(database: LedgerDatabase) -> AbstractContextManager[SqlCursor]:
    """A read-only transaction: SQLite's deferred one (no write lock), else a plain one."""
    read = getattr(database, "reading", None)
    if read is not None:
        context: AbstractContextManager[SqlCursor] = read()
        return context
    return database.transaction()


def read_positions(database: LedgerDatabase, names: Iterable[str]) -> dict[str, int]:
    """The views' positions as committed now (views never set up are absent)."""
    wanted = list(names)
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    try:
        with reading(database) as cursor:
            rows = cursor.execute(
                f"SELECT view_name, position FROM {positions_table(database)} "
                f"WHERE view_name IN ({marks})",
                wanted,
            ).fetchall()
    except Exception as error:  # the table does not exist yet: no view has any position
        if _is_missing_table(error):
            return {}
        raise
    return {str(name): int(position) for name, position in rows}


def _is_missing_table(error: BaseException) -> bool:
    text = str(error).lower()
    return "no such table" in text or "does not exist" in text
