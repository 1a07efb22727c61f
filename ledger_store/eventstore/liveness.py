"""Is a pooled connection still alive? Asked of every connection a pool hands out.

After the database went away and came back, the pool still holds connections to the server
that is gone; the first statement on each would fail. The library's pre-ping (psycopg_pool's
`check_connection`) sends a round trip before every use. This asks the kernel instead: a
connection the server (or anything between) closed or reset has its socket readable — EOF,
RST, or the server's "terminating connection" notice — while an idle live connection has
nothing to read. Only then is it pinged, and dropped when the ping fails. The cost is one
`poll()` per checkout (measured in docs/performance.md, "Pool checks"); a server that vanished
without a word (no FIN, no RST: a cable, a black hole) is not seen, which TCP keepalives and
the statements' own timeouts cover.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool.pool
import psycopg_pool.pool_async
from psycopg_pool import PoolTimeout
from psycopg_pool.base import AttemptWithBackoff


def looks_dead(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether the connection is closed, broken, or has unexpected bytes waiting (EOF/RST)."""
    if conn.closed or conn.broken:
        return True
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True


def alive(conn: psycopg.Connection[Any]) -> bool:
    """False for a connection that looks dead and fails a ping (it is closed then)."""
    if not looks_dead(conn):
        return True
    try:
        if not conn.closed:
            conn.execute("SELECT 1")
            return True
    except psycopg.Error:
        pass
    conn.close()
    return False


async def alive_async(conn: psycopg.AsyncConnection[Any]) -> bool:
    """`alive` for a connection of an async pool."""
    if not looks_dead(conn):
        return True
    try:
        if not conn.closed:
            await conn.execute("SELECT 1")
            return True
    except psycopg.Error:
        pass
    await conn.close()
    return False


OUTAGE_WAIT = 1.0
"""How long a request waits for a connection once the database is known to be away: twice the
pools' longest reconnection delay, so a database that is back is found within it."""


class OutageGate:
    """Remembers that the database was just found away, so that requests fail fast.

    Without it every request of an outage waits the pool's whole timeout for a connection (and
    a read retries that three times): under load they queue, and a 503 took 15 s. Once one
    request found no connection, the next ones wait at most OUTAGE_WAIT — still long enough
    for the pool's reconnection (capped at MAX_RECONNECT_DELAY) to hand them a connection to a
    database that is back — and the first connection that works opens the gate again.
    """

    def __init__(self) -> None:
        self.since: float | None = None

    @property
    def is_open(self) -> bool:
        """No outage is known."""
        return self.since is None

    def timeout(self, normal: float) -> float:
        """The wait for a connection: `normal`, or at most OUTAGE_WAIT during an outage."""
        return normal if self.since is None else min(normal, OUTAGE_WAIT)

    def found_away(self) -> None:
        """No connection could be had in time: an outage (from now, unless already known)."""
        if self.since is None:
            self.since = time.monotonic()

    def found_back(self) -> None:
        """A connection works: no outage."""
        self.since = None

    @contextmanager
    def checkout(self) -> Iterator[None]:
        """Around getting a connection: a PoolTimeout is an outage found, else a way back."""
        try:
            yield
        except PoolTimeout:
            self.found_away()
            raise
        self.found_back()


MAX_RECONNECT_DELAY = 0.5
"""The longest a pool waits between attempts to replace a lost connection."""


class CappedBackoff(AttemptWithBackoff):
    """psycopg_pool's reconnection backoff, capped at MAX_RECONNECT_DELAY.

    Its own doubles without limit (1, 2, 4 … 128 s within its five minutes): after a database
    outage of a minute, a pool could wait another minute before it tried again, and every
    request meanwhile would time out waiting for a connection to a database that is back.
    Capped, the pools reconnect within half a second of the database's return; refused
    connection attempts to a database that is down cost next to nothing.
    """

    def update_delay(self, now: float) -> None:
        """The next delay, never more than MAX_RECONNECT_DELAY."""
        super().update_delay(now)
        self.delay = min(self.delay, MAX_RECONNECT_DELAY)


def cap_reconnect_backoff() -> None:
    """Make every psycopg pool of this process reconnect with `CappedBackoff` (idempotent).

    psycopg_pool takes the class from its modules' globals and offers no setting for it.
    """
    for module in (psycopg_pool.pool, psycopg_pool.pool_async):
        assert module.__dict__.get("AttemptWithBackoff") in (AttemptWithBackoff, CappedBackoff)
        setattr(module, "AttemptWithBackoff", CappedBackoff)  # noqa: B010
