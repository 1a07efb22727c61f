"""Folding the ledger from zero into fresh tables, page after page, for `rebuild`.

A reader thread fetches and decodes the next page (on its own connection) while the current
one is folded and written, so the database's work overlaps Python's. Folds live across pages:
a row is loaded at most once and written about once; when a fold holds more than MAX_ROWS young
rows it is flushed and its rows age (rows not touched for two generations are dropped), so memory
stays flat whatever the ledger's size.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from projections.engine.entries import Item, decode_rows, fetch_rows, time_text
from projections.engine.positions import reading, relax_durability
from projections.engine.schema import TableNames
from projections.engine.view import Fold, View

MAX_ROWS = 20_000
"""Young rows a fold may hold before it is written and ages them (it holds at most twice)."""
PREFETCH = 2
PARALLEL = 3
"""Connections used at once for the final writes and index builds on PostgreSQL."""


def before(items: list[Item], until_time: str) -> list[Item]:
    """The items up to the first one recorded after `until_time` (the ledger as it stood then)."""
    for n, item in enumerate(items):
        if item.at > until_time:
            return items[:n]
    return items


class Builder:
    """Applies ledger pages to some views' tables, remembering where it is."""

    def __init__(
        self,
        database: LedgerDatabase,
        views: Sequence[View],
        names: TableNames,
        page_size: int,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> None:
        self.database = database
        self.names = names
        self.page_size = page_size
        self.until = until
        self.cutoff = time_text(until_time) if until_time is not None else None
        self.folds: list[Fold] = [view.start(names) for view in views]
        self.position = 0
        self.events = 0
        self.ended = False
        """Whether the cut-off time was passed: nothing later may ever be applied."""

    def _decode(self, rows: list[Any], full: bool) -> tuple[list[Item], bool]:
        """Decode a page, cut at the cut-off time; and whether more may follow."""
        items = decode_rows(rows)
        if self.cutoff is not None:
            kept = before(items, self.cutoff)
            if len(kept) < len(items):
                self.ended = True
            items = kept
        return items, full and not self.ended

    def pages(self) -> Iterator[list[Item]]:
        """Decoded pages to the ledger's end, `until` or the cut-off.

        A thread fetches the next page while this one is decoded and applied (the fetch mostly
        waits on the database; decoding here keeps the two threads off each other's GIL).
        """
        pages: queue.Queue[list[Any] | BaseException | None] = queue.Queue(PREFETCH)
        stop = threading.Event()
        events_table, size, until = self.database.events_table, self.page_size, self.until

        def read() -> None:
            after = self.position
            try:
                while not stop.is_set():
                    with reading(self.database) as cursor:
                        rows = fetch_rows(cursor, events_table, after, size, until)
                    pages.put(rows)
                    if len(rows) < size:
                        break
                    after = rows[-1][0]
            except BaseException as error:  # handed to the consumer
                pages.put(error)
            pages.put(None)

        reader = threading.Thread(target=read, name="eport-rebuild-reader", daemon=True)
        reader.start()
        try:
            while (page := pages.get()) is not None:
                if isinstance(page, BaseException):
                    raise page
                items, more = self._decode(page, len(page) == size)
                if items:
                    yield items
                if not more:
                    break
        finally:
            stop.set()
            while reader.is_alive():  # unblock a reader waiting to put
                with contextlib.suppress(queue.Empty):
                    pages.get(timeout=0.05)
            reader.join()

    def apply(self, cursor: SqlCursor, items: list[Item]) -> None:
        """Fold one page; flush and age folds grown past MAX_ROWS."""
        for fold in self.folds:
            fold.fold(cursor, items)
            if fold.size() > MAX_ROWS:
                fold.flush(cursor)
                fold.forget()
        self.position = items[-1].index
        self.events += len(items)

    def catch_up(self, cursor: SqlCursor) -> None:
        """Apply what the ledger gained meanwhile, read with `cursor` (inside the swap)."""
        while not self.ended:
            rows = fetch_rows(
                cursor, self.database.events_table, self.position, self.page_size, self.until
            )
            items, _ = self._decode(rows, len(rows) == self.page_size)
            if not items:
                return
            self.apply(cursor, items)

    def flush(self, cursor: SqlCursor) -> None:
        """Write every row still held."""
        for fold in self.folds:
            fold.flush(cursor)

    def flush_apart(self) -> None:
        """Write every row still held, each fold in its own transaction (in parallel on
        PostgreSQL, whose server then writes the tables side by side)."""

        def flush(fold: Fold) -> None:
            with self.database.transaction() as cursor:
                relax_durability(cursor)
                fold.flush(cursor)

        in_parallel(self.database, [partial(flush, fold) for fold in self.folds])


def in_parallel(database: LedgerDatabase, jobs: Sequence[Callable[[], None]]) -> None:
    """Run the jobs, in threads on PostgreSQL (one connection each), one by one on SQLite."""
    if database.dialect != "postgres" or len(jobs) < 2:
        for job in jobs:
            job()
        return
    with ThreadPoolExecutor(max_workers=min(len(jobs), PARALLEL)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
