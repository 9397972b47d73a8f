"""Sync and outbox with a real Celery worker process: killed mid-sync, a chaotic Market, races."""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from fulfilment.market.changes import BoxLayout, StatusChange
from fulfilment.market.types import BoxLine
from fulfilment.orders import outbox
from fulfilment.orders.models import Business, Campaign, Order, OrderItem, OutboxAction, PlacementModel
from fulfilment.orders.sync import sync_business
from fulfilment.orders.tasks import sync_business_task
from fulfilment.sandbox import seed

from .worker import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def business(sandbox):
    b = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Demo", api_base_url=sandbox.url,
                                api_token=seed.DEMO_API_KEY)
    Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID, business=b, name="FBS", placement_model=PlacementModel.FBS)
    return b


def mirror_equals_sandbox(sandbox) -> None:
    remote = {row["id"]: None for row in sandbox.store.query("SELECT id FROM market_order")}
    for order_id in remote:
        o = sandbox.store.order(order_id)
        remote[order_id] = sorted((i["id"], i["count"]) for i in o["items"])
    local: dict[int, list] = {}
    for market_id, item_id, count in OrderItem.objects.values_list("order__market_id", "market_item_id", "count"):
        local.setdefault(market_id, []).append((item_id, count))
    assert Order.objects.count() == len(remote)
    assert {k: sorted(v) for k, v in local.items()} == remote


def test_a_worker_killed_mid_sync_loses_nothing_and_duplicates_nothing(sandbox, business):
    sandbox.seeder.load(1500)
    sandbox.app.chaos.latency_ms = 60  # long enough to kill it half-way
    with Worker() as worker:
        sync_business_task.delay(business.pk)
        wait_for(lambda: Order.objects.count() >= 300, 120, "the first pages", worker)
        worker.kill()
        done_before = Order.objects.count()
        assert done_before < 1500, "the sync finished before it could be killed"
        business.refresh_from_db()
        assert business.last_sync_success_at is None  # the watermark did not move
        worker.start()
        sandbox.app.chaos.latency_ms = 0
        sync_business_task.delay(business.pk)  # what beat does every minute
        wait_for(lambda: Business.objects.get(pk=business.pk).last_sync_success_at, 180, "a complete sync", worker)
    mirror_equals_sandbox(sandbox)


def test_a_chaotic_market_still_converges_and_gets_every_action_once(sandbox, business):
    sandbox.seeder.load(120)
    sync_business(business.pk, client=sandbox.client())
    orders = list(Order.objects.prefetch_related("items").order_by("market_id")[:30])
    chaos = sandbox.app.chaos
    chaos.error_rate, chaos.latency_ms, chaos.burst_after, chaos.burst_period = 0.2, 30, 6, 3.0
    sandbox.app._rng.seed(42)
    with Worker(concurrency=4) as worker:
        # Every order gets its layout, then READY_TO_SHIP: sixty actions, order kept per order.
        for order in orders:
            with transaction.atomic():
                outbox.enqueue(order.campaign, BoxLayout((tuple(
                    BoxLine(i.market_item_id, i.count) for i in order.items.all()),)), order=order)
                outbox.enqueue(order.campaign, StatusChange("PROCESSING", "READY_TO_SHIP"), order=order)
        for _ in range(40):  # the Market moves on meanwhile: new orders arrive
            sandbox.place([("MUG-001", 1), ("SOCKS-3P", 2)])
        sync_business_task.delay(business.pk)
        try:
            wait_for(lambda: not OutboxAction.objects.exclude(state=OutboxAction.State.DELIVERED).exists(), 240,
                     "every action delivered", worker, interval=0.5)
        except AssertionError as exc:
            stuck = list(OutboxAction.objects.exclude(state=OutboxAction.State.DELIVERED).values(
                "id", "order_id", "kind", "state", "attempts", "next_attempt_at", "last_error"))
            raise AssertionError(f"{stuck}\n{exc}") from None
        wait_for(lambda: Order.objects.count() == 160, 120, "the sync to catch up", worker)
    received = sandbox.store.received()
    for order in orders:
        path = f"/v2/campaigns/{seed.FBS_CAMPAIGN_ID}/orders/{order.market_id}"
        layouts = [r for r in received if r["path"] == path + "/boxes" and r["status"] == 200]
        statuses = [r for r in received if r["path"] == path + "/status" and r["status"] == 200]
        assert len(layouts) == 1 and len(statuses) == 1, order.market_id
        assert layouts[0]["id"] < statuses[0]["id"]  # layout before ready-to-ship
        assert sandbox.stored(order.market_id)["substatus"] == "READY_TO_SHIP"
    seen = Counter(r["status"] for r in received)
    assert seen[500] and seen[420], seen
    chaos.error_rate = chaos.latency_ms = chaos.burst_after = 0
    sync_business(business.pk, client=sandbox.client())
    mirror_equals_sandbox(sandbox)


def test_two_syncs_of_one_business_at_once_one_runs_the_other_skips(sandbox, business):
    sandbox.seeder.load(200)
    sandbox.app.chaos.latency_ms = 40
    results = []

    def run() -> None:
        try:
            results.append(sync_business(business.pk, client=sandbox.client()))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r.ran for r in results) == [False, True]
    assert Order.objects.count() == 200
