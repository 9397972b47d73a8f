"""The client-side limiter: hourly budgets, parallel slots and 420 blocks, shared between processes."""

import multiprocessing
import os

import pytest

from fulfilment.market.errors import MarketRateLimited
from fulfilment.market.limits import LIMITS
from fulfilment.market.ratelimit import MemoryBackend, RateLimiter, RedisBackend, SqliteBackend

REDIS_URL = os.environ.get("RATE_LIMIT_TEST_REDIS", "redis://127.0.0.1:6379/13")


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request, tmp_path):
    if request.param == "memory":
        return MemoryBackend()
    if request.param == "sqlite":
        return SqliteBackend(tmp_path / "limits.sqlite3")
    if not _redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is required in CI")
        pytest.skip("no Redis on this machine")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return RedisBackend(REDIS_URL, prefix=f"test:{os.getpid()}:")


def test_the_hourly_budget_of_an_operation(backend):
    limiter = RateLimiter(backend, budget_share=5 / LIMITS["acceptOrderCancellation"].amount)
    for _ in range(5):
        limiter.release("acceptOrderCancellation", 1, limiter.acquire("acceptOrderCancellation", 1))
    with pytest.raises(MarketRateLimited) as exc:
        limiter.acquire("acceptOrderCancellation", 1)
    assert 3500 < exc.value.retry_after <= 3600
    # Another campaign has its own budget.
    limiter.acquire("acceptOrderCancellation", 2)


def test_bulk_status_counts_orders(backend):
    limiter = RateLimiter(backend, budget_share=40 / LIMITS["updateOrderStatuses"].amount)
    limiter.acquire("updateOrderStatuses", 1, cost=30)
    with pytest.raises(MarketRateLimited):
        limiter.acquire("updateOrderStatuses", 1, cost=30)
    limiter.acquire("updateOrderStatuses", 1, cost=10)


def test_at_most_six_order_listings_in_flight(backend):
    limiter = RateLimiter(backend)
    leases = [limiter.acquire("getBusinessOrders", 7) for _ in range(6)]
    with pytest.raises(MarketRateLimited) as exc:
        limiter.acquire("getBusinessOrders", 7)
    assert exc.value.retry_after < 1
    limiter.release("getBusinessOrders", 7, leases[0])
    limiter.acquire("getBusinessOrders", 7)


def test_a_420_blocks_the_operation_for_everyone(backend):
    limiter = RateLimiter(backend)
    limiter.block("getOrderIdentifiersStatus", 3, 30)
    with pytest.raises(MarketRateLimited) as exc:
        limiter.acquire("getOrderIdentifiersStatus", 3)
    assert 25 < exc.value.retry_after <= 30
    limiter.acquire("getOrderIdentifiersStatus", 4)


def _take(path: str, n: int, out) -> None:
    limiter = RateLimiter(SqliteBackend(path), budget_share=50 / 500)
    ok = 0
    for _ in range(n):
        try:
            limiter.acquire("acceptOrderCancellation", 1)
            ok += 1
        except MarketRateLimited:
            pass
    out.put(ok)


def test_the_file_backend_is_shared_by_processes(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    SqliteBackend(path)
    out = multiprocessing.get_context("spawn").Queue()
    procs = [multiprocessing.get_context("spawn").Process(target=_take, args=(path, 40, out)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sum(out.get(timeout=5) for _ in procs) == 50


def test_a_per_minute_budget_frees_itself_after_a_minute(backend):
    # getOfferMappings and getReportInfo count per minute, not per hour (x-resource-limit-config).
    assert backend.take("catalogue:1", 2, 2, None, 1000.0, window=60.0)[0] == 0
    wait, lease = backend.take("catalogue:1", 1, 2, None, 1030.0, window=60.0)
    assert lease is None and wait == pytest.approx(30.0)
    assert backend.take("catalogue:1", 1, 2, None, 1060.5, window=60.0)[0] == 0
