"""Chaos knobs for tests: latency, a rate of 500s, and a burst limit answered with 420."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

from .protocol import ApiError
from .rate_limits import limit_headers


@dataclass
class Chaos:
    """Test knobs: latency, a rate of 500s, and 420 after ``burst_after`` calls in ``burst_period`` s."""

    latency_ms: int = 0
    error_rate: float = 0.0
    burst_after: int = 0
    burst_period: float = 60.0
    seed: int | None = None


class ChaosGate:
    """Applies the current knobs to each API call; tests turn them by editing ``chaos`` in place."""

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.rng = random.Random(chaos.seed)
        self._lock = threading.Lock()
        self._burst_hits: deque[float] = deque()

    def apply(self) -> None:
        """Sleep, refuse with 420 or fail with 500, as the knobs say."""
        chaos = self.chaos
        if chaos.latency_ms:
            time.sleep(self.rng.uniform(0, chaos.latency_ms) / 1000)
        if chaos.burst_after:
            now = time.monotonic()
            with self._lock:
                while self._burst_hits and self._burst_hits[0] <= now - chaos.burst_period:
                    self._burst_hits.popleft()
                if len(self._burst_hits) >= chaos.burst_after:
                    wait = chaos.burst_period - (now - self._burst_hits[0])
                    raise ApiError(420, "LIMIT_EXCEEDED", "Too many requests (sandbox burst limit)",
                                   limit_headers(wait))
                self._burst_hits.append(now)
        if chaos.error_rate and self.rng.random() < chaos.error_rate:
            raise ApiError(500, "INTERNAL_ERROR", "Sandbox chaos: internal error")

    def forget_burst(self) -> None:
        """Start the burst count afresh (after the knobs change)."""
        with self._lock:
            self._burst_hits.clear()
