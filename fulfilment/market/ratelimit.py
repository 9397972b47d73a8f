"""Client-side rate limiting shared by every worker process.

Per operation and campaign (or business): a sliding window (an hour, or a minute for a few
methods) of the documented request budget, a cap on requests in flight (``parallel``), and a
"blocked until" set when the Market answers 420. Backends: Redis in production, a SQLite file in
the embedded default, memory in single-process tools. All three behave the same; ``acquire`` never blocks: it raises
``MarketRateLimited`` with the time to wait, and the caller decides (sleep, or retry the task).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from .errors import MarketRateLimited
from .limits import HOUR, LIMITS

LEASE_SECONDS = 120.0  # a crashed process's in-flight slot frees itself after this


class Backend(Protocol):
    def take(self, bucket: str, cost: int, budget: int, parallel: int | None, now: float,
             window: float = HOUR) -> tuple[float, str | None]:
        """Reserve ``cost`` hits and a parallel slot; returns (seconds to wait, lease id).
        A wait > 0 means nothing was reserved."""

    def release(self, bucket: str, lease: str) -> None: ...

    def block(self, bucket: str, until: float) -> None: ...


class RateLimiter:
    def __init__(self, backend: Backend, budget_share: float = 1.0) -> None:
        # budget_share < 1 leaves room for other tools using the same token.
        self.backend = backend
        self.budget_share = budget_share

    @staticmethod
    def bucket(operation: str, key: int | str) -> str:
        return f"{operation}:{key}"

    def acquire(self, operation: str, key: int | str, cost: int = 1) -> str | None:
        """Take a slot or raise ``MarketRateLimited``. Returns a lease to ``release``."""
        limit = LIMITS.get(operation)
        if limit is None:
            return None
        budget = max(1, int(limit.amount * self.budget_share))
        wait, lease = self.backend.take(self.bucket(operation, key), cost, budget, limit.parallel, time.time(),
                                        limit.period)
        if wait > 0:
            raise MarketRateLimited(f"{operation}: local limit reached, wait {wait:.1f} s", retry_after=wait,
                                    operation=operation)
        return lease

    def release(self, operation: str, key: int | str, lease: str | None) -> None:
        if lease:
            self.backend.release(self.bucket(operation, key), lease)

    def block(self, operation: str, key: int | str, seconds: float) -> None:
        """The Market said 420: every process waits until then."""
        self.backend.block(self.bucket(operation, key), time.time() + max(seconds, 0.0))

    @contextmanager
    def slot(self, operation: str, key: int | str, cost: int = 1) -> Iterator[None]:
        lease = self.acquire(operation, key, cost)
        try:
            yield
        finally:
            self.release(operation, key, lease)


class MemoryBackend:
    """One process only (tests, command-line tools)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, list[float]] = defaultdict(list)
        self._leases: dict[str, dict[str, float]] = defaultdict(dict)
        self._blocked: dict[str, float] = {}

    def take(self, bucket: str, cost: int, budget: int, parallel: int | None, now: float,
             window: float = HOUR) -> tuple[float, str | None]:
        with self._lock:
            blocked = self._blocked.get(bucket, 0.0)
            if blocked > now:
                return blocked - now, None
            hits = [t for t in self._hits[bucket] if t > now - window]
            self._hits[bucket] = hits
            if len(hits) + cost > budget:
                return max(0.01, hits[0] + window - now) if hits else window, None
            leases = {k: v for k, v in self._leases[bucket].items() if v > now}
            self._leases[bucket] = leases
            if parallel and len(leases) >= parallel:
                return 0.05, None
            hits.extend([now] * cost)
            lease = uuid.uuid4().hex
            leases[lease] = now + LEASE_SECONDS
            return 0.0, lease

    def release(self, bucket: str, lease: str) -> None:
        with self._lock:
            self._leases[bucket].pop(lease, None)

    def block(self, bucket: str, until: float) -> None:
        with self._lock:
            self._blocked[bucket] = max(self._blocked.get(bucket, 0.0), until)


