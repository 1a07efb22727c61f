"""Abuse limits that hit the abuser: failed authentications per client address, requests per
principal (a token bucket each).

Both count in this process's memory only: with N API processes behind a balancer a client may
fail N times as often, and a principal send N times the rate, before every process refuses it.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class FailedAuthLimiter:
    """Counts failed authentications per client address; too many in a minute means 429.

    Only requests without a valid credential are counted and refused: a valid token is checked
    first and passes, so failures from one address (a proxy, a NAT) never lock out the valid
    tokens behind it.
    """

    def __init__(self, per_minute: int, window: float = 60.0, max_clients: int = 100_000) -> None:
        self.per_minute = per_minute
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Seconds the client must wait before trying again, or None when it may try now."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if not failures:
                return None
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.per_minute:
                return None
            return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str) -> None:
        """Record one failed authentication of the client."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_clients:
                self._failures.clear()
            failures = self._failures.setdefault(client, deque())
            failures.append(now)
            while len(failures) > self.per_minute:
                failures.popleft()


class PrincipalRateLimiter:
    """A token bucket per principal: `burst` requests at once, refilled at `per_second`.

    `per_second` 0 turns the limit off.
    """

    def __init__(self, per_second: float, burst: int, max_principals: int = 100_000) -> None:
        self.per_second = per_second
        self.burst = float(burst)
        self.max_principals = max_principals
        self._buckets: dict[str, tuple[float, float]] = {}
        """principal → (requests left in the bucket, time.monotonic() of that count)"""
        self._lock = threading.Lock()

    def take(self, principal: str) -> int | None:
        """Spend one request of the principal's bucket: None when it may go on, else the whole
        seconds until a request is available again (for Retry-After)."""
        if self.per_second <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            left, since = self._buckets.get(principal, (self.burst, now))
            left = min(self.burst, left + (now - since) * self.per_second)
            if left < 1:
                self._buckets[principal] = (left, now)
                return max(1, int((1 - left) / self.per_second + 0.999))
            if principal not in self._buckets and len(self._buckets) >= self.max_principals:
                self._buckets.clear()
            self._buckets[principal] = (left - 1, now)
            return None
