"""What a view is to the runner: tables, a version, and a fold of ledger items into rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ledger_store.eventstore.database import SqlCursor
from projections.engine.entries import Item
from projections.engine.schema import TableNames, TableSpec


class Fold(ABC):
    """A view's rows in memory while items are folded into them.

    `fold` reads the stored rows the items need (one query per table), then applies the items
    in memory; `flush` writes the changed rows. The runner uses one fold per batch; a rebuild
    keeps one across pages, flushing and forgetting rows when `size` grows past its bound, so
    each row is written about once and memory stays flat.
    """

    @abstractmethod
    def fold(self, cursor: SqlCursor, items: Sequence[Item]) -> None:
        """Apply the items (in ledger order, none seen before) to the rows."""

    @abstractmethod
    def flush(self, cursor: SqlCursor) -> None:
        """Write every row changed since the last flush."""

    @abstractmethod
    def size(self) -> int:
        """Rows held in memory."""

    @abstractmethod
    def forget(self) -> None:
        """Drop the rows held (call after `flush`)."""


class View(ABC):
    """A read model kept by the runner: rows in `tables`, folded from ledger items in order.

    The fold must be a pure function of the stored rows and the items: that is what makes the
    incremental runner, whatever its batches, and a rebuild from zero agree row for row.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    """Bump when the tables or the fold change: the runner then rebuilds the view from zero."""
    tables: ClassVar[tuple[TableSpec, ...]]

    @abstractmethod
    def start(self, names: TableNames) -> Fold:
        """A fold writing to the tables `names` names."""

    def apply(self, cursor: SqlCursor, names: TableNames, items: Sequence[Item]) -> None:
        """Fold one batch and write it (in the caller's transaction)."""
        fold = self.start(names)
        fold.fold(cursor, items)
        fold.flush(cursor)

    def __repr__(self) -> str:
        return f"<view {self.name} v{self.version}>"
