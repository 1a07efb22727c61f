"""Prometheus metrics: requests, commands, refusals, idempotent replays, the process, the
database (up, pools), the ledger's size, the views' lag and the last checkpoint's age."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.probe import ProbeResult

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PoolStats = Mapping[str, Mapping[str, int]]
"""Per connection pool (`sync`, `async`): psycopg_pool's `get_stats()`."""

POOL_GAUGES = (
    ("pool_size", "eport_db_pool_size", "connections a pool holds (in use or not)"),
    ("pool_available", "eport_db_pool_available", "idle connections a pool can hand out"),
    ("requests_waiting", "eport_db_pool_waiting", "requests waiting for a pooled connection"),
)


def ledger_pools(ledger: Ledger) -> dict[str, dict[str, int]]:
    """The counters of the ledger's connection pools: the eventsourcing library's (`sync`, a
    psycopg_pool pool on PostgreSQL) and the event loop's (`async`); none on SQLite."""
    pools: dict[str, dict[str, int]] = {}
    library_pool = getattr(getattr(ledger.database, "datastore", None), "pool", None)
    if callable(getattr(library_pool, "get_stats", None)):
        pools["sync"] = dict(library_pool.get_stats())  # type: ignore[union-attr]
    if ledger.async_pool is not None:
        pools["async"] = ledger.async_pool.stats()
    return pools


class LedgerCollector(Collector):
    """Reads the database's state through the bounded probe when Prometheus scrapes."""

    def __init__(self, probe: Callable[[], ProbeResult]) -> None:
        self.probe = probe

    def collect(self) -> Iterator[Metric]:
        """`eport_database_up` always (0 while the database does not answer); the ledger's
        gauges only when it answered."""
        result = self.probe()
        yield GaugeMetricFamily(
            "eport_database_up", "1 when the database answered the last probe, else 0", result.up
        )
        if not result.up or result.ledger_size is None:
            return
        size = result.ledger_size
        yield GaugeMetricFamily("eport_ledger_size", "ledger entries (the last index)", size)
        lag = GaugeMetricFamily(
            "eport_view_lag", "ledger entries a view has not applied", labels=["view"]
        )
        for view, position in sorted(result.positions.items()):
            lag.add_metric([view], max(0, size - position))
        yield lag
        if result.last_checkpoint is not None:
            age = (datetime.now(UTC) - result.last_checkpoint).total_seconds()
            yield GaugeMetricFamily(
                "eport_checkpoint_age_seconds",
                "seconds since the latest checkpoint was signed",
                max(0.0, age),
            )


class PoolCollector(Collector):
    """The connection pools' counters (PostgreSQL; SQLite has no pool): no database call."""

    def __init__(self, stats: Callable[[], PoolStats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        """One gauge per counter, labelled by pool."""
        pools = self.stats()
        for key, name, documentation in POOL_GAUGES:
            gauge = GaugeMetricFamily(name, documentation, labels=["pool"])
            for pool, stats in sorted(pools.items()):
                gauge.add_metric([pool], stats.get(key, 0))
            yield gauge


class Metrics:
    """One registry per app, so several apps (tests) never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.latency = Histogram(
            "eport_http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.commands = Counter(
            "eport_commands",
            "commands by name (the decider) and outcome: recorded, unchanged, replayed, "
            "refused, conflict, unavailable, error",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "eport_refusals",
            "requests answered with a problem document (4xx), by rule",
            ["rule"],
            registry=self.registry,
        )
        self.replays = Counter(
            "eport_idempotent_replays",
            "answers served again from the Idempotency-Key store, by command",
            ["command"],
            registry=self.registry,
        )

    def watch_ledger(self, probe: Callable[[], ProbeResult]) -> None:
        """Report the database's state, the ledger's size, the views' lag and the last
        checkpoint's age on each scrape (through `probe`, which answers within its bound)."""
        self.registry.register(LedgerCollector(probe))

    def watch_pools(self, stats: Callable[[], PoolStats]) -> None:
        """Report the connection pools' size, idle connections and waiting requests."""
        self.registry.register(PoolCollector(stats))
