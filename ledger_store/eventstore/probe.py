"""How the database is doing, asked within a hard time bound: for `/readyz` and the metrics.

Whatever the database does — refuses connections, accepts them and never answers, answers
slowly — `check()` returns within `timeout` seconds: the read runs in a thread of its own and
the caller stops waiting when the time is up (a read still stuck is not started again; the
next caller waits on the same one, and the database counts as down meanwhile). Callers that
ask while a read is under way share its answer (and, with `max_age`, answers that recent), so
load balancers polling `/readyz` and Prometheus scraping `/metrics` cost the database one read
at a time however many of them there are.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime

Reading = tuple[int, dict[str, int], datetime | None]
"""The ledger's size, the views' positions and when the last checkpoint was signed."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One answer: up or not, and when up the ledger's size and the views' positions."""

    up: bool
    ledger_size: int | None = None
    positions: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    last_checkpoint: datetime | None = None
    """When the latest checkpoint was signed (None before the first)."""
    seconds: float = 0.0
    """How long the read took (or how long we waited for it)."""
    at: float = 0.0
    """time.monotonic() when it was taken."""


class DatabaseProbe:
    """Reads `read()` (size, positions, last checkpoint) in a thread, at most `timeout` seconds
    per answer."""

    def __init__(
        self, read: Callable[[], Reading], *, timeout: float = 1.5, max_age: float = 0.0
    ) -> None:
        self.read = read
        self.timeout = timeout
        self.max_age = max_age
        self._lock = threading.Lock()
        self._last: ProbeResult | None = None
        self._inflight: Future[ProbeResult] | None = None

    def check(self) -> ProbeResult:
        """The database's state now (or at most `max_age` seconds ago), within `timeout`."""
        started = time.monotonic()
        with self._lock:
            last = self._last
            if last is not None and self.max_age and started - last.at < self.max_age:
                return last
            if self._inflight is None or self._inflight.done():
                self._inflight = self._start()
            inflight = self._inflight
        try:
            result = inflight.result(timeout=self.timeout)
        except FutureTimeout:
            waited = time.monotonic() - started
            result = ProbeResult(
                False, error=f"no answer within {self.timeout:g} s", seconds=waited, at=started
            )
        with self._lock:
            self._last = result
        return result

    def database_up(self) -> bool:
        """Whether the database answers (within `timeout`; never raises)."""
        return self.check().up

    def last(self) -> ProbeResult | None:
        """The last answer, without asking again (None before the first)."""
        return self._last

    def _start(self) -> Future[ProbeResult]:
        future: Future[ProbeResult] = Future()

        def run() -> None:
            began = time.monotonic()
            try:
                size, positions, last_checkpoint = self.read()
            except Exception as error:
                text = " ".join(str(error).split()) or type(error).__name__
                future.set_result(
                    ProbeResult(False, error=text, seconds=time.monotonic() - began, at=began)
                )
                return
            future.set_result(
                ProbeResult(
                    True,
                    size,
                    positions,
                    last_checkpoint=last_checkpoint,
                    seconds=time.monotonic() - began,
                    at=began,
                )
            )

        # A daemon thread: one stuck on a dead connection must not keep the process alive.
        threading.Thread(target=run, name="eport-db-probe", daemon=True).start()
        return future
