"""Read-your-writes: wait, bounded, until views have applied the ledger up to a position."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ledger_store.eventstore.database import LedgerDatabase
from projections.engine.inprocess import projector_for
from projections.engine.positions import read_positions
from projections.engine.schema import TableNames
from projections.engine.view import View

DEFAULT_TIMEOUT = 5.0
POLL_MIN = 0.002
POLL_MAX = 0.05


class ViewNotCaughtUpError(Exception):
    """A view did not reach the asked position in time (the API answers 503 with Retry-After)."""

    def __init__(self, views: list[str], wanted: int, positions: dict[str, int]) -> None:
        behind = ", ".join(f"{v} at {positions.get(v, 0)}" for v in views)
        super().__init__(f"views not at ledger position {wanted} yet: {behind}")
        self.views = views
        self.wanted = wanted
        self.positions = positions


def _names(views: Iterable[str | View]) -> list[str]:
    return [view if isinstance(view, str) else view.name for view in views]


def wait_for_position(
    database: LedgerDatabase,
    views: Iterable[str | View],
    min_position: int,
    timeout: float = DEFAULT_TIMEOUT,
) -> bool:
    """Whether every named view reached `min_position` within `timeout` seconds.

    With an in-process projector this waits on its condition (woken by each committed batch)
    and pokes it; otherwise (a separate worker keeps the views) it polls the positions briefly.
    """
    names = _names(views)
    if min_position <= 0 or not names:
        return True
    deadline = time.monotonic() + timeout
    projector = projector_for(database)
    if projector is not None:
        if projector.reached(names, min_position):
            return True
        projector.poke()
    delay = POLL_MIN
    while True:
        positions = read_positions(database, names)
        if all(positions.get(name, 0) >= min_position for name in names):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if projector is not None:
            projector.wait_changed(min(remaining, POLL_MAX))
            if projector.reached(names, min_position):
                return True
        else:
            time.sleep(min(remaining, delay))
            delay = min(delay * 2, POLL_MAX)


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the views a query reads must be: no older than ledger position
    `min_position` (None: as they are now), waited for at most `timeout` seconds."""

    min_position: int | None = None
    timeout: float = DEFAULT_TIMEOUT

    def require(self, tables: TableNames, views: Iterable[str | View]) -> None:
        """Wait like `wait_for_position` until the views in `tables` are this fresh; raise
        ViewNotCaughtUpError when the time runs out."""
        position = self._awaited(tables)
        if position is None:
            return
        names = _names(views)
        if not wait_for_position(tables.database, names, position, self.timeout):
            positions = read_positions(tables.database, names)
            raise ViewNotCaughtUpError(names, position, positions)

    async def require_async(self, tables: TableNames, views: Iterable[str | View]) -> None:
        """`require` for the event loop: a worker thread waits, unless the in-process views are
        there already (the usual case: no thread at all)."""
        position = self._awaited(tables)
        if position is None:
            return
        projector = projector_for(tables.database)
        if projector is not None and projector.reached(_names(views), position):
            return
        await asyncio.to_thread(self.require, tables, views)

    def _awaited(self, tables: TableNames) -> int | None:
        """The position to wait for in `tables`: none on an as-of copy (`asof_` tables are
        fixed), else the one asked, if any."""
        return None if tables.prefix else self.min_position


NO_WAIT: Final = Freshness()
"""The views as they are: no position to wait for."""
