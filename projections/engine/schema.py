"""Table specifications of the views, their DDL on both dialects, and how tables are named."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger_store.eventstore.database import Dialect, LedgerDatabase, SqlCursor

ColumnType = str
"""TEXT, BIGINT or INTEGER: the portable subset both dialects agree on."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table of a view: its columns (in insert order), primary key and secondary indexes."""

    name: str
    columns: tuple[tuple[str, ColumnType], ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(name for name, _ in self.columns))
        missing = [k for k in self.key if k not in self.column_names]
        if missing:  # pragma: no cover - a programming error caught at import
            raise ValueError(f"{self.name}: key columns {missing} are not columns")

    def create_statements(self, names: TableNames, *, with_indexes: bool = True) -> list[str]:
        """CREATE TABLE (and its indexes) under the names `names` gives."""
        cols = ", ".join(
            f"{name} {kind}{' NOT NULL' if name in self.key else ''}" for name, kind in self.columns
        )
        table = names(self.name)
        statements = [
            f"CREATE TABLE IF NOT EXISTS {table} ({cols}, PRIMARY KEY ({', '.join(self.key)}))"
        ]
        if with_indexes:
            statements += self.index_statements(names)
        return statements

    def index_statements(
        self, names: TableNames, index_names: TableNames | None = None
    ) -> list[str]:
        """CREATE INDEX statements; indexes are named after `index_names` (default `names`)."""
        index_names = index_names or names
        return [
            f"CREATE INDEX IF NOT EXISTS {index_names.raw(self.name)}_ix{i} "
            f"ON {names(self.name)} ({', '.join(columns)})"
            for i, columns in enumerate(self.indexes)
        ]


class TableNames:
    """Maps a view's logical table names to physical ones: live, `__new` (rebuild) or `asof_`."""

    def __init__(self, database: LedgerDatabase, prefix: str = "", suffix: str = "") -> None:
        self.database = database
        self.prefix = prefix
        self.suffix = suffix

    @property
    def dialect(self) -> Dialect:
        """The dialect of the database holding the tables."""
        return self.database.dialect

    def raw(self, logical: str) -> str:
        """The unqualified physical name."""
        return f"{self.prefix}{logical}{self.suffix}"

    def __call__(self, logical: str) -> str:
        """The physical name as SQL may use it (schema-qualified on PostgreSQL)."""
        return self.database.table(self.raw(logical))

    def with_suffix(self, suffix: str) -> TableNames:
        """The same prefix with another suffix."""
        return TableNames(self.database, self.prefix, suffix)

    def __repr__(self) -> str:
        return f"TableNames(prefix={self.prefix!r}, suffix={self.suffix!r})"


def live_names(database: LedgerDatabase) -> TableNames:
    """The names of the live views' tables."""
    return TableNames(database)


def create_tables(cursor: SqlCursor, specs: tuple[TableSpec, ...], names: TableNames) -> None:
    """Create the tables (and indexes) when they do not exist."""
    for spec in specs:
        for statement in spec.create_statements(names):
            cursor.execute(statement)


def drop_tables(cursor: SqlCursor, specs: tuple[TableSpec, ...], names: TableNames) -> None:
    """Drop the tables (with their indexes) when they exist."""
    for spec in specs:
        cursor.execute(f"DROP TABLE IF EXISTS {names(spec.name)}")
