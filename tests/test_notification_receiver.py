"""The endpoint the Market pushes notifications to: who is heard, what is recorded, what is answered."""

import datetime as dt
import time

import pytest
from django.db import connection
from django.test import Client

from fulfilment.notifications.models import NotificationEvent
from fulfilment.orders.models import Business, Order

from .notifications import MARKET_ADDRESS, at, order_event, push, url

pytestmark = pytest.mark.django_db
ORDER_TYPES = ["ORDER_CREATED", "ORDER_STATUS_UPDATED", "ORDER_CANCELLED", "ORDER_CANCELLATION_REQUEST",
               "ORDER_UPDATED"]


@pytest.fixture
def business(market):
    return market.business


def test_every_business_has_its_own_long_secret(business, market):
    other = Business.objects.create(market_id=1, name="Other")
    assert len(business.notification_secret) >= 40
    assert business.notification_secret != other.notification_secret
    assert url(business).endswith(f"/{business.notification_secret}/notification")


def test_a_ping_is_answered_at_once_and_asks_nothing_of_the_market(client, business, market):
    started = time.monotonic()
    resp = push(client, business, {"notificationType": "PING", "time": at()})
    assert time.monotonic() - started < 1
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"version", "name", "time"} and body["name"] and body["version"]
    answered = dt.datetime.fromisoformat(body["time"])
    assert abs((answered - dt.datetime.now(dt.UTC)).total_seconds()) < 5
    business.refresh_from_db()
    assert business.last_ping_at and business.last_notification_at
    assert not NotificationEvent.objects.exists()
    assert market.store.received() == []


