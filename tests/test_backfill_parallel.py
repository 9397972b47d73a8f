"""The first backfill reads its date windows in parallel: every order once, never more requests in
flight than the Market allows (counted by the sandbox), and a clean stop on the first error."""

import collections
import threading
import time

import pytest
import requests

from fulfilment.market import paging
from fulfilment.market.errors import MarketUnavailable
from fulfilment.market.ratelimit import MemoryBackend, RateLimiter
from fulfilment.orders import sync
from fulfilment.orders.models import Business, Campaign, Order, PlacementModel
from fulfilment.sandbox import seed

pytestmark = pytest.mark.django_db
FBS = (seed.FBS_CAMPAIGN_ID,)


@pytest.fixture
def business(sandbox):
    b = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Demo", api_base_url=sandbox.url,
                                api_token=seed.DEMO_API_KEY)
    Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID, business=b, name="FBS", placement_model=PlacementModel.FBS)
    return b


def peaks(sandbox) -> dict[str, int]:
    return requests.post(f"{sandbox.url}/_sandbox/limits", timeout=5).json()["peakInFlight"]


def readers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("orders-reader-")]


def stored_ids(sandbox) -> set[int]:
    return {r["id"] for r in sandbox.store.query("SELECT id FROM market_order")}


def refused(sandbox) -> list[int]:
    return [r["status"] for r in sandbox.store.received() if r["status"] != 200]


def test_the_parallel_reader_returns_every_order_exactly_once(sandbox):
    sandbox.seeder.load(700)
    sandbox.app.chaos.latency_ms = 30
    peaks(sandbox)
    client = sandbox.client()
    seen = collections.Counter(o.id for page in paging.iter_business_orders_parallel(
        client, seed.DEMO_BUSINESS_ID, sync.backfill_windows(FBS, has_dbs=False)) for o in page.orders)
    assert set(seen) == stored_ids(sandbox)
    assert set(seen.values()) == {1}
    assert len(seen) == 700
    # Side by side, never more than the documented six, and the Market refused nothing.
    peak = peaks(sandbox)[f"getBusinessOrders:{seed.DEMO_BUSINESS_ID}"]
    assert 2 <= peak <= paging.parallel_limit() == 6
    assert refused(sandbox) == [] and readers() == []
    assert client.calls == len(sandbox.store.received())


def test_it_never_asks_for_more_than_the_markets_parallel_limit(sandbox):
    sandbox.seeder.load(400)
    sandbox.app.chaos.latency_ms = 30
    peaks(sandbox)
    pages = list(paging.iter_business_orders_parallel(sandbox.client(), seed.DEMO_BUSINESS_ID,
                                                      sync.backfill_windows(FBS, False), parallel=50))
    assert sum(len(p.orders) for p in pages) == 400
    assert peaks(sandbox)[f"getBusinessOrders:{seed.DEMO_BUSINESS_ID}"] <= 6
    assert refused(sandbox) == []


def test_slots_held_by_another_process_are_shared_not_exceeded(sandbox):
    """Four of the six slots are taken through the shared limiter (as by another worker's refresh):
    the readers use the two left, wait for them without failing, and read everything."""
    sandbox.seeder.load(300)
    sandbox.app.chaos.latency_ms = 20
    limiter = RateLimiter(MemoryBackend())
    held = [limiter.acquire("getBusinessOrders", seed.DEMO_BUSINESS_ID) for _ in range(4)]
    peaks(sandbox)
    pages = list(paging.iter_business_orders_parallel(sandbox.client(limiter=limiter), seed.DEMO_BUSINESS_ID,
                                                      sync.backfill_windows(FBS, False)))
    for lease in held:
        limiter.release("getBusinessOrders", seed.DEMO_BUSINESS_ID, lease)
    assert sum(len(p.orders) for p in pages) == 300
    assert peaks(sandbox)[f"getBusinessOrders:{seed.DEMO_BUSINESS_ID}"] <= 2


def test_it_stops_every_reader_on_the_first_error(sandbox):
    sandbox.seeder.load(600)
    sandbox.app.chaos.latency_ms = 20
    pages = paging.iter_business_orders_parallel(sandbox.client(), seed.DEMO_BUSINESS_ID,
                                                 sync.backfill_windows(FBS, False))
    next(pages)
    sandbox.app.chaos.error_rate = 1.0
    with pytest.raises(MarketUnavailable):
        for _ in pages:
            pass
    assert readers() == []
    sent = len(sandbox.store.received())
    time.sleep(0.3)
    assert len(sandbox.store.received()) == sent  # nothing asked after the error


def test_a_consumer_that_stops_early_stops_the_readers(sandbox):
    sandbox.seeder.load(600)
    sandbox.app.chaos.latency_ms = 20
    pages = paging.iter_business_orders_parallel(sandbox.client(), seed.DEMO_BUSINESS_ID,
                                                 sync.backfill_windows(FBS, False))
    next(pages)
    pages.close()
    assert readers() == []
    sent = len(sandbox.store.received())
    time.sleep(0.3)
    assert len(sandbox.store.received()) == sent


def test_the_first_sync_mirrors_each_order_once_in_parallel(sandbox, business):
    sandbox.seeder.load(500)
    sandbox.app.chaos.latency_ms = 20
    peaks(sandbox)
    result = sync.sync_business(business.pk, client=sandbox.client())
    assert result.ran and not result.error
    assert result.orders == result.created == Order.objects.count() == 500
    assert result.calls == result.pages  # one call per page, a window's last one included
    assert peaks(sandbox)[f"getBusinessOrders:{seed.DEMO_BUSINESS_ID}"] >= 2
    business.refresh_from_db()
    assert business.sync_watermark == max(Order.objects.values_list("updated_at_market", flat=True))


def test_a_failing_backfill_stops_its_readers_and_keeps_no_watermark(sandbox, business):
    sandbox.seeder.load(300)
    sandbox.app.chaos.latency_ms = 10
    sandbox.app.chaos.error_rate = 1.0
    sync.PAGE_ATTEMPTS, attempts = 1, sync.PAGE_ATTEMPTS
    try:
        with pytest.raises(MarketUnavailable):
            sync.sync_business(business.pk, client=sandbox.client())
    finally:
        sync.PAGE_ATTEMPTS = attempts
    assert readers() == []
    business.refresh_from_db()
    assert business.sync_watermark is None and business.last_sync_error and business.sync_started_at is None
