"""The notifications end to end with a real Celery worker: pushed events reach the mirror through
one targeted call per batch, survive a Market that is down, and the beat's pace follows their health."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from fulfilment.notifications.models import NotificationEvent
from fulfilment.orders.models import Business, Order
from fulfilment.orders.tasks import sync_all_task

from .notifications import order_event, push
from .worker import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def business_orders_calls(market) -> list[dict]:
    return [json.loads(r["body"] or "{}") for r in market.store.received("getBusinessOrders")]


def test_a_burst_of_events_reaches_the_mirror_through_one_targeted_call(client, market, settings):
    settings.MARKET_NOTIFICATION_COALESCE_SECONDS = 3
    business = market.business
    placed = [market.place([("MUG-001", 1)]) for _ in range(3)]
    with Worker() as worker:
        for o in placed:
            assert push(client, business, order_event("ORDER_CREATED", o["orderId"])).status_code == 200
        wait_for(lambda: Order.objects.count() == 3, 60, "the three orders in the mirror", worker)
        wait_for(lambda: not NotificationEvent.objects.exclude(state="DONE").exists(), 30, "events settled", worker)
    calls = business_orders_calls(market)
    assert [c.get("orderIds") for c in calls] == [sorted(o["orderId"] for o in placed)]  # one call, never a full sync


def test_the_receiver_keeps_working_while_the_market_is_down_and_the_refresh_retries(client, market):
    business = market.business
    placed = market.place([("MUG-001", 1)])
    market.app.chaos.error_rate = 1.0
    with Worker() as worker:
        assert push(client, business, order_event("ORDER_CREATED", placed["orderId"])).status_code == 200
        wait_for(lambda: NotificationEvent.objects.filter(attempts__gte=2).exists(), 60, "a retried refresh", worker)
        later = market.place([("MUG-001", 1)])
        assert push(client, business, order_event("ORDER_CREATED", later["orderId"])).status_code == 200
        assert Order.objects.count() == 0
        market.app.chaos.error_rate = 0.0
        wait_for(lambda: Order.objects.count() == 2, 90, "both orders once the Market is back", worker)
    assert set(NotificationEvent.objects.values_list("state", flat=True)) == {"DONE"}
    assert {r["status"] for r in market.store.received("getBusinessOrders")} == {200, 500}
    assert Business.objects.get(pk=business.pk).notification_failures == 0


def test_when_notifications_stop_polling_resumes_at_full_rate(client, market):
    business = market.business
    synced = timezone.now() - dt.timedelta(minutes=2)
    Business.objects.filter(pk=business.pk).update(last_sync_success_at=synced, sync_watermark=synced)
    with Worker() as worker:
        push(client, business, {"notificationType": "PING"})
        assert sync_all_task() == 0  # healthy: the next pass is the reconciliation, minutes away
        # No notification for longer than the window: the beat syncs the business again at once.
        Business.objects.filter(pk=business.pk).update(last_notification_at=timezone.now() - dt.timedelta(hours=1))
        assert sync_all_task() == 1
        wait_for(lambda: Business.objects.get(pk=business.pk).last_sync_success_at > synced, 60, "a full sync", worker)
