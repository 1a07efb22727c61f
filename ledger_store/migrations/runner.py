"""How migrations run: numbered files, applied in order, each in its own transaction, under a
lock, recorded in `schema_migrations`.

A migration is one module in `versions/` named `m<NNNN>_<what>.py` with a docstring (its first
line is the description) and `up(ctx: MigrationContext) -> None`. Numbers are dense from 1;
adding a table is one new file with the next number. `up` runs inside the transaction that
records it, so a migration is applied completely or not at all (SQLite and PostgreSQL both
have transactional DDL); it should still be written to be idempotent (`IF NOT EXISTS`), since
the first migrations adopt the tables of databases made before migrations existed (release
0.1.0).

Processes that start together do not race: each step first takes a lock — an advisory
transaction lock on PostgreSQL (per schema), SQLite's write lock (`BEGIN IMMEDIATE`) — and then
reads which versions are applied. A database whose version is newer than this release knows is
refused: an older release must not write to it.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from types import ModuleType
from typing import Any

from ledger_store.eventstore.database import Dialect, LedgerDatabase, SqlCursor
from ledger_store.eventstore.failures import LedgerStateError

MIGRATIONS_TABLE = "schema_migrations"


@dataclass(frozen=True, slots=True)
class MigrationContext:
    """What a migration may use: the transaction's cursor and the database's naming."""

    cursor: SqlCursor
    database: LedgerDatabase

    @property
    def dialect(self) -> Dialect:
        """`sqlite` or `postgres`."""
        return self.database.dialect

    @property
    def blob(self) -> str:
        """The dialect's byte-string column type."""
        return "BYTEA" if self.dialect == "postgres" else "BLOB"

    def table(self, name: str) -> str:
        """A table of the ledger's database as SQL may name it (schema-qualified on PostgreSQL)."""
        return self.database.table(name)

    def execute(self, statement: Any, params: Sequence[Any] | None = None) -> None:
        """Run one statement: DDL as it is (no placeholders), or with `?` parameters."""
        if params is None:
            self.cursor.raw.execute(statement)
        else:
            self.cursor.execute(statement, params)


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: its number, name, description and what it does."""

    version: int
    name: str
    description: str
    up: Callable[[MigrationContext], None]
    module: ModuleType


def _discover() -> tuple[Migration, ...]:
    from ledger_store.migrations import versions

    found = []
    for info in pkgutil.iter_modules(versions.__path__):
        number, _, name = info.name.partition("_")
        if not (number.startswith("m") and number[1:].isdigit() and name):
            continue
        module = importlib.import_module(f"{versions.__name__}.{info.name}")
        doc = (module.__doc__ or name).strip().splitlines()[0]
        found.append(Migration(int(number[1:]), name, doc, module.up, module))
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):  # pragma: no cover - caught by the tests
        raise RuntimeError(f"migration numbers must run 1, 2, 3 … without gaps: {numbers}")
    return tuple(found)


MIGRATIONS: tuple[Migration, ...] = _discover()


def latest_version() -> int:
    """The version this release brings a database to."""
    return MIGRATIONS[-1].version


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands: its version (0: none recorded) and what this release knows."""

    current: int
    latest: int
    has_ledger: bool
    """Whether the events table exists (a database of 0.1.0 has it without a version)."""

    @property
    def pending(self) -> list[Migration]:
        """The migrations this database still needs."""
        return [m for m in MIGRATIONS if m.version > self.current]

    @property
    def too_new(self) -> bool:
        """Whether a later release has migrated this database."""
        return self.current > self.latest

    def to_json(self) -> dict[str, Any]:
        """The machine-readable form."""
        return {
            "current": self.current,
            "latest": self.latest,
            "has_ledger": self.has_ledger,
            "pending": [{"version": m.version, "name": m.name} for m in self.pending],
        }


def _exists(cursor: SqlCursor, database: LedgerDatabase, table: str) -> bool:
    if database.dialect == "postgres":
        row = cursor.execute("SELECT to_regclass(?)", (database.table(table),)).fetchone()
        return row is not None and row[0] is not None
    row = cursor.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return row is not None


def _events_table_name(database: LedgerDatabase) -> str:
    name: str = getattr(database, "events_table_name", "")
    return name


def _read_status(cursor: SqlCursor, database: LedgerDatabase) -> SchemaStatus:
    has_ledger = _exists(cursor, database, _events_table_name(database))
    current = 0
    if _exists(cursor, database, MIGRATIONS_TABLE):
        row = cursor.execute(
            f"SELECT MAX(version) FROM {database.table(MIGRATIONS_TABLE)}"
        ).fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
    return SchemaStatus(current, latest_version(), has_ledger)


def schema_status(database: LedgerDatabase) -> SchemaStatus:
    """Where the database stands (reads only; a missing schema reads as an empty one)."""
    with database.reading() as cursor:
        return _read_status(cursor, database)


def refuse_if_too_new(status: SchemaStatus, where: str) -> None:
    """A LedgerStateError when a later release has migrated the database."""
    if status.too_new:
        raise LedgerStateError(
            f"the database ({where}) is at schema version {status.current}, newer than this "
            f"release of eport-ledger knows ({status.latest}): run the release that migrated it"
        )


def _lock(cursor: SqlCursor, database: LedgerDatabase) -> None:
    """Serialise migrating processes (SQLite's BEGIN IMMEDIATE already holds the write lock)."""
    if database.dialect != "postgres":
        return
    schema = getattr(getattr(database, "datastore", None), "schema", "public")
    digest = hashlib.sha256(f"eport-ledger migrations {schema}".encode()).digest()
    cursor.execute(
        "SELECT pg_advisory_xact_lock(?)", (int.from_bytes(digest[:8], "big", signed=True),)
    )
    row = cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", (schema,)).fetchone()
    if row is None:  # created only when missing: CREATE needs a privilege USAGE does not
        cursor.raw.execute(f'CREATE SCHEMA "{schema}"')


def _bookkeeping(cursor: SqlCursor, database: LedgerDatabase) -> None:
    cursor.raw.execute(
        f"CREATE TABLE IF NOT EXISTS {database.table(MIGRATIONS_TABLE)} ("
        "version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL, "
        "release TEXT NOT NULL)"
    )


def _release() -> str:
    try:
        return metadata.version("eport-ledger")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def migrate(
    database: LedgerDatabase,
    *,
    where: str = "",
    on_apply: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply every pending migration in order, each in its own locked transaction; the ones
    this call applied (none when the database is current or another process did them)."""
    applied: list[Migration] = []
    while True:
        with database.transaction() as cursor:
            _lock(cursor, database)
            status = _read_status(cursor, database)
            refuse_if_too_new(status, where or "this database")
            if not status.pending:
                return applied
            step = status.pending[0]
            if on_apply is not None:
                on_apply(step)
            _bookkeeping(cursor, database)
            step.up(MigrationContext(cursor, database))
            cursor.execute(
                f"INSERT INTO {database.table(MIGRATIONS_TABLE)} "
                "(version, name, applied_at, release) VALUES (?, ?, ?, ?)",
                (step.version, step.name, datetime.now(UTC).isoformat(), _release()),
            )
        applied.append(step)