class SqliteBackend:
    """A SQLite file shared by the processes of one machine (the embedded default)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with self._connect() as conn:
            conn.executescript(
                "CREATE TABLE IF NOT EXISTS hit (bucket TEXT NOT NULL, at REAL NOT NULL);"
                "CREATE INDEX IF NOT EXISTS hit_bucket ON hit(bucket, at);"
                "CREATE TABLE IF NOT EXISTS lease (id TEXT PRIMARY KEY, bucket TEXT NOT NULL, expires REAL NOT NULL);"
                "CREATE TABLE IF NOT EXISTS blocked (bucket TEXT PRIMARY KEY, until REAL NOT NULL);"
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def take(self, bucket: str, cost: int, budget: int, parallel: int | None, now: float,
             window: float = HOUR) -> tuple[float, str | None]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT until FROM blocked WHERE bucket = ?", (bucket,)).fetchone()
            if row and row[0] > now:
                conn.execute("ROLLBACK")
                return row[0] - now, None
            conn.execute("DELETE FROM hit WHERE bucket = ? AND at <= ?", (bucket, now - window))
            used, oldest = conn.execute("SELECT count(*), min(at) FROM hit WHERE bucket = ?", (bucket,)).fetchone()
            if used + cost > budget:
                conn.execute("ROLLBACK")
                return (max(0.01, oldest + window - now) if oldest else window), None
            conn.execute("DELETE FROM lease WHERE bucket = ? AND expires <= ?", (bucket, now))
            if parallel:
                (active,) = conn.execute("SELECT count(*) FROM lease WHERE bucket = ?", (bucket,)).fetchone()
                if active >= parallel:
                    conn.execute("ROLLBACK")
                    return 0.05, None
            conn.executemany("INSERT INTO hit(bucket, at) VALUES (?, ?)", [(bucket, now)] * cost)
            lease = uuid.uuid4().hex
            conn.execute("INSERT INTO lease(id, bucket, expires) VALUES (?, ?, ?)",
                         (lease, bucket, now + LEASE_SECONDS))
            conn.execute("COMMIT")
            return 0.0, lease
        finally:
            conn.close()

    def release(self, bucket: str, lease: str) -> None:
        conn = self._connect()
        try:
            conn.execute("DELETE FROM lease WHERE id = ?", (lease,))
        finally:
            conn.close()

    def block(self, bucket: str, until: float) -> None:
        conn = self._connect()
        try:
            conn.execute("INSERT INTO blocked(bucket, until) VALUES (?, ?) ON CONFLICT(bucket) "
                         "DO UPDATE SET until = max(until, excluded.until)", (bucket, until))
        finally:
            conn.close()


_REDIS_TAKE = """
local hits, leases, blocked = KEYS[1], KEYS[2], KEYS[3]
local now, cost, budget, parallel = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lease, window, lease_ttl = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local blocked_until = tonumber(redis.call('GET', blocked) or '0')
if blocked_until > now then return tostring(blocked_until - now) end
redis.call('ZREMRANGEBYSCORE', hits, '-inf', now - window)
local used = redis.call('ZCARD', hits)
if used + cost > budget then
  local oldest = redis.call('ZRANGE', hits, 0, 0, 'WITHSCORES')
  if oldest[2] then return tostring(math.max(0.01, tonumber(oldest[2]) + window - now)) end
  return tostring(window)
end
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
if parallel > 0 and redis.call('ZCARD', leases) >= parallel then return '0.05' end
for i = 1, cost do redis.call('ZADD', hits, now, lease .. ':' .. i) end
redis.call('ZADD', leases, now + lease_ttl, lease)
redis.call('EXPIRE', hits, math.ceil(window) + 60)
redis.call('EXPIRE', leases, math.ceil(lease_ttl) + 60)
return '0'
"""


class RedisBackend:
    """Shared by every process and machine using the same Redis (production)."""

    def __init__(self, url: str, prefix: str = "fulfilment:ratelimit:") -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self._take = self.redis.register_script(_REDIS_TAKE)

    def _keys(self, bucket: str) -> list[str]:
        return [f"{self.prefix}{bucket}:{k}" for k in ("hits", "leases", "blocked")]

    def take(self, bucket: str, cost: int, budget: int, parallel: int | None, now: float,
             window: float = HOUR) -> tuple[float, str | None]:
        lease = uuid.uuid4().hex
        wait = float(self._take(keys=self._keys(bucket),
                                args=[now, cost, budget, parallel or 0, lease, window, LEASE_SECONDS]))
        return (wait, None) if wait > 0 else (0.0, lease)

    def release(self, bucket: str, lease: str) -> None:
        self.redis.zrem(self._keys(bucket)[1], lease)

    def block(self, bucket: str, until: float) -> None:
        key = self._keys(bucket)[2]
        current = float(self.redis.get(key) or 0)
        if until > current:
            self.redis.set(key, until, exat=int(until) + 60)
