"""Row state of a fold: load the rows a batch touches in one query, fold in memory, write back."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from ledger_store.eventstore.database import SqlCursor
from projections.engine.schema import TableNames, TableSpec
from projections.engine.sqlbulk import replace_rows, select_where_in

Row = dict[str, Any]


class RowSet:
    """The rows of one table a fold reads and writes, keyed by the table's single-column key.

    Rows are held in two generations: `forget` (after a flush) makes the young rows old and
    drops the old ones; a row used again is promoted. A long rebuild thus keeps the rows it
    still touches without holding every row it ever saw.
    """

    def __init__(self, spec: TableSpec, names: TableNames) -> None:
        if len(spec.key) != 1:  # pragma: no cover - a programming error
            raise ValueError(f"{spec.name}: RowSet needs a single-column key")
        self.spec = spec
        self.table = names(spec.name)
        self.key = spec.key[0]
        self.rows: dict[Any, Row] = {}
        self.old: dict[Any, Row] = {}
        self.fresh: set[Any] = set()
        self.dirty: set[Any] = set()
        self._missing: set[Any] = set()

    def load(self, cursor: SqlCursor, keys: Iterable[Any]) -> None:
        """Hold the rows of these keys: promoted, or read from the table (unknown ones stay out)."""
        rows, old, missing = self.rows, self.old, self._missing
        wanted = set()
        for key in keys:
            if key in rows or key in missing:
                continue
            if key in old:
                rows[key] = old.pop(key)
            else:
                wanted.add(key)
        if not wanted:
            return
        columns = self.spec.column_names
        key_type = dict(self.spec.columns)[self.key]
        for values in select_where_in(cursor, self.table, columns, self.key, wanted, key_type):
            row = dict(zip(columns, values, strict=True))
            rows[row[self.key]] = row
        missing |= wanted - rows.keys()

    def get(self, key: Any) -> Row | None:
        """The row held (loaded or created), or None."""
        row = self.rows.get(key)
        if row is None and key in self.old:
            row = self.rows[key] = self.old.pop(key)
        return row

    def create(self, key: Any, row: Row, *, new: bool = False) -> Row:
        """A new row (columns default to None), replacing any row of the same key.

        `new` says the key cannot be stored yet (the originator of a version-1 event): its
        write then needs no DELETE and no prior load.
        """
        full = dict.fromkeys(self.spec.column_names)
        full.update(row)
        full[self.key] = key
        held = key in self.rows or self.old.pop(key, None) is not None
        if not held and (new or key in self._missing):
            self.fresh.add(key)
        self.rows[key] = full
        self.dirty.add(key)
        return full

    def touch(self, key: Any) -> None:
        """Mark a row changed."""
        self.dirty.add(key)

    def flush(self, cursor: SqlCursor) -> None:
        """Write every changed row."""
        if not self.dirty:
            return
        values = itemgetter(*self.spec.column_names)
        rows = [values(self.rows[key]) for key in self.dirty]
        replace_rows(cursor, self.table, self.spec, rows, fresh=self.fresh)
        self.dirty.clear()
        self.fresh.clear()  # written: a later write must replace them
        self._missing.clear()

    def __len__(self) -> int:
        return len(self.rows)

    def forget(self) -> None:
        """After a flush: the young rows become old, the old ones are dropped."""
        self.old = self.rows
        self.rows = {}
        self._missing.clear()
