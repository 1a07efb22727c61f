"""The runner: applies ledger entries to views in batches, each batch in one transaction with
the views' new positions, so every entry is applied exactly once and a crash loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger_store.eventstore.database import LedgerDatabase
from projections.engine.entries import gc_paused, read_items
from projections.engine.positions import (
    lock_positions,
    relax_durability,
    reset_position,
    setup_lock,
    write_positions,
)
from projections.engine.schema import TableNames, create_tables, drop_tables, live_names
from projections.engine.view import View
from projections.registry import tracked_views

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What one committed batch did: entries applied, up to which index, the views' positions."""

    applied: int
    last_index: int
    positions: dict[str, int]


def setup_views(database: LedgerDatabase, views: Sequence[View]) -> None:
    """Create each view's tables; reset (rebuild from the start) a view whose version changed.

    The positions table is made by migration m0004; the views' own tables are derived data,
    versioned per view in it, and rebuilt from the ledger rather than migrated.

    Safe to call from several processes at once (serialised by a lock) and on every start.
    """
    names = live_names(database)
    with database.transaction() as cursor:
        setup_lock(cursor, database)
        known = lock_positions(cursor, database, [v.name for v in views], skip_locked=False)
        for view in views:
            stored = known.get(view.name)
            if stored is not None and stored[1] == view.version:
                create_tables(cursor, view.tables, names)
                continue
            if stored is not None:
                log.warning(
                    "view %s changed from v%s to v%s: rebuilding it from the start",
                    view.name,
                    stored[1],
                    view.version,
                )
            drop_tables(cursor, view.tables, names)
            create_tables(cursor, view.tables, names)
            reset_position(cursor, database, view.name, 0, view.version)


class Runner:
    """Keeps views current: `step()` applies one batch; `catch_up()` applies until none is left."""

    def __init__(
        self,
        database: LedgerDatabase,
        views: Sequence[View] | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        names: TableNames | None = None,
    ) -> None:
        self.database = database
        self.views = list(views) if views is not None else tracked_views()
        self.batch_size = batch_size
        self.names = names or live_names(database)
        self.listeners: list[Callable[[BatchReport], None]] = []
        self._by_name = {view.name: view for view in self.views}

    def setup(self) -> None:
        """Create what the views need (idempotent)."""
        setup_views(self.database, self.views)

    def step(self, until: int | None = None) -> BatchReport | None:
        """Apply one batch in one transaction; None when caught up or another worker holds it."""
        database = self.database
        with gc_paused(), database.transaction() as cursor:
            held = lock_positions(cursor, database, list(self._by_name), skip_locked=True)
            if not held:
                return None
            relax_durability(cursor)
            positions = {name: position for name, (position, _) in held.items()}
            start = min(positions.values())
            items = read_items(cursor, database.events_table, start, self.batch_size, until)
            if not items:
                return None
            last = items[-1].index
            for name, position in positions.items():
                if position >= last:
                    continue
                batch = items if position == start else [i for i in items if i.index > position]
                self._by_name[name].apply(cursor, self.names, batch)
            moved = {name: last for name, position in positions.items() if position < last}
            write_positions(cursor, database, moved)
        report = BatchReport(len(items), last, {**positions, **moved})
        for listener in self.listeners:
            listener(report)
        return report

    def catch_up(self, until: int | None = None, stop: Callable[[], bool] | None = None) -> int:
        """Apply batches until none is left (or `stop()` says so); the number of entries read."""
        total = 0
        while stop is None or not stop():
            report = self.step(until)
            if report is None:
                break
            total += report.applied
            if report.applied < self.batch_size:
                break  # a short batch reached the head: no second transaction to find nothing
        return total
