"""Rebuild views from zero into fresh tables and swap them in atomically; or build them as of a
moment (a ledger position or a time) into `asof_` tables for auditors, leaving the live views."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from ledger_store.eventstore.database import HasDatabase, LedgerDatabase, SqlCursor, database_of
from projections.engine.builder import Builder, in_parallel
from projections.engine.entries import gc_paused
from projections.engine.positions import lock_positions, reading, relax_durability, reset_position
from projections.engine.runner import setup_views
from projections.engine.schema import TableNames, TableSpec, create_tables, drop_tables
from projections.engine.view import View
from projections.registry import resolve_views

PAGE_POSTGRES = 20_000
PAGE_SQLITE = 2_000
"""Entries per page; a SQLite page holds the single writer lock while it is written."""
NEW = "__new"
ASOF = "asof_"

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RebuildResult:
    """What a rebuild built: the views, up to which ledger index, and the tables' names."""

    views: tuple[str, ...]
    position: int
    events: int
    seconds: float
    as_of: bool
    names: TableNames
    until_position: int | None = None
    until_time: datetime | None = None

    @property
    def events_per_second(self) -> float:
        """Rebuild speed."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def rebuild(
    ledger_or_database: HasDatabase | LedgerDatabase,
    views: Sequence[str] | None = None,
    until_position: int | None = None,
    until_time: datetime | None = None,
    progress: Progress | None = None,
    *,
    page_size: int | None = None,
    asof_prefix: str = ASOF,
) -> RebuildResult:
    """Rebuild views from zero; with `until_*`, build them as of that moment into `asof_` tables.

    Pages are applied in their own short transactions into `<table>__new` (memory stays flat;
    SQLite writers are not held up). When complete, one transaction catches the new tables up
    with the ledger, drops the old ones, renames the new ones in and resets the positions:
    readers see the old view or the new one, never half of one.
    """
    started = time.perf_counter()
    database = database_of(ledger_or_database)
    selected = resolve_views(views)
    as_of = until_position is not None or until_time is not None
    setup_views(database, selected)
    final = TableNames(database, prefix=asof_prefix) if as_of else TableNames(database)
    building = final.with_suffix(NEW)
    with database.transaction() as cursor:
        for view in selected:
            drop_tables(cursor, view.tables, building)
            create_tables_without_indexes(cursor, view, building)
    size = page_size or (PAGE_POSTGRES if database.dialect == "postgres" else PAGE_SQLITE)
    builder = Builder(database, selected, building, size, until_position, until_time)
    total = until_position if until_position is not None else database.head()[0]
    with gc_paused():
        for items in builder.pages():
            with database.transaction() as cursor:
                relax_durability(cursor)
                builder.apply(cursor, items)
            if progress is not None:
                progress(builder.position, max(total, builder.position))
        builder.flush_apart()
        _swap(database, selected, building, final, builder, as_of)
    if progress is not None:
        progress(builder.position, builder.position)
    return RebuildResult(
        views=tuple(view.name for view in selected),
        position=builder.position,
        events=builder.events,
        seconds=time.perf_counter() - started,
        as_of=as_of,
        names=final,
        until_position=until_position,
        until_time=until_time,
    )


def create_tables_without_indexes(cursor: SqlCursor, view: View, names: TableNames) -> None:
    """The tables with their primary keys only: secondary indexes are built once, at the end."""
    for spec in view.tables:
        for statement in spec.create_statements(names, with_indexes=False):
            cursor.execute(statement)


def _swap(
    database: LedgerDatabase,
    views: Sequence[View],
    building: TableNames,
    final: TableNames,
    builder: Builder,
    as_of: bool,
) -> None:
    """Catch up, then replace the final tables by the built ones, in one transaction."""
    if database.dialect == "postgres":  # indexes before the swap, so its locks are short

        def build_indexes(spec: TableSpec) -> None:
            with database.transaction() as cursor:
                for statement in spec.index_statements(building):
                    cursor.execute(statement)

        specs = [spec for view in views for spec in view.tables if spec.indexes]
        in_parallel(database, [partial(build_indexes, spec) for spec in specs])
    with database.transaction() as cursor:
        position_names = [_position_name(view, final, as_of) for view in views]
        lock_positions(cursor, database, position_names, skip_locked=False)
        builder.catch_up(cursor)
        builder.flush(cursor)
        for view in views:
            drop_tables(cursor, view.tables, final)
            for spec in view.tables:
                cursor.execute(
                    f"ALTER TABLE {building(spec.name)} RENAME TO {final.raw(spec.name)}"
                )
                if database.dialect == "postgres":
                    for i in range(len(spec.indexes)):
                        cursor.execute(
                            f"ALTER INDEX {database.table(f'{building.raw(spec.name)}_ix{i}')} "
                            f"RENAME TO {final.raw(spec.name)}_ix{i}"
                        )
                else:
                    create_tables(cursor, (spec,), final)
            reset_position(
                cursor, database, _position_name(view, final, as_of), builder.position, view.version
            )


def _position_name(view: View, names: TableNames, as_of: bool) -> str:
    return names.raw(view.name) if as_of else view.name


def dump_views(
    database: LedgerDatabase, views: Sequence[View] | None = None, names: TableNames | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the views' tables, sorted: to compare a rebuild with the incremental views."""
    names = names or TableNames(database)
    dumped: dict[str, list[tuple[object, ...]]] = {}
    with reading(database) as cursor:
        for view in views if views is not None else resolve_views(None):
            for spec in view.tables:
                rows = cursor.execute(
                    f"SELECT {', '.join(spec.column_names)} FROM {names(spec.name)} "
                    f"ORDER BY {', '.join(spec.key)}"
                ).fetchall()
                dumped[spec.name] = rows
    return dumped
