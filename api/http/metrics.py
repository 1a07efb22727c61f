"""Prometheus metrics: request latency by route template, ledger size, the views' lag."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LedgerCollector(Collector):
    """Reads the ledger's size and each view's position when Prometheus scrapes."""

    def __init__(self, size: Callable[[], int], positions: Callable[[], dict[str, int]]) -> None:
        self.size = size
        self.positions = positions

    def collect(self) -> Iterator[Metric]:
        """The gauges, or nothing when the database does not answer."""
        try:
            size = self.size()
            positions = self.positions()
        except Exception:  # a scrape must not fail because the database is down
            return
        yield GaugeMetricFamily("eport_ledger_size", "ledger entries (the last index)", size)
        lag = GaugeMetricFamily(
            "eport_view_lag", "ledger entries a view has not applied", labels=["view"]
        )
        for view, position in sorted(positions.items()):
            lag.add_metric([view], max(0, size - position))
        yield lag


class Metrics:
    """One registry per app, so several apps (tests) never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "eport_http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch_ledger(
        self, size: Callable[[], int], positions: Callable[[], dict[str, int]]
    ) -> None:
        """Report the ledger's size and the views' lag on each scrape."""
        self.registry.register(LedgerCollector(size, positions))
