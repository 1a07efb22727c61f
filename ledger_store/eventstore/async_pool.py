"""Statements on the event loop (PostgreSQL): an async psycopg pool beside the library's sync one.

A sync FastAPI route runs in a worker thread; the hop there and back, with the interpreter lock
handed between threads, costs the server more CPU than the statement it carries (measured in
docs/performance.md). The hottest calls, the hotline's key lookup and the PIN attempt's append,
therefore run on the event loop through this pool. SQLite has no such pool: its statements stay
in worker threads.

The pool opens and closes inside the running event loop (the API's lifespan). Failures come
out as psycopg's `OperationalError` (a pool timeout is one too), which the API answers with 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from ledger_store.eventstore.liveness import OUTAGE_WAIT, OutageGate, alive_async


class AsyncPool:
    """Autocommitted single statements (each its own transaction), returning tuples."""

    def __init__(
        self,
        connect: Mapping[str, Any],
        *,
        size: int,
        timeout: float,
        pre_ping: bool = False,
        outage: OutageGate | None = None,
    ) -> None:
        self.outage = outage or OutageGate()
        self._pool = AsyncConnectionPool(
            kwargs={**connect, "autocommit": True},
            min_size=size,
            max_size=size,
            timeout=timeout,
            open=False,
            check=AsyncConnectionPool.check_connection if pre_ping else None,
            name="eport-async",
        )

    async def open(self) -> None:
        """Start the pool's connections (in the background: an unreachable database does not
        stop the service from starting; reads answer 503 until it is back)."""
        await self._pool.open(wait=False)

    async def close(self) -> None:
        """Close every connection."""
        await self._pool.close()

    def stats(self) -> dict[str, int]:
        """The pool's counters (psycopg_pool's `get_stats`: `pool_size`, `pool_available`,
        `requests_waiting`, …); no database call."""
        return dict(self._pool.get_stats())

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A live connection: ones that died while the database was away are dropped (the
        pool replaces them) instead of failing the statement (`liveness.alive_async`)."""
        pool = self._pool
        gate = self.outage
        timeout = gate.timeout(pool.timeout)
        with gate.checkout():
            for _ in range(pool.max_size):
                conn = await pool.getconn(timeout)
                if await alive_async(conn):
                    break
                await pool.putconn(conn)
                timeout = min(timeout, OUTAGE_WAIT)
            else:
                conn = await pool.getconn(timeout)
        try:
            yield conn
        finally:
            await pool.putconn(conn)

    async def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of one read statement with `?` placeholders."""
        async with self.connection() as conn:
            cursor = conn.cursor(row_factory=tuple_row)
            await cursor.execute(statement.replace("?", "%s"), tuple(params))
            return await cursor.fetchall()

    async def fetchone_prepared(
        self, statement: str, params: Sequence[Any]
    ) -> tuple[Any, ...] | None:
        """The first row of one statement in psycopg's own `%s` style, prepared on the server."""
        async with self.connection() as conn:
            cursor = conn.cursor(row_factory=tuple_row)
            await cursor.execute(statement, params, prepare=True)
            return await cursor.fetchone()
