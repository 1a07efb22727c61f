"""What the rest of the system may ask of the ledger's database, whichever backend holds it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol
from uuid import UUID

from ledger_store.proofs.chain import LedgerEntry

if TYPE_CHECKING:
    from ledger_store.eventstore.async_pool import AsyncPool

Dialect = Literal["sqlite", "postgres"]


class SqlCursor:
    """A cursor that takes `?` placeholders on both backends and returns plain tuples."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    def sql(self, statement: str) -> str:
        """The statement in the backend's placeholder style."""
        return statement.replace("?", "%s") if self.dialect == "postgres" else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> SqlCursor:
        """Run one statement with positional parameters (never string formatting)."""
        self.raw.execute(self.sql(statement), tuple(params))
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        if rows:
            self.raw.executemany(self.sql(statement), [tuple(r) for r in rows])

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        row = self.raw.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows."""
        return [tuple(row) for row in self.raw.fetchall()]


PAGE = 1000


def iter_pages(
    read: Callable[[int, int, int | None], list[LedgerEntry]], after: int, until: int | None
) -> Iterator[LedgerEntry]:
    """Stream entries page by page through `read(after, limit, until)` (flat memory)."""
    while True:
        page = read(after, PAGE, until)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].ledger_index


def committed_indexes(
    database: LedgerDatabase,
    stored_events: Sequence[Any],
    stored_id: Callable[[UUID], Any],
) -> list[int] | None:
    """Whether an append whose acknowledgement was lost did commit: the indexes when every
    event is stored with the same bytes, None when none is (one transaction: all or none)."""
    if not stored_events:
        return None
    indexes = []
    with database.transaction() as cursor:
        for event in stored_events:
            row = cursor.execute(
                f"SELECT ledger_index, state FROM {database.events_table} "
                "WHERE originator_id = ? AND originator_version = ?",
                (stored_id(event.originator_id), event.originator_version),
            ).fetchone()
            if row is None or bytes(row[1]) != event.state:
                return None
            indexes.append(int(row[0]))
    return indexes


@dataclass(frozen=True, slots=True)
class AppendedPosition:
    """The ledger index an append ends at, as SQL later in the same transaction can read it.

    SQL rather than a number: on PostgreSQL the server assigns the indexes under the writer
    lock, in the same statement as the writes that need them (a subquery of that statement);
    on SQLite the recorder knows them (a bound value).
    """

    sql: str
    """A scalar expression with `?` placeholders."""
    params: tuple[Any, ...]


class TransactionWrite(Protocol):
    """Something written in the same transaction as a command's events."""

    def statement(self, position: AppendedPosition) -> tuple[str, tuple[Any, ...]]:
        """One INSERT ... SELECT (`?` placeholders) that may read where the append ends.

        It runs after the append in the same transaction: on PostgreSQL inside the append's
        statement, as a data-modifying CTE. Its parameters end with `position.params`.
        """


class LedgerDatabase(Protocol):
    """The ledger's recorder as seen by views, auditors and the API."""

    dialect: Dialect

    @property
    def events_table(self) -> str:
        """The events table's (qualified) name."""

    def table(self, name: str) -> str:
        """Another table of the ledger's database, qualified as SQL may name it."""

    def transaction(self) -> AbstractContextManager[SqlCursor]:
        """A read-write transaction on the ledger's database."""

    def reading(self) -> AbstractContextManager[SqlCursor]:
        """A read transaction (one consistent snapshot where the backend gives one)."""

    def async_pool(self) -> AsyncPool | None:
        """A new, unopened pool for statements on the event loop, where the backend has one."""

    async def insert_events_async(
        self,
        pool: AsyncPool,
        stored_events: Sequence[Any],
        writes: Sequence[TransactionWrite] = (),
    ) -> list[int]:
        """The append on the event loop, through `pool` (backends with an async pool)."""

    def read_entries(self, after: int, limit: int, until: int | None = None) -> list[LedgerEntry]:
        """Entries with ledger index > after (and <= until), in ledger order."""

    def head(self) -> tuple[int, bytes]:
        """The last ledger index and its chain hash (0 and the genesis hash when empty)."""

    def iter_entries(self, after: int = 0, until: int | None = None) -> Iterator[LedgerEntry]:
        """Every entry after `after`, streamed in pages."""

    def committed_indexes(self, stored_events: Sequence[Any]) -> list[int] | None:
        """The ledger indexes of exactly these stored events if they committed, else None."""


class HasDatabase(Protocol):
    """Anything that holds the ledger's database (the Ledger, the event store)."""

    @property
    def database(self) -> LedgerDatabase:
        """The ledger's database."""


def database_of(holder: HasDatabase | LedgerDatabase) -> LedgerDatabase:
    """The database itself, or the one `holder` holds."""
    held: LedgerDatabase | None = getattr(holder, "database", None)
    return held if held is not None else holder  # type: ignore[return-value]
