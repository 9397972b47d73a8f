"""The documented limits of ``market.limits`` enforced per operation and campaign (or business):
a budget per hour (or minute) and a cap on parallel requests, both answered with 420 and ``X-RateLimit-Resource-*``."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fulfilment.market.limits import LIMITS

from .clock import now_utc
from .protocol import ApiError
from .store import Store


def limit_headers(wait_seconds: float) -> dict[str, str]:
    """The headers of a 420: when the caller may try again (at least a second from now)."""
    until = now_utc() + dt.timedelta(seconds=max(wait_seconds, 1))
    return {"X-RateLimit-Resource-Until": until.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "X-RateLimit-Resource-Remaining": "0"}


class RateLimiter:
    """Calls in the current window and requests in flight, per (operation, campaign or business id)."""

    def __init__(self, store: Store) -> None:
        self.store = store  # ``limit:<operation>`` settings override the documented budget
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, int], deque[float]] = defaultdict(deque)
        self._in_flight: dict[tuple[str, int], int] = defaultdict(int)
        self._peak: dict[tuple[str, int], int] = defaultdict(int)  # most in flight at once, for tests

    def check_budget(self, operation: str, key: int, body: Any) -> None:
        """Count this call (or each order of a bulk call) against its window (an hour or a minute); 420 when over."""
        limit = LIMITS.get(operation)
        if limit is None:
            return
        cost = 1
        if limit.counts_orders and isinstance(body, dict):
            cost = max(1, len(body.get("orders") or []))
        amount = self.store.get_setting(f"limit:{operation}", limit.amount)
        period = limit.period
        now = time.monotonic()
        with self._lock:
            hits = self._hits[(operation, key)]
            while hits and hits[0] <= now - period:
                hits.popleft()
            if len(hits) + cost > amount:
                wait = period - (now - hits[0]) if hits else period
                raise ApiError(420, "LIMIT_EXCEEDED", f"Limit of {amount} per {period:.0f} s for {operation} exceeded",
                               limit_headers(wait))
            hits.extend([now] * cost)

    def peaks(self, reset: bool = False) -> dict[str, int]:
        """The most requests in flight at once per ``operation:key`` since the last reset."""
        with self._lock:
            out = {f"{op}:{key}": n for (op, key), n in self._peak.items()}
            if reset:
                self._peak.clear()
        return out

    @contextmanager
    def parallel_slot(self, operation: str, key: int) -> Iterator[None]:
        """Hold one of the operation's parallel slots while the request is served (its latency
        included, as at the Market); 420 when none is free."""
        limit = LIMITS.get(operation)
        if not (limit and limit.parallel):
            yield
            return
        slot = (operation, key)
        with self._lock:
            if self._in_flight[slot] >= limit.parallel:
                raise ApiError(420, "LIMIT_EXCEEDED", f"More than {limit.parallel} parallel requests to {operation}",
                               limit_headers(1))
            self._in_flight[slot] += 1
            self._peak[slot] = max(self._peak[slot], self._in_flight[slot])
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[slot] -= 1
