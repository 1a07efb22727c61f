"""The embedded runner: a thread that catches up when poked (after each command) and every
half second, and wakes readers waiting for their own writes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from ledger_store.eventstore.database import LedgerDatabase
from projections.engine.positions import read_positions
from projections.engine.runner import BatchReport, Runner

log = logging.getLogger(__name__)

_registry: dict[int, InProcessProjector] = {}
_registry_lock = threading.Lock()


def projector_for(database: LedgerDatabase) -> InProcessProjector | None:
    """The running in-process projector of this database object, if any."""
    with _registry_lock:
        return _registry.get(id(database))


class InProcessProjector:
    """Runs the Runner it is given in a daemon thread: `start()`, `poke()` after each command,
    `stop()`."""

    def __init__(self, runner: Runner, *, interval: float = 0.5) -> None:
        self.runner = runner
        self.database = runner.database
        self.interval = interval
        self.positions: dict[str, int] = {}
        self.last_error: BaseException | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.runner.listeners.append(self._committed)

    @property
    def view_names(self) -> list[str]:
        """The names of the views this projector keeps."""
        return [view.name for view in self.runner.views]

    def start(self) -> None:
        """Set the views up, catch up once in the background, then follow the ledger."""
        if self._thread is not None:
            return
        self.runner.setup()
        self.positions = read_positions(self.database, self.view_names)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="eport-projector", daemon=True)
        with _registry_lock:
            _registry[id(self.database)] = self
        self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand and stop the thread."""
        thread, self._thread = self._thread, None
        with _registry_lock:
            if _registry.get(id(self.database)) is self:
                del _registry[id(self.database)]
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout)

    def poke(self) -> None:
        """Tell the projector the ledger grew (the API calls this after each command)."""
        self._wake.set()

    def reached(self, views: Iterable[str], position: int) -> bool:
        """Whether every named view this projector keeps has applied up to `position`."""
        return all(self.positions.get(name, -1) >= position for name in views)

    def wait_changed(self, timeout: float) -> None:
        """Block until the next committed batch, or `timeout` seconds."""
        with self._changed:
            self._changed.wait(timeout)

    def _committed(self, report: BatchReport) -> None:
        with self._changed:
            self.positions = {**self.positions, **report.positions}
            self._changed.notify_all()

    def _run(self) -> None:
        backoff = self.interval
        while not self._stopping.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self.runner.catch_up(stop=self._stopping.is_set)
            except Exception as error:  # keep the thread alive: the next poke retries
                self.last_error = error
                log.exception("view projector failed; retrying")
                backoff = min(backoff * 2, 30.0)
                time.sleep(0.05)
                continue
            self.last_error = None
            backoff = self.interval
