"""What checking a pooled connection costs per checkout: none, our socket poll, a pre-ping.

.venv/bin/python tests/benchmarks/bench_pool_check.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from psycopg_pool import ConnectionPool

from ledger_store.eventstore.liveness import alive

URL = os.environ.get("EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
N = 20_000


def per_checkout(pool: ConnectionPool[Any], check: Callable[[Any], object]) -> float:
    """Microseconds per getconn + check + putconn."""
    began = time.perf_counter()
    for _ in range(N):
        conn = pool.getconn()
        check(conn)
        pool.putconn(conn)
    return (time.perf_counter() - began) / N * 1e6


def main() -> None:
    """Print the three costs and the ratios to a bare checkout."""
    with ConnectionPool(URL, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        pool.wait()
        bare = per_checkout(pool, lambda conn: None)
        polled = per_checkout(pool, alive)
        pinged = per_checkout(pool, ConnectionPool.check_connection)
    print(f"checkout {bare:.1f} us; poll check {polled:.1f} us ({polled / bare:.2f}x); "
          f"pre-ping {pinged:.1f} us ({pinged / bare:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
