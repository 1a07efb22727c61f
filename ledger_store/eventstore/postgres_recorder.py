"""PostgreSQL application recorder that hash-chains every event in the committing transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier
from psycopg_pool import PoolTimeout

from ledger_store.eventstore.async_pool import AsyncPool
from ledger_store.eventstore.database import (
    Dialect,
    SqlCursor,
    TransactionWrite,
    committed_indexes as _committed,
    iter_pages,
)
from ledger_store.eventstore.liveness import OUTAGE_WAIT, OutageGate, alive
from ledger_store.eventstore.postgres_append import AppendStatements
from ledger_store.proofs.chain import GENESIS, LedgerEntry

SCHEMA_LOCK = SQL("SELECT pg_advisory_xact_lock(hashtext('eport-ledger schema'))")
"""Taken first in the transaction that creates the tables and functions, so processes that
start together do not race on CREATE ... IF NOT EXISTS and CREATE OR REPLACE FUNCTION."""


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """Stores events with a dense ledger index, an entry hash and a chain hash.

    The append function's EXCLUSIVE table lock serialises writers; under it the server reads the
    chain head, hashes the new events and inserts them, so indexes are dense and commit in order.
    """

    dialect: Dialect = "postgres"

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.outage = OutageGate()
        """Shared with `async_pool()`: an outage found by either side makes both fail fast."""
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
        self.appends = AppendStatements(
            schema, table, Identifier(f"{self.events_table_name}_append"), self.channel_name
        )
        self.sql_create_statements.append(self.appends.create_function())
        # Hot statements are plain text: psycopg caches the parsing of a text query, while a
        # Composed one is rendered again on every execute.
        self.select_head_statement = (
            f"SELECT ledger_index, chain_hash FROM {self.events_table} "
            "ORDER BY ledger_index DESC LIMIT 1"
        )
        self.select_entries_statement = (
            "SELECT ledger_index, originator_id, originator_version, topic, state, entry_hash, "
            f"chain_hash FROM {self.events_table} WHERE ledger_index > %s "
            "AND ledger_index <= %s ORDER BY ledger_index LIMIT %s"
        )
        self._select_events_statements: dict[tuple[bool, bool, bool, bool], str] = {}
        self.select_max_index_statement = f"SELECT max(ledger_index) FROM {self.events_table}"

    def _create_table(self, curs: Any) -> None:
        curs.execute(SCHEMA_LOCK)
        super()._create_table(curs)

    @property
    def events_table(self) -> str:
        """The events table's schema-qualified name as SQL may use it."""
        return self.table(self.events_table_name)

    def table(self, name: str) -> str:
        """Another table of the ledger's database (same schema), as SQL may name it."""
        return f'"{self.datastore.schema}"."{name}"'

    def async_pool(self) -> AsyncPool:
        """A pool for statements on the event loop, connecting as the library's pool does."""
        pool = self.datastore.pool
        kwargs = (pool.kwargs() if callable(pool.kwargs) else pool.kwargs) or {}
        return AsyncPool(
            {name: value for name, value in kwargs.items() if name != "row_factory"},
            size=pool.min_size,
            timeout=pool.timeout,
            pre_ping=self.datastore.pre_ping,
            outage=self.outage,
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        """Append events, and any same-transaction writes, in ONE statement.

        The statement is its own transaction (the pool's connections are in autocommit): the
        append function takes the writer lock, reads the head, hashes and inserts; the writes
        run as data-modifying CTEs after it. The lock is held only while the server works,
        never while this process waits for the network or the interpreter. Never retried
        here: when a connection breaks after the statement was sent, only a read can tell
        whether it committed (`EventStore.record` and the Ledger ask `committed_indexes`).
        """
        if not stored_events:
            return []
        writes: Sequence[TransactionWrite] = kwargs.get("writes", ())
        statement, params = self.appends.statement(stored_events, writes)
        with (
            _library_errors(),
            self._connection() as conn,  # in autocommit: the statement is its own transaction
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            row = curs.execute(statement, params, prepare=True).fetchone()
        assert row is not None
        return list(row[0])

    async def insert_events_async(
        self,
        pool: AsyncPool,
        stored_events: Sequence[StoredEvent],
        writes: Sequence[TransactionWrite] = (),
    ) -> list[int]:
        """`insert_events` on the event loop: the same one statement, through `pool`."""
        statement, params = self.appends.statement(stored_events, writes)
        with _library_errors():
            row = await pool.fetchone_prepared(statement, params)
        assert row is not None
        return list(row[0])

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """One aggregate's events: the library's query, with only the columns it needs."""
        shape = (gt is not None, lte is not None, desc, limit is not None)
        statement = self._select_events_statements.get(shape)
        if statement is None:
            statement = self._select_events_statements[shape] = self._select_events_sql(*shape)
        params: list[Any] = [originator_id]
        params += [value for value in (gt, lte, limit) if value is not None]
        with self.reading() as cursor:
            rows = cursor.raw.execute(statement, params, prepare=True).fetchall()
        return [StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def _select_events_sql(self, gt: bool, lte: bool, desc: bool, limit: bool) -> str:
        return (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {self.events_table} WHERE originator_id = %s"
            + (" AND originator_version > %s" if gt else "")
            + (" AND originator_version <= %s" if lte else "")
            + (" ORDER BY originator_version DESC" if desc else " ORDER BY originator_version ASC")
            + (" LIMIT %s" if limit else "")
        )

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        """The library's notification log, numbered by ledger index.

        `insert_events` answers ledger indexes, so the log must carry the same numbers. The
        library numbers it by the `notification_id` bigserial instead, which skips a value
        for every event of a rolled-back append (a lost race, a refused idempotency write)
        and then no longer equals the ledger index.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            clauses.append("ledger_index >= %s" if inclusive_of_start else "ledger_index > %s")
            params.append(start)
        if stop is not None:
            clauses.append("ledger_index <= %s")
            params.append(stop)
        if topics:
            clauses.append("topic = ANY(%s)")
            params.append(list(topics))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        statement = (
            "SELECT ledger_index, originator_id, originator_version, topic, state "
            f"FROM {self.events_table}{where} ORDER BY ledger_index LIMIT %s"
        )
        with self.reading() as cursor:
            rows = cursor.raw.execute(statement, [*params, limit]).fetchall()
        return [
            Notification(
                id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=bytes(r[4])
            )
            for r in rows
        ]

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def max_notification_id(self) -> int | None:
        """The last ledger index (None when the ledger is empty), as `select_notifications`."""
        with self.reading() as cursor:
            row = cursor.raw.execute(self.select_max_index_statement).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[SqlCursor]:
        """A read-write transaction; errors come out as the library's persistence errors."""
        with (
            _library_errors(),
            self._connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            yield SqlCursor(curs, "postgres")

    @contextmanager
    def reading(self) -> Iterator[SqlCursor]:
        """Reads in autocommit: no BEGIN/COMMIT round trips (READ COMMITTED gives no snapshot
        across statements inside a transaction either)."""
        with (
            _library_errors(),
            self._connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            yield SqlCursor(curs, "postgres")

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A live pooled connection, straight from the pool once the library has opened it.

        The library's `get_connection` reopens the pool and registers its composite types on
        every use (a lock and a loop per statement on the hottest paths); our statements use
        neither. Connections that died while the database was away are dropped here (the pool
        replaces them at once) rather than failing the statement (`liveness.alive`).
        """
        pool = self.datastore.pool
        if pool.closed:  # the library opens its pool on first use
            with self.datastore.get_connection():
                pass
        gate = self.outage
        timeout = gate.timeout(pool.timeout)
        with gate.checkout():
            for _ in range(pool.max_size):
                conn = pool.getconn(timeout)
                if alive(conn):
                    break
                pool.putconn(conn)  # closed: the pool forgets it and connects a new one
                timeout = min(timeout, OUTAGE_WAIT)  # the server went away: fail fast if still
            else:
                conn = pool.getconn(timeout)
        try:
            yield conn
        finally:
            pool.putconn(conn)

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
    """psycopg's errors as the eventsourcing library's persistence errors.

    A pool timeout stays what it is: no connection came within the wait, nothing was sent, and
    retrying (the library's `retry` takes its OperationalError) would only multiply the wait.
    """
    try:
        yield
    except PoolTimeout:
        raise
    except psycopg.IntegrityError as error:
        raise IntegrityError(str(error)) from error
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise OperationalError(str(error)) from error
    except psycopg.Error as error:
        raise PersistenceError(str(error)) from error