@pytest.mark.parametrize("kind", ORDER_TYPES)
def test_an_order_event_is_recorded_and_schedules_its_refresh(client, business, market, kind,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        resp = push(client, business, order_event(kind, 50_000_123))
    assert resp.status_code == 200
    event = NotificationEvent.objects.get()
    assert (event.notification_type, event.order_market_id, event.state) == (kind, 50_000_123, "PENDING")
    assert event.event_time and event.payload["orderId"] == 50_000_123
    assert len(scheduled) == 1
    assert market.store.received() == []  # the answer never waits for the Market


@pytest.mark.parametrize("body", [
    {"notificationType": "ORDER_RETURN_CREATED", "campaignId": 21001, "orderId": 7, "returnId": 9,
     "returnType": "UNREDEEMED", "createdAt": "2026-11-30T10:00:00Z", "items": [{"offerId": "MUG-001", "count": 1}]},
    {"notificationType": "ORDER_RETURN_STATUS_UPDATED", "campaignId": 21001, "orderId": 7, "returnId": 9,
     "statuses": {"shipmentStatus": "IN_TRANSIT"}, "updatedAt": "2026-11-30T10:00:00Z"},
], ids=["return-created", "return-status"])
def test_a_return_event_schedules_a_refresh_of_its_order_and_return(client, business, body,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        resp = push(client, business, body)
    assert resp.status_code == 200
    event = NotificationEvent.objects.get()
    assert (event.state, event.order_market_id) == ("PENDING", 7)
    assert len(scheduled) == 1


@pytest.mark.parametrize("body", [
    {"notificationType": "CHAT_CREATED", "businessId": 10001, "chatId": 3, "createdAt": "2026-11-30T10:00:00Z"},
    {"notificationType": "ORDER_TELEPORTED", "orderId": 7, "whatever": [1, 2]},
], ids=["chat", "unknown-type"])
def test_chats_and_other_types_are_stored_and_acknowledged(client, business, body,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        resp = push(client, business, body)
    assert resp.status_code == 200
    event = NotificationEvent.objects.get()
    assert (event.notification_type, event.state, event.payload) == (body["notificationType"], "STORED", body)
    assert scheduled == []


def test_a_duplicate_is_acknowledged_and_counted_not_recorded_twice(client, business,
                                                                    django_capture_on_commit_callbacks):
    body = order_event("ORDER_STATUS_UPDATED", 50_000_123)
    with django_capture_on_commit_callbacks() as scheduled:
        first = push(client, business, body)
        again = push(client, business, body)
    assert first.status_code == again.status_code == 200
    assert NotificationEvent.objects.get().copies == 2
    assert len(scheduled) == 1


def test_an_event_at_another_time_is_another_event(client, business):
    now = dt.datetime.now(dt.UTC)
    push(client, business, order_event("ORDER_STATUS_UPDATED", 50_000_123, now))
    push(client, business, order_event("ORDER_STATUS_UPDATED", 50_000_123, now - dt.timedelta(seconds=5)))
    assert NotificationEvent.objects.count() == 2


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", {"time": "2026-11-30T10:00:00Z"},
    {"notificationType": "ORDER_CANCELLED", "campaignId": 21001, "orderId": "seven", "cancelledAt": "x", "items": []},
    {"notificationType": "ORDER_CREATED", "campaignId": 21001, "orderId": 7, "items": []},
], ids=["not-json", "not-an-object", "no-type", "bad-id", "no-time"])
def test_a_malformed_body_is_refused_as_wrong_event_format_and_changes_nothing(client, business, market, body,
                                                                               django_capture_on_commit_callbacks):
    market.place([("MUG-001", 1)])
    with django_capture_on_commit_callbacks() as scheduled:
        resp = push(client, business, body)
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "WRONG_EVENT_FORMAT" and resp.json()["error"]["message"]
    assert not NotificationEvent.objects.exists() and not Order.objects.exists() and scheduled == []
    business.refresh_from_db()
    assert business.notification_failures == 1 and "WRONG_EVENT_FORMAT" in business.last_notification_failure


@pytest.mark.parametrize("address", ["8.8.8.8", "127.0.0.1", "5.45.207.128", "2a02:6b8::1"])
def test_a_request_from_outside_the_markets_ranges_is_refused(client, business, address):
    resp = push(client, business, order_event("ORDER_CREATED", 7), address=address)
    assert resp.status_code == 403
    assert not NotificationEvent.objects.exists()


@pytest.mark.parametrize("address", ["5.45.207.1", "141.8.142.127", "5.255.253.64", "::ffff:141.8.142.5"])
def test_the_markets_published_ranges_are_heard(client, business, address):
    assert push(client, business, {"notificationType": "PING"}, address=address).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, business, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    ping = {"notificationType": "PING"}
    assert push(client, business, ping, address="10.1.2.3", HTTP_X_FORWARDED_FOR=MARKET_ADDRESS).status_code == 200
    # What the client wrote itself stays on the left; the proxy appends the address it saw.
    assert push(client, business, ping, address="10.1.2.3",
                HTTP_X_FORWARDED_FOR=f"8.8.8.8, {MARKET_ADDRESS}").status_code == 200
    assert push(client, business, ping, address="10.1.2.3",
                HTTP_X_FORWARDED_FOR=f"{MARKET_ADDRESS}, 8.8.8.8").status_code == 403
    assert push(client, business, ping, address="10.1.2.3").status_code == 403


def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(client, business, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    ping = {"notificationType": "PING"}
    assert push(client, business, ping, address="8.8.8.8", HTTP_X_FORWARDED_FOR=MARKET_ADDRESS).status_code == 403
    assert push(client, business, ping, address=MARKET_ADDRESS, HTTP_X_FORWARDED_FOR="8.8.8.8").status_code == 200


def test_development_can_allow_localhost_by_settings(client, business, settings):
    settings.MARKET_NOTIFICATION_SOURCES = [*settings.MARKET_NOTIFICATION_SOURCES, "127.0.0.1"]
    assert push(client, business, {"notificationType": "PING"}, address="127.0.0.1").status_code == 200


def test_a_wrong_secret_is_not_found(client, business):
    business.notification_secret = "x" * 43
    resp = push(client, business, {"notificationType": "PING"})
    assert resp.status_code == 404
    assert Business.objects.get(pk=business.pk).last_notification_at is None


def test_a_wrong_secret_from_outside_is_refused_before_it_is_looked_up(client, business):
    business.notification_secret = "x" * 43
    assert push(client, business, {"notificationType": "PING"}, address="8.8.8.8").status_code == 403


def test_only_post_is_allowed(client, business):
    assert client.get(url(business), REMOTE_ADDR=MARKET_ADDRESS).status_code == 405


def test_it_needs_neither_a_login_nor_a_csrf_token(business):
    strict = Client(enforce_csrf_checks=True)
    assert push(strict, business, {"notificationType": "PING"}).status_code == 200


def test_a_base_url_pasted_with_a_trailing_slash_still_works(client, business):
    doubled = url(business).removesuffix("/notification") + "//notification"
    resp = client.post(doubled, data='{"notificationType": "PING"}', content_type="application/json",
                       REMOTE_ADDR=MARKET_ADDRESS)
    assert resp.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_answers_500_when_the_database_is_unavailable_and_records_the_resent_event(client, market):
    business = market.business
    body = order_event("ORDER_CANCELLED", 50_000_123)
    saved = dict(connection.settings_dict)
    connection.close()
    # The database really is unreachable for this request: a closed port, or a file that cannot be opened.
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
    else:
        connection.settings_dict["NAME"] = "/nonexistent/fulfilment.sqlite3"
    try:
        resp = push(client, business, body)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert resp.status_code == 500
    assert resp.json()["error"]["type"] == "UNKNOWN"
    assert not NotificationEvent.objects.exists()
    # The Market sends it again later: now it is recorded.
    assert push(client, business, body).status_code == 200
    assert NotificationEvent.objects.get().order_market_id == 50_000_123
