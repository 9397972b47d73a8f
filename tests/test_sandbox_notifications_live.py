"""The sandbox Market's notifications end to end: the sandbox over HTTP pushes to the dashboard on a
live server, a real Celery worker applies them. A new order and a cancellation arrive in seconds
by a targeted refresh (never the periodic sync); a 500 is sent again on the Market's schedule, a
400 never."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import requests
from django.db import connection
from django.urls import reverse

from fulfilment.notifications.models import NotificationEvent
from fulfilment.orders.models import Business, Order
from fulfilment.sandbox import seed

from .worker import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wired(market, live_server, settings):
    """The sandbox pushing the demo business's notifications to the dashboard's live server, heard
    from localhost as the demo allows."""
    settings.MARKET_NOTIFICATION_SOURCES = ["127.0.0.1"]
    path = reverse("market-notification", args=[market.business.notification_secret]).removesuffix("/notification")
    assert control(market, "PUT", f"businesses/{seed.DEMO_BUSINESS_ID}/notification-url",
                   {"url": live_server.url + path}).status_code == 200
    return market


def control(sandbox, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)


def place(sandbox) -> int:
    return control(sandbox, "POST", "orders", {"items": [{"offerId": "MUG-001", "count": 1}]}).json()["orderId"]


def notes(sandbox, order_id: int | None = None) -> list[dict]:
    found = control(sandbox, "GET", "notifications").json()["notifications"]
    return [n for n in found if order_id is None or n["orderId"] == order_id]


def business_orders_calls(sandbox) -> list[dict]:
    return [json.loads(r["body"] or "{}") for r in sandbox.store.received("getBusinessOrders")]


def test_an_order_placed_in_the_sandbox_is_in_the_queue_within_seconds(wired, client, packer):
    with Worker() as worker:
        started = time.monotonic()
        order_id = place(wired)
        wait_for(lambda: Order.objects.filter(market_id=order_id).exists(), 15, "the order in the mirror", worker)
        took = time.monotonic() - started
    assert took < 10
    [note] = notes(wired, order_id)
    assert note["type"] == "ORDER_CREATED" and [a["status"] for a in note["answers"]] == [200]
    # Fetched by its id: a targeted refresh, not the periodic sync (no beat runs here).
    assert [c.get("orderIds") for c in business_orders_calls(wired)] == [[order_id]]
    client.force_login(packer)
    assert str(order_id) in client.get(reverse("queue")).content.decode()


def test_a_cancellation_in_the_sandbox_reaches_the_order(wired):
    with Worker() as worker:
        order_id = place(wired)
        wait_for(lambda: Order.objects.filter(market_id=order_id).exists(), 15, "the order in the mirror", worker)
        assert control(wired, "POST", f"orders/{order_id}/buyer-cancel").status_code == 200
        wait_for(lambda: Order.objects.get(market_id=order_id).status == "CANCELLED", 15, "cancelled", worker)
    assert NotificationEvent.objects.filter(order_market_id=order_id, notification_type="ORDER_CANCELLED",
                                            state="DONE").exists()
    assert all(c.get("orderIds") == [order_id] for c in business_orders_calls(wired))


def test_an_event_answered_500_is_sent_again_a_minute_of_market_time_later(wired):
    scale = 0.05  # a minute is 3 s
    control(wired, "POST", "settings", {"notify_time_scale": scale})
    table = NotificationEvent._meta.db_table
    with Worker() as worker:
        # The dashboard cannot record events for a moment: it answers 500, as it must.
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
        try:
            order_id = place(wired)
            wait_for(lambda: (n := notes(wired, order_id)) and n[0]["answers"], 10, "the first attempt")
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
        wait_for(lambda: Order.objects.filter(market_id=order_id).exists(), 20, "the order after the retry", worker)
    [note] = notes(wired, order_id)
    assert note["state"] == "DELIVERED"
    assert [a["status"] for a in note["answers"]] == [500, 200]
    first, second = (dt.datetime.fromisoformat(a["at"]) for a in note["answers"])
    assert 60 * scale * 0.9 <= (second - first).total_seconds() < 60 * scale * 2


def test_an_event_refused_with_400_is_not_sent_again(wired):
    control(wired, "POST", "settings", {"notify_time_scale": 0.005})  # a minute is 0.3 s
    # Something the sandbox would never send by itself: an ORDER_CREATED without its time and items.
    wired.store.queue_notification(seed.DEMO_BUSINESS_ID, {"notificationType": "ORDER_CREATED",
                                                           "campaignId": seed.FBS_CAMPAIGN_ID, "orderId": 1})
    wait_for(lambda: (n := notes(wired)) and n[0]["answers"], 10, "the attempt")
    time.sleep(1.5)  # five minutes of Market time
    [note] = notes(wired)
    assert note["state"] == "REFUSED" and [a["status"] for a in note["answers"]] == [400]
    assert json.loads(note["answers"][0]["body"])["error"]["type"] == "WRONG_EVENT_FORMAT"
    assert Business.objects.get(pk=wired.business.pk).notification_failures == 1


def test_a_ping_from_the_control_plane_reaches_the_business_health(wired):
    assert Business.objects.get(pk=wired.business.pk).last_ping_at is None
    assert control(wired, "POST", f"businesses/{seed.DEMO_BUSINESS_ID}/ping").status_code == 200
    wait_for(lambda: Business.objects.get(pk=wired.business.pk).last_ping_at, 10, "the PING recorded")
    assert [a["status"] for a in notes(wired)[0]["answers"]] == [200]
