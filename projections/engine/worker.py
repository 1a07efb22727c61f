"""`eport-ledger worker`: keeps the views current for several API processes sharing a database.

On PostgreSQL it LISTENs on the ledger's channel (every append NOTIFYs at commit) and polls every
`poll_interval` as a safety net; on SQLite it polls. Each wake-up drains the ledger in batches.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import psycopg
from psycopg import sql

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from projections.engine.runner import DEFAULT_BATCH, BatchReport, Runner
from projections.engine.view import View

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"{stamp} worker: {message}", file=sys.stderr, flush=True)


def postgres_conninfo(settings: Settings) -> str:
    """A libpq connection string for the settings' PostgreSQL: every libpq parameter of the
    URL (TLS, application_name, …), without our `schema` parameter."""
    return settings.postgres_conninfo()


class Worker:
    """Follows the ledger until `stop` is set; one batch per transaction, exactly once."""

    def __init__(
        self,
        database: LedgerDatabase,
        views: Sequence[View] | None = None,
        *,
        conninfo: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        poll_interval: float = 0.5,
        log: Log = _stderr,
    ) -> None:
        self.runner = Runner(database, views, batch_size=batch_size)
        self.database = database
        self.conninfo = conninfo
        self.poll_interval = poll_interval
        self.log = log
        self.applied = 0
        self._last_report = 0.0
        self.runner.listeners.append(self._progress)

    def _progress(self, report: BatchReport) -> None:
        self.applied += report.applied
        now = time.monotonic()
        if now - self._last_report >= 1.0:
            self._last_report = now
            self.log(f"applied {self.applied} entries; views at ledger index {report.last_index}")

    def run(self, stop: threading.Event) -> None:
        """Set up, catch up, then follow the ledger until `stop` is set."""
        self.runner.setup()
        views = ", ".join(view.name for view in self.runner.views)
        self.log(f"views {views}; ledger at {self.database.head()[0]}")
        self._drain(stop)
        while not stop.is_set():
            try:
                with self._wakeups(stop) as wait:
                    while not stop.is_set():
                        wait()
                        self._drain(stop)
            except psycopg.Error as error:  # the LISTEN connection broke: poll, then listen again
                self.log(f"listening failed, reconnecting: {error!r}")
                stop.wait(min(self.poll_interval * 4, 5.0))
                self._drain(stop)
        self.log(f"stopped after applying {self.applied} entries")

    def _drain(self, stop: threading.Event) -> None:
        try:
            self.runner.catch_up(stop=stop.is_set)
        except Exception as error:  # a database hiccup: log it, the next wake-up retries
            self.log(f"batch failed, will retry: {error!r}")
            stop.wait(min(self.poll_interval * 4, 5.0))

    @contextmanager
    def _wakeups(self, stop: threading.Event) -> Iterator[Callable[[], None]]:
        """A function that returns on a NOTIFY from the ledger, or after `poll_interval`."""
        channel = getattr(self.database, "channel_name", None)
        if self.database.dialect != "postgres" or channel is None or self.conninfo is None:

            def poll() -> None:
                stop.wait(self.poll_interval)

            yield poll
            return
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.log(f"listening on channel {channel}")

            def wait() -> None:
                for _ in conn.notifies(timeout=self.poll_interval, stop_after=1):
                    break

            yield wait


@contextmanager
def signals_set(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` while inside (only in the main thread; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(
    settings: Settings,
    stop: threading.Event,
    *,
    views: Sequence[View] | None = None,
    batch_size: int = DEFAULT_BATCH,
    poll_interval: float = 0.5,
    log: Log = _stderr,
) -> None:
    """Keep the views of the settings' ledger current until `stop` is set (or SIGTERM/SIGINT)."""
    ledger = EventStore(settings)
    try:
        conninfo = postgres_conninfo(settings) if settings.is_postgres else None
        worker = Worker(
            ledger.database,
            views,
            conninfo=conninfo,
            batch_size=batch_size,
            poll_interval=poll_interval,
            log=log,
        )
        with signals_set(stop):
            worker.run(stop)
    finally:
        ledger.close()
