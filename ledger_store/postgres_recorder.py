"""PostgreSQL application recorder that hash-chains every event in the committing transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger_store.chain import GENESIS, UnchainedEvent, extend_chain
from ledger_store.database import (
    Dialect,
    LedgerEntry,
    SqlCursor,
    TransactionWrite,
    committed_indexes as _committed,
    iter_pages,
)


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """Stores events with a dense ledger index, an entry hash and a chain hash.

    The library's EXCLUSIVE table lock already serialises writers; under it we read the chain
    head, hash the new events and insert them, so indexes are dense and commit in order.
    """

    dialect: Dialect = "postgres"

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema, table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        self.sql_create_statements[self.create_table_statement_index] = SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
            "originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text NOT NULL, state bytea NOT NULL, notification_id bigserial, "
            "ledger_index bigint NOT NULL, entry_hash bytea NOT NULL, chain_hash bytea NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        ).format(schema=schema, table=table)
        self.sql_create_statements.append(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {schema}.{table} (ledger_index)"
            ).format(
                index=Identifier(f"{self.events_table_name}_ledger_index_idx"),
                schema=schema,
                table=table,
            )
        )
        self.chained_insert_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state, "
            "ledger_index, entry_hash, chain_hash) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], "
            "%s::bigint[], %s::bytea[], %s::bytea[])"
        ).format(schema=schema, table=table)
        self.select_head_statement = SQL(
            "SELECT ledger_index, chain_hash FROM {schema}.{table} "
            "ORDER BY ledger_index DESC LIMIT 1"
        ).format(schema=schema, table=table)
        self.select_entries_statement = SQL(
            "SELECT ledger_index, originator_id, originator_version, topic, state, entry_hash, "
            "chain_hash FROM {schema}.{table} WHERE ledger_index > %s AND ledger_index <= %s "
            "ORDER BY ledger_index LIMIT %s"
        ).format(schema=schema, table=table)
        self.notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel_name))

    @property
    def events_table(self) -> str:
        """The events table's schema-qualified name as SQL may use it."""
        return self.table(self.events_table_name)

    def table(self, name: str) -> str:
        """Another table of the ledger's database (same schema), as SQL may name it."""
        return f'"{self.datastore.schema}"."{name}"'

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        """Append events (and any same-transaction writes) under the table lock.

        Never retried here: when a connection breaks after COMMIT was sent, only a read can
        tell whether it landed (`LedgerCore.record` asks `committed_indexes`).
        """
        writes: Sequence[TransactionWrite] = kwargs.get("writes", ())
        with self.transaction(pipelined=True) as cursor:
            positions = self._append(cursor, stored_events)
            for write in writes:
                write.write(cursor, positions)
        return positions

    def _append(self, cursor: SqlCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        if not stored_events:
            return []
        curs = cursor.raw
        for statement in self.lock_table_statements:
            curs.execute(statement, prepare=True)
        curs.execute(self.notify_statement)
        curs.execute(self.select_head_statement, prepare=True)
        head_row = curs.fetchone()
        head_index, head_hash = (head_row[0], bytes(head_row[1])) if head_row else (0, GENESIS)
        rows = list(
            extend_chain(
                head_index,
                head_hash,
                (
                    UnchainedEvent(s.originator_id, s.originator_version, s.topic, s.state)  # type: ignore[arg-type]
                    for s in stored_events
                ),
            )
        )
        curs.execute(
            self.chained_insert_statement,
            (
                [r.originator_id for r in rows],
                [r.originator_version for r in rows],
                [r.topic for r in rows],
                [r.state for r in rows],
                [r.ledger_index for r in rows],
                [r.entry_hash for r in rows],
                [r.chain_hash for r in rows],
            ),
            prepare=True,
        )
        return [r.ledger_index for r in rows]

    @contextmanager
    def transaction(self, *, pipelined: bool = False) -> Iterator[SqlCursor]:
        """A read-write transaction; errors come out as the library's persistence errors.

        Pipelined, statements are sent without waiting for each answer: an append costs two
        round trips (lock + head, then insert + commit) instead of one per statement.
        """
        with _library_errors(), self.datastore.get_connection() as conn:
            pipeline = conn.pipeline() if pipelined else nullcontext()
            with pipeline, conn.transaction(), conn.cursor(row_factory=tuple_row) as curs:
                yield SqlCursor(curs, "postgres")

    @contextmanager
    def reading(self) -> Iterator[SqlCursor]:
        """Reads in autocommit: no BEGIN/COMMIT round trips (READ COMMITTED gives no snapshot
        across statements inside a transaction either)."""
        with (
            _library_errors(),
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            yield SqlCursor(curs, "postgres")

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def committed_indexes(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The ledger indexes of exactly these events if they are stored, else None."""
        return _committed(self, stored_events, lambda value: value)

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def head(self) -> tuple[int, bytes]:
        """The last ledger index and its chain hash."""
        with self.reading() as cursor:
            row = cursor.raw.execute(self.select_head_statement).fetchone()
        return (row[0], bytes(row[1])) if row else (0, GENESIS)

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def read_entries(self, after: int, limit: int, until: int | None = None) -> list[LedgerEntry]:
        """Entries after `after` (up to `until`), in ledger order."""
        upper = until if until is not None else 2**62
        with self.reading() as cursor:
            rows = cursor.raw.execute(
                self.select_entries_statement, (after, upper, limit), prepare=True
            ).fetchall()
        return [
            LedgerEntry(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5]), bytes(r[6])) for r in rows
        ]

    def iter_entries(self, after: int = 0, until: int | None = None) -> Iterator[LedgerEntry]:
        """Every entry after `after`, streamed in pages."""
        return iter_pages(self.read_entries, after, until)


@contextmanager
def _library_errors() -> Iterator[None]:
    """psycopg's errors as the eventsourcing library's persistence errors."""
    try:
        yield
    except psycopg.IntegrityError as error:
        raise IntegrityError(str(error)) from error
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise OperationalError(str(error)) from error
    except psycopg.Error as error:
        raise PersistenceError(str(error)) from error
