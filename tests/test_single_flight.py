"""Every periodic task, and every task it fans out to, run twice at the same moment (two beats, or
the broker handing one message to two workers after its visibility timeout): nothing is doubled.

Each run is a thread with its own PostgreSQL connection and real transactions, against the
sandbox over HTTP; the sandbox's request log counts what reached the Market.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from fulfilment.market import changes as ch
from fulfilment.market.types import BoxLine, Instance as RemoteInstance
from fulfilment.notifications import refreshing
from fulfilment.notifications.models import NotificationEvent
from fulfilment.orders import catalogue, evidence, outbox, readiness, returns_mirror, shipments, sync, verification
from fulfilment.orders.models import (
    AuditEvent,
    Business,
    Heartbeat,
    Instance,
    InstanceKind,
    Order,
    OutboxAction,
    PackingPhoto,
    Verification,
)

from .notifications import order_event, push

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="two connections at once need PostgreSQL"),
]


def twice(work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in two threads released at once; what each returned (an exception is re-raised)."""
    gate = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        try:
            gate.wait(10)
            results[i] = work()
        except BaseException as exc:  # handed back to the test's thread
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


@pytest.fixture
def slow(market):
    """Every Market call takes a while, so that two runs overlap as two workers would."""
    market.app.chaos.latency_ms = 400
    return market


def test_two_order_syncs_of_one_business_read_the_market_once(slow):
    slow.place([("MUG-001", 1)])
    results = twice(lambda: sync.sync_business(slow.business.pk, client=slow.client()))
    assert sorted(r.ran for r in results) == [False, True]
    assert Order.objects.count() == 1


def test_two_catalogue_reads_ask_the_market_once(slow):
    slow.place([("SHOES-RUN-42", 1), ("TSHIRT-M", 2)])
    sync.sync_business(slow.business.pk, client=slow.client())
    twice(lambda: catalogue.sync_catalogue(slow.business.pk, client=slow.client()))
    assert len(slow.store.received("getOfferMappings")) == 1


def test_two_returns_passes_ask_the_market_once(slow):
    twice(lambda: returns_mirror.sync_returns(Business.objects.get(pk=slow.business.pk)))
    active = slow.business.campaigns.filter(is_active=True).count()
    assert len(slow.store.received("getReturns")) == active  # one pass: one list per shop


def test_two_shipment_passes_of_one_shop_ask_the_market_once(slow):
    campaign = slow.business.campaigns.filter(is_active=True).order_by("pk").first()
    twice(lambda: shipments.sync_campaign_shipments(campaign.pk, client=slow.client()))
    assert len(slow.store.received("searchShipments")) == 1


def test_two_deliveries_of_one_outbox_action_send_it_once(slow):
    slow.place([("MUG-001", 1)])
    sync.sync_business(slow.business.pk, client=slow.client())
    order = Order.objects.get()
    item = order.items.get()
    with transaction.atomic():
        action = outbox.enqueue(order.campaign, ch.BoxLayout(((BoxLine(item.market_item_id, item.count),),)),
                                order=order)
    # Two sweeps found it due, and each queued a delivery.
    assert outbox.due_action_ids() == [action.pk]
    twice(lambda: outbox.deliver(action.pk, client=slow.client()))
    action.refresh_from_db()
    assert (action.state, action.attempts) == (OutboxAction.State.DELIVERED, 1)
    assert len(slow.store.received("setOrderBoxLayout")) == 1
    assert AuditEvent.objects.filter(order=order, action="outbox.delivered").count() == 1


def test_two_refreshes_of_waiting_events_ask_the_market_once(slow, client):
    placed = [slow.place([("MUG-001", 1)]) for _ in range(2)]
    for o in placed:
        push(client, slow.business, order_event("ORDER_CREATED", o["orderId"]))
    twice(lambda: refreshing.refresh_pending(slow.business.pk))
    targeted = [json.loads(r["body"] or "{}").get("orderIds") for r in slow.store.received("getBusinessOrders")]
    assert targeted == [sorted(o["orderId"] for o in placed)]
    assert set(NotificationEvent.objects.values_list("state", "attempts")) == {("DONE", 1)}


def test_two_prunes_remove_each_old_photo_once(market, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    market.place([("MUG-001", 1)])
    sync.sync_business(market.business.pk, client=market.client())
    order = Order.objects.get()
    for _ in range(5):
        evidence.store_photo(order, b"\xff\xd8 a photo", None, "FINISH", None)
    PackingPhoto.objects.update(taken_at=timezone.now() - dt.timedelta(days=settings.EVIDENCE_PHOTO_DAYS + 1))
    removed = twice(evidence.prune_photos)
    assert sum(removed) == 5 and not PackingPhoto.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_two_heartbeats_leave_one_row(db):
    twice(lambda: readiness.beat_heartbeat("worker@host"))
    assert Heartbeat.objects.filter(name=readiness.HEARTBEAT).count() == 1



def test_two_checks_of_a_rejected_code_record_the_rejection_once(slow):
    """The outbox's delivery of a layout starts the code check; a check delivered twice at once
    asks the Market twice (a read) but records the Market's refusal once."""
    uin = "6666666666666666"
    slow.store.set_setting("failing_codes", [uin])
    slow.store.set_setting("check_delay", 0)
    placed = slow.place([("RING-585", 1)])
    sync.sync_business(slow.business.pk, client=slow.client())
    order = Order.objects.get(market_id=placed["orderId"])
    item = order.items.get()
    slow.client().set_order_box_layout(order.campaign.market_id, order.market_id, [
        [BoxLine(item.market_item_id, full_count=1, instances=(RemoteInstance(uin=uin),))]])
    Instance.objects.create(order=order, item=item, unit=1, kind=InstanceKind.UIN, value=uin, identity=uin)
    twice(lambda: verification.check_identifiers(order.pk, client=slow.client()))
    assert Instance.objects.get(order=order).verification == Verification.ERROR
    assert AuditEvent.objects.filter(order=order, action="codes.rejected").count() == 1


# Each periodic task, and what it queues, with the test above that runs it twice at once. A new
# periodic task fails the check below until it is single-flight and named here.
COVERED = {
    "fulfilment.orders.tasks.sync_all_task": [test_two_order_syncs_of_one_business_read_the_market_once,
                                              test_two_catalogue_reads_ask_the_market_once],
    "fulfilment.orders.tasks.sweep_outbox_task": [test_two_deliveries_of_one_outbox_action_send_it_once,
                                                  test_two_checks_of_a_rejected_code_record_the_rejection_once],
    "fulfilment.orders.tasks.heartbeat_task": [test_two_heartbeats_leave_one_row],
    "fulfilment.notifications.tasks.sweep_notifications_task": [
        test_two_refreshes_of_waiting_events_ask_the_market_once],
    "fulfilment.orders.tasks.sync_all_returns_task": [test_two_returns_passes_ask_the_market_once],
    "fulfilment.orders.tasks.prune_photos_task": [test_two_prunes_remove_each_old_photo_once],
    "fulfilment.orders.tasks.sync_shipments_task": [test_two_shipment_passes_of_one_shop_ask_the_market_once],
}


@pytest.mark.django_db(transaction=False)
def test_every_periodic_task_is_run_twice_at_once_above(settings):
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} == set(COVERED)
