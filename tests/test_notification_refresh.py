"""What the order events do: one targeted refresh per batch, the sync's rules, retries while the
Market is down; and how the business's notification health sets the pace of polling."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.notifications import refreshing
from fulfilment.notifications.models import NotificationEvent
from fulfilment.orders import sync
from fulfilment.orders.models import Box, BoxLine, Business, Order
from fulfilment.orders.tasks import sync_all_task

from .notifications import order_event, push

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(market):
    return market.business


def targeted_calls(market) -> list[list[int]]:
    """The orderIds of every getBusinessOrders the sandbox received (a full sync sends none)."""
    return [json.loads(r["body"] or "{}").get("orderIds") for r in market.store.received("getBusinessOrders")]


def test_a_burst_of_order_events_costs_one_targeted_call(client, business, market):
    placed = [market.place([("MUG-001", 1)]) for _ in range(3)]
    for o in placed:
        push(client, business, order_event("ORDER_CREATED", o["orderId"]))
    push(client, business, order_event("ORDER_STATUS_UPDATED", placed[0]["orderId"]))

    outcome = refreshing.refresh_pending(business.pk)

    assert (outcome.events, outcome.calls) == (4, 1)
    assert targeted_calls(market) == [sorted(o["orderId"] for o in placed)]
    assert set(Order.objects.values_list("market_id", flat=True)) == {o["orderId"] for o in placed}
    assert set(NotificationEvent.objects.values_list("state", flat=True)) == {"DONE"}
    assert refreshing.refresh_pending(business.pk).calls == 0  # nothing left: the next run asks nothing


def test_more_than_fifty_orders_are_asked_fifty_at_a_time(client, business, market):
    placed = [market.place([("MUG-001", 1)]) for _ in range(120)]
    for o in placed:
        push(client, business, order_event("ORDER_CREATED", o["orderId"]))

    assert refreshing.refresh_pending(business.pk).calls == 3

    calls = targeted_calls(market)
    assert [len(ids) for ids in calls] == [50, 50, 20]
    assert sorted(i for ids in calls for i in ids) == sorted(o["orderId"] for o in placed)
    assert Order.objects.count() == 120


def test_a_cancellation_while_packing_is_flagged_as_the_sync_would(client, business, market):
    placed = market.place([("MUG-001", 1)])
    sync.sync_business(business.pk, client=market.client())
    local = Order.objects.get(market_id=placed["orderId"])
    box = Box.objects.create(order=local, number=1)
    BoxLine.objects.create(box=box, item=local.items.get(), full_count=1)
    market.app.handle("POST", f"/_sandbox/orders/{placed['orderId']}/buyer-cancel", "", {}, b"")
    push(client, business, order_event("ORDER_CANCELLED", placed["orderId"]))

    refreshing.refresh_pending(business.pk)

    local.refresh_from_db()
    assert local.status == "CANCELLED"
    with translation.override("en"):
        assert "cancelled while packing" in local.flag_text


def test_an_older_event_arriving_late_does_not_bring_back_an_older_state(client, business, market):
    placed = market.place([("MUG-001", 1)], updated_now=False)
    sync.sync_business(business.pk, client=market.client())
    created = dt.datetime.fromisoformat(placed["creationDate"])
    market.app.handle("POST", f"/_sandbox/orders/{placed['orderId']}/buyer-cancel", "", {}, b"")
    push(client, business, order_event("ORDER_CANCELLED", placed["orderId"]))
    refreshing.refresh_pending(business.pk)
    # The status change from before the cancellation arrives last (the Market resends it later).
    push(client, business, order_event("ORDER_STATUS_UPDATED", placed["orderId"], created))

    refreshing.refresh_pending(business.pk)

    assert Order.objects.get(market_id=placed["orderId"]).status == "CANCELLED"
    assert NotificationEvent.objects.filter(state="DONE").count() == 2


def test_an_event_of_a_shop_not_mirrored_here_asks_nothing(client, business, market):
    push(client, business, order_event("ORDER_CREATED", 50_000_999, campaign_id=99_999))
    assert refreshing.refresh_pending(business.pk).calls == 0
    assert NotificationEvent.objects.get().state == "DONE"
    assert market.store.received("getBusinessOrders") == []


def test_while_the_market_is_down_events_wait_and_the_receiver_keeps_answering(client, business, market):
    placed = market.place([("MUG-001", 1)])
    market.app.chaos.error_rate = 1.0
    push(client, business, order_event("ORDER_CREATED", placed["orderId"]))

    outcome = refreshing.refresh_pending(business.pk)

    assert outcome.retry_in == 2
    event = NotificationEvent.objects.get()
    assert (event.state, event.attempts) == ("PENDING", 1)
    assert "Sandbox chaos" in event.last_error
    assert event.next_attempt_at > timezone.now()
    assert refreshing.refresh_pending(business.pk).events == 0  # not before its time
    other = market.place([("MUG-001", 1)])
    assert push(client, business, order_event("ORDER_CREATED", other["orderId"])).status_code == 200

    market.app.chaos.error_rate = 0.0
    NotificationEvent.objects.update(next_attempt_at=timezone.now())
    assert refreshing.refresh_pending(business.pk).calls == 1
    assert Order.objects.count() == 2
    business.refresh_from_db()
    assert business.notification_failures == 0


def test_a_refresh_that_cannot_succeed_gives_up_and_counts_a_failure(client, business, market):
    Business.objects.filter(pk=business.pk).update(api_token="revoked")
    push(client, business, order_event("ORDER_CREATED", 50_000_123))

    outcome = refreshing.refresh_pending(business.pk)

    assert outcome.retry_in is None
    assert NotificationEvent.objects.get().state == "FAILED"
    business.refresh_from_db()
    assert business.notification_failures == 1 and business.last_notification_failure.startswith("refresh")
    assert not business.notifications_healthy(timezone.now())


def test_events_nobody_takes_care_of_are_found_by_the_sweep(client, business):
    push(client, business, order_event("ORDER_CREATED", 50_000_123))
    assert refreshing.overdue_business_ids() == []
    NotificationEvent.objects.update(received_at=timezone.now() - dt.timedelta(minutes=2))
    assert refreshing.overdue_business_ids() == [business.pk]
    NotificationEvent.objects.update(state="REFRESHING", claimed_at=timezone.now() - dt.timedelta(minutes=6))
    assert refreshing.overdue_business_ids() == [business.pk]
    assert refreshing.refresh_pending(business.pk).events == 1  # a dead worker's claim is taken again


# --- health and the pace of polling -----------------------------------------------------------------
def test_polling_slows_down_while_notifications_arrive_and_resumes_when_they_stop(client, business, settings):
    settings.SYNC_RECONCILE_MINUTES, settings.MARKET_NOTIFICATION_HEALTHY_MINUTES = 10, 15
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(last_sync_success_at=now - dt.timedelta(minutes=2))
    assert Business.objects.get(pk=business.pk).sync_due(now)  # never heard from the Market: every minute

    push(client, business, {"notificationType": "PING"})
    business.refresh_from_db()
    assert not business.sync_due(now)
    assert sync_all_task() == 0
    assert business.sync_due(now + dt.timedelta(minutes=8))  # the reconciliation pass, one beat early at most
    assert not business.sync_due(now + dt.timedelta(minutes=6))
    # The notifications stop: once the window passes without one, every beat syncs again.
    assert business.sync_due(now + dt.timedelta(minutes=16))


def test_a_failure_makes_polling_run_at_full_rate(client, business):
    Business.objects.filter(pk=business.pk).update(last_sync_success_at=timezone.now())
    push(client, business, {"notificationType": "PING"})
    push(client, business, b"{broken")
    business.refresh_from_db()
    assert business.sync_due(timezone.now())


# --- admin ---------------------------------------------------------------------------------------
def test_the_admin_shows_the_url_to_paste_and_the_health(client, admin_user, business):
    push(client, business, {"notificationType": "PING"})
    push(client, business, order_event("ORDER_CREATED", 50_000_123))
    client.force_login(admin_user)
    page = client.get(reverse("admin:orders_business_change", args=[business.pk])).content.decode()
    base = f"http://testserver/market/notifications/{business.notification_secret}"
    assert f'value="{base}"' in page
    assert "уведомления маркета" in page.lower() and "событий за последний час" in page.lower()
    listing = client.get(reverse("admin:orders_business_changelist")).content.decode()
    assert "приходят" in listing
    events = client.get(reverse("admin:notifications_notificationevent_changelist")).content.decode()
    assert "50000123" in events
    event = NotificationEvent.objects.get()
    assert client.get(reverse("admin:notifications_notificationevent_change", args=[event.pk])).status_code == 200


def test_a_new_url_can_be_issued_and_the_old_one_stops_working(client, admin_user, business):
    old = business.notification_secret
    client.force_login(admin_user)
    client.post(reverse("admin:orders_business_changelist"),
                {"action": "new_notification_url", "_selected_action": [business.pk]})
    business.refresh_from_db()
    assert business.notification_secret != old
    stale = Business(notification_secret=old)
    client.logout()
    assert push(client, stale, {"notificationType": "PING"}).status_code == 404
    assert push(client, business, {"notificationType": "PING"}).status_code == 200

