"""SQLite application recorder that hash-chains every event in the committing transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger_store.eventstore.database import (
    AppendedPosition,
    Dialect,
    SqlCursor,
    TransactionWrite,
    committed_indexes as _committed,
    iter_pages,
)
from ledger_store.proofs.chain import GENESIS, LedgerEntry, UnchainedEvent, extend_chain


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """Stores events with a dense ledger index, an entry hash and a chain hash."""

    dialect: Dialect = "sqlite"

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        table = self.events_table_name
        self.insert_events_statement = (
            f"INSERT INTO {table} (originator_id, originator_version, topic, state, "
            "ledger_index, entry_hash, chain_hash) VALUES (?,?,?,?,?,?,?)"
        )
        self.select_head_statement = (
            f"SELECT ledger_index, chain_hash FROM {table} ORDER BY ledger_index DESC LIMIT 1"
        )
        self.select_entries_statement = (
            "SELECT ledger_index, originator_id, originator_version, topic, state, "
            f"entry_hash, chain_hash FROM {table} WHERE ledger_index > ? AND ledger_index <= ? "
            "ORDER BY ledger_index LIMIT ?"
        )

    @property
    def events_table(self) -> str:
        """The events table's name as SQL may use it."""
        return self.events_table_name

    def table(self, name: str) -> str:
        """Another table of the ledger's database, as SQL may name it."""
        return name

    def async_pool(self) -> None:
        """None: SQLite statements run in worker threads."""

    async def insert_events_async(
        self, pool: Any, stored_events: Sequence[StoredEvent], writes: Sequence[Any] = ()
    ) -> list[int]:
        """Not on SQLite: it has no async pool (its commands run in worker threads)."""
        raise NotImplementedError("SQLite appends run in worker threads")

    def construct_create_table_statements(self) -> list[str]:
        """The events table with the chain columns, and its ledger-index index."""
        table = self.events_table_name
        return [
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, state BLOB NOT NULL, "
            "ledger_index INTEGER NOT NULL, entry_hash BLOB NOT NULL, chain_hash BLOB NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_ledger_index ON {table} (ledger_index)",
        ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        """Append events (and any same-transaction writes) under SQLite's write lock."""
        writes: Sequence[TransactionWrite] = kwargs.get("writes", ())
        with self.transaction() as cursor:
            positions = self._append(cursor, stored_events)
            if positions:  # computed here, under the write lock: the writes take it as a value
                position = AppendedPosition("?", (positions[-1],))
                for write in writes:
                    cursor.execute(*write.statement(position))
        return positions

    def _append(self, cursor: SqlCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        if not stored_events:
            return []
        head_row = cursor.execute(self.select_head_statement).fetchone()
        head_index, head_hash = (head_row[0], bytes(head_row[1])) if head_row else (0, GENESIS)
        rows = list(
            extend_chain(
                head_index,
                head_hash,
                (
                    UnchainedEvent(_uuid(s.originator_id), s.originator_version, s.topic, s.state)
                    for s in stored_events
                ),
            )
        )
        cursor.executemany(
            self.insert_events_statement,
            [
                (
                    r.originator_id.hex,
                    r.originator_version,
                    r.topic,
                    r.state,
                    r.ledger_index,
                    r.entry_hash,
                    r.chain_hash,
                )
                for r in rows
            ],
        )
        return [r.ledger_index for r in rows]

    @contextmanager
    def transaction(self) -> Iterator[SqlCursor]:
        """A write transaction that takes SQLite's write lock at BEGIN (no upgrade deadlocks)."""
        with self.datastore.get_connection(commit=True) as connection:
            raw = connection._sqlite_conn  # the library keeps the sqlite3 connection here
            cursor = raw.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield SqlCursor(cursor, "sqlite")
                raw.commit()
            except sqlite3.IntegrityError as error:
                raw.rollback()
                raise IntegrityError(error) from error
            except sqlite3.OperationalError as error:
                if raw.in_transaction:
                    raw.rollback()
                raise OperationalError(error) from error
            except BaseException:
                if raw.in_transaction:
                    raw.rollback()
                raise
            finally:
                # Closed here, in the thread that holds the connection, not later by the
                # garbage collector in whatever thread runs it while another uses it.
                cursor.close()

    def committed_indexes(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The ledger indexes of exactly these events if they are stored, else None."""
        return _committed(self, stored_events, lambda value: value.hex)

    @contextmanager
    def reading(self) -> Iterator[SqlCursor]:
        """A read-only transaction (one consistent snapshot)."""
        with self.datastore.transaction(commit=False) as cursor:
            yield SqlCursor(cursor, "sqlite")

    def head(self) -> tuple[int, bytes]:
        """The last ledger index and its chain hash."""
        with self.reading() as cursor:
            row = cursor.execute(self.select_head_statement).fetchone()
        return (row[0], bytes(row[1])) if row else (0, GENESIS)

    def read_entries(self, after: int, limit: int, until: int | None = None) -> list[LedgerEntry]:
        """Entries after `after` (up to `until`), in ledger order."""
        upper = until if until is not None else 2**62
        with self.reading() as cursor:
            rows = cursor.execute(self.select_entries_statement, (after, upper, limit)).fetchall()
        return [
            LedgerEntry(r[0], _stored_uuid(r[1]), r[2], r[3], bytes(r[4]), bytes(r[5]), bytes(r[6]))
            for r in rows
        ]

    def iter_entries(self, after: int = 0, until: int | None = None) -> Iterator[LedgerEntry]:
        """Every entry after `after`, streamed in pages."""
        return iter_pages(self.read_entries, after, until)


def _stored_uuid(text: str) -> UUID:
    """A stored stream id; one altered into a non-UUID reads as the nil UUID, which no
    aggregate has (ids are uuid5), so verify finds the entry hash broken at that index."""
    try:
        return UUID(text)
    except (ValueError, TypeError, AttributeError):
        return UUID(int=0)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
