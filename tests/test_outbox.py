"""The outbox: written with the change, delivered in order, retried when transient, never lost."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfilment.celery import app
from fulfilment.market import changes as ch
from fulfilment.market.types import BoxLine, PartialCount
from fulfilment.orders import outbox
from fulfilment.orders.models import Box, Order, OutboxAction
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox import seed

from .builders import make_order

pytestmark = pytest.mark.django_db
State = OutboxAction.State
Kind = OutboxAction.Kind


@pytest.fixture
def synced(market):
    """The sandbox with a few orders, mirrored into the database."""
    market.place([("MUG-001", 2)])
    market.place([("AC-SPLIT-9", 1)])
    sync_business(market.business.pk, client=market.client())
    return market


def layout_of(order: Order, split: bool = False) -> ch.BoxLayout:
    item = order.items.get()
    if split:
        return ch.BoxLayout(tuple((BoxLine(item.market_item_id, partial=PartialCount(c, 2)),) for c in (1, 2)))
    return ch.BoxLayout(((BoxLine(item.market_item_id, item.count),),))


READY = ch.StatusChange("PROCESSING", "READY_TO_SHIP")


def add(order: Order, change: ch.Change) -> OutboxAction:
    with transaction.atomic():
        return outbox.enqueue(order.campaign, change, order=order)


def deliver(sandbox, action: OutboxAction):
    return outbox.deliver(action.pk, client=sandbox.client())


@pytest.mark.django_db(transaction=True)
def test_enqueue_belongs_inside_the_changes_transaction(synced):
    order = Order.objects.first()
    with pytest.raises(RuntimeError):
        outbox.enqueue(order.campaign, layout_of(order), order=order)


def test_a_layout_is_delivered_and_the_box_ids_stored(synced):
    order = Order.objects.get(items__offer_id="AC-SPLIT-9")
    Box.objects.create(order=order, number=1)
    Box.objects.create(order=order, number=2)
    action = add(order, layout_of(order, split=True))
    assert deliver(synced, action) == (State.DELIVERED, None)
    action.refresh_from_db()
    assert action.delivered_at and len(action.result["boxIds"]) == 2
    assert list(order.boxes.values_list("market_box_id", flat=True)) == action.result["boxIds"]
    assert order.audit_events.filter(action="outbox.delivered").exists()
    body = synced.store.received("setOrderBoxLayout")[-1]["body"]
    assert '"partialCount": {"current": 1, "total": 2}' in body


def test_a_newer_layout_supersedes_an_unsent_one(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    first = add(order, layout_of(order))
    second = add(order, layout_of(order))
    first.refresh_from_db()
    assert first.state == State.SUPERSEDED
    assert deliver(synced, first)[0] == State.SUPERSEDED
    assert deliver(synced, second)[0] == State.DELIVERED
    assert len(synced.store.received("setOrderBoxLayout")) == 1


def test_ready_to_ship_waits_for_the_layout_before_it(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    layout = add(order, layout_of(order))
    status = add(order, READY)
    state, again_in = deliver(synced, status)
    assert state == State.PENDING and again_in >= 2  # the layout is not there yet: look again later
    assert synced.store.received("updateOrderStatus") == []
    assert deliver(synced, layout)[0] == State.DELIVERED
    assert deliver(synced, status)[0] == State.DELIVERED
    order.refresh_from_db()
    assert order.substatus == "READY_TO_SHIP"


def test_a_refused_action_stops_with_the_markets_message_and_blocks_later_ones(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    item = order.items.get()
    bad = add(order, ch.BoxLayout(((BoxLine(item.market_item_id, 1),),)))
    status = add(order, READY)
    assert deliver(synced, bad)[0] == State.FAILED
    assert deliver(synced, status) == (State.PENDING, None)  # waits for staff to retry the refused one
    bad.refresh_from_db()
    assert bad.market_errors[0]["code"] == "INVALID_BOX_LAYOUT" and "1 of 2 units" in bad.market_errors[0]["message"]
    assert deliver(synced, status)[0] == State.PENDING
    assert order.audit_events.filter(action="outbox.failed").exists()


def test_a_failed_action_can_be_retried(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    synced.app.chaos.error_rate = 1.0
    action = add(order, layout_of(order))
    action.attempts = outbox.MAX_ATTEMPTS - 1
    action.save()
    assert deliver(synced, action)[0] == State.FAILED
    synced.app.chaos.error_rate = 0.0
    outbox.retry_failed(action)
    OutboxAction.objects.filter(pk=action.pk).update(next_attempt_at=timezone.now())
    assert deliver(synced, action)[0] == State.DELIVERED


def test_a_5xx_is_retried_later_with_backoff(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    synced.app.chaos.error_rate = 1.0
    action = add(order, layout_of(order))
    state, wait = deliver(synced, action)
    assert state == State.PENDING and wait == outbox.backoff(1)
    action.refresh_from_db()
    assert action.next_attempt_at > timezone.now() and action.attempts == 1 and action.last_error
    assert deliver(synced, action)[0] == State.PENDING  # not due yet: nothing sent
    assert len(synced.store.received("setOrderBoxLayout")) == 1


def test_a_420_waits_as_long_as_the_market_says(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    synced.app.chaos.burst_after = 1
    synced.client().get_campaigns()
    action = add(order, layout_of(order))
    state, wait = deliver(synced, action)
    assert state == State.PENDING and 1 <= wait <= 61
    action.refresh_from_db()
    assert action.attempts == 0  # a wait for our turn is not a failed attempt


def test_rejected_credentials_flag_the_campaign(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    action = add(order, layout_of(order))
    assert outbox.deliver(action.pk, client=synced.client("revoked"))[0] == State.FAILED
    order.campaign.refresh_from_db()
    assert order.campaign.credentials_error


def test_two_workers_never_send_one_action_twice(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    action = add(order, layout_of(order))
    assert outbox.claim(action.pk)[0] is not None
    assert outbox.claim(action.pk) == (None, None)


def test_a_send_interrupted_by_a_dead_worker_is_resent_and_counted_once(synced):
    order = Order.objects.get(items__offer_id="MUG-001")
    add(order, layout_of(order))
    outbox.deliver(OutboxAction.objects.get(kind=Kind.LAYOUT).pk, client=synced.client())
    status = add(order, READY)
    # The worker sent the status, then died before writing down the answer.
    outbox.claim(status.pk)
    synced.client().update_order_status(seed.FBS_CAMPAIGN_ID, order.market_id, "PROCESSING", "READY_TO_SHIP")
    OutboxAction.objects.filter(pk=status.pk).update(claimed_at=timezone.now() - dt.timedelta(minutes=10))
    assert status.pk in outbox.due_action_ids()
    assert deliver(synced, status)[0] == State.DELIVERED
    status.refresh_from_db()
    assert status.result == {"note": "already applied at the Market"}


def test_bulk_status_and_dbs_actions(synced):
    mug = Order.objects.get(items__offer_id="MUG-001")
    add(mug, layout_of(mug))
    deliver(synced, OutboxAction.objects.get(kind=Kind.LAYOUT))
    with transaction.atomic():
        bulk = outbox.enqueue(mug.campaign, ch.StatusChanges((ch.OrderStatusChange(mug.market_id, "PROCESSING",
                                                                                   "READY_TO_SHIP"),)))
    assert deliver(synced, bulk)[0] == State.DELIVERED
    bulk.refresh_from_db()
    assert bulk.result["orders"][0]["ok"] is True


def test_a_removal_is_its_own_kind_and_no_newer_layout_supersedes_it(synced):
    synced.place([("MUG-001", 3), ("TEA-GREEN-100", 2)])
    sync_business(synced.business.pk, client=synced.client())
    order = Order.objects.get(items__offer_id="TEA-GREEN-100")
    mug, tea = order.items.get(offer_id="MUG-001"), order.items.get(offer_id="TEA-GREEN-100")
    reduced = ch.BoxLayout(((BoxLine(mug.market_item_id, 1), BoxLine(tea.market_item_id, 2)),), allow_remove=True)
    removal = add(order, ch.ItemRemoval(reduced, mug.market_item_id, 1))
    layout = add(order, ch.BoxLayout(((BoxLine(mug.market_item_id, 1), BoxLine(tea.market_item_id, 2)),)))
    removal.refresh_from_db()
    assert (removal.kind, removal.state, layout.kind) == (Kind.REMOVAL, State.PENDING, Kind.LAYOUT)
    assert deliver(synced, removal)[0] == State.DELIVERED
    sent = synced.store.received("setOrderBoxLayout")[-1]
    assert json.loads(sent["body"]) == reduced.body() and json.loads(sent["body"])["allowRemove"] is True
    mug.refresh_from_db()
    assert mug.count == 1 and order.audit_events.get(action="item.removed").payload == {
        "item": mug.market_item_id, "count": 1}
    assert deliver(synced, layout)[0] == State.DELIVERED


def test_a_refused_action_never_holds_back_the_shops_cancellation(synced):
    """Issue 13.3: a layout the Market refused waits for staff, but cancelling the order as the shop
    (the way out of it) is sent at once; the refused change is then moot."""
    order = Order.objects.get(items__offer_id="MUG-001")
    item = order.items.get()
    refused = add(order, ch.BoxLayout(((BoxLine(item.market_item_id, 1),),)))  # 1 of 2
    assert deliver(synced, refused)[0] == State.FAILED
    ready = add(order, ch.StatusChange("PROCESSING", "READY_TO_SHIP"))
    assert deliver(synced, ready) == (State.PENDING, None)  # an ordinary change still waits behind it
    cancel = add(order, ch.StatusChange("CANCELLED", "SHOP_FAILED"))
    assert deliver(synced, cancel) == (State.DELIVERED, None)
    assert synced.store.order(order.market_id)["status"] == "CANCELLED"
    refused.refresh_from_db()
    ready.refresh_from_db()
    assert refused.state == State.SUPERSEDED and ready.state == State.SUPERSEDED


def queued_messages() -> int:
    """Messages waiting in the broker's queue (Redis in CI, the embedded broker otherwise)."""
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=False,
                                                  durable=True, auto_delete=False).message_count


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_no_delivery_and_a_committed_one_queues_it_once():
    order = make_order()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    with pytest.raises(LookupError), transaction.atomic():
        outbox.enqueue(order.campaign, READY, order=order)
        raise LookupError("the local change fails after its action was recorded")
    assert queued_messages() == 0
    assert not OutboxAction.objects.exists()
    with transaction.atomic():
        outbox.enqueue(order.campaign, READY, order=order)
        assert queued_messages() == 0  # not before the commit: the worker would not find the row
    assert queued_messages() == 1
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
