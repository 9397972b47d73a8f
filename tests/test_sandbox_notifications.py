"""The sandbox Market pushes the notifications the Market does: what it sends for each change (read
back with the dashboard's own parser), delivered in the background with the Market's retry
schedule (time-scaled), and every answer recorded under /_sandbox/notifications."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from fulfilment.market import notifications as mn
from fulfilment.sandbox import seed
from fulfilment.sandbox.notifier import GIVE_UP_AFTER, is_final_refusal, retry_delay

from .worker import wait_for

ROOT = Path(__file__).resolve().parent.parent


class Receiver:
    """A seller's server that answers from a script (then 200) and keeps what it was sent."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict]] = []
        self.delay = 0.0
        self.received: list[tuple[str, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((self.path, body))
                time.sleep(receiver.delay)
                status, answer = receiver.answers.pop(0) if receiver.answers else (200, {"version": "1", "name": "t",
                                                                                        "time": mn.format_time(
                                                                                            dt.datetime.now(dt.UTC))})
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/market/notifications/some-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def control(sandbox, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)


@pytest.fixture
def wired(sandbox, receiver):
    """The sandbox with the demo business's notifications going to ``receiver``."""
    assert control(sandbox, "PUT", f"businesses/{seed.DEMO_BUSINESS_ID}/notification-url",
                   {"url": receiver.url}).json()["url"] == receiver.url
    return sandbox


def sent(sandbox) -> list[dict]:
    return control(sandbox, "GET", "notifications").json()["notifications"]


def settled(sandbox, count: int, timeout: float = 10) -> list[dict]:
    """Wait until ``count`` notifications were queued and none waits for its first attempt."""
    return wait_for(lambda: (n := sent(sandbox)) and len(n) >= count and all(x["attempts"] for x in n) and n,
                    timeout, f"{count} notifications sent")


def test_a_new_order_sends_order_created_to_the_base_url_plus_notification(wired, receiver):
    placed = control(wired, "POST", "orders", {"items": [{"offerId": "MUG-001", "count": 2},
                                                         {"offerId": "TEA-GREEN-100", "count": 1}]}).json()
    [note] = settled(wired, 1)
    event = mn.parse_notification(note["body"])
    assert isinstance(event, mn.OrderCreated)
    assert (event.campaign_id, event.order_id) == (seed.FBS_CAMPAIGN_ID, placed["orderId"])
    assert [(i.offer_id, i.count) for i in event.items] == [("MUG-001", 2), ("TEA-GREEN-100", 1)]
    assert note["state"] == "DELIVERED" and [a["status"] for a in note["answers"]] == [200]
    assert receiver.received == [("/market/notifications/some-secret/notification", note["body"])]


@pytest.mark.parametrize("body", [{"items": [{"offerId": "NO-SUCH", "count": 1}]},
                                  {"items": [{"offerId": "MUG-001", "count": 0}]},
                                  {"items": [{"offerId": "MUG-001", "count": "2"}]},
                                  {"items": ["MUG-001"]}, {"campaignId": 1}])
def test_a_new_order_the_sandbox_cannot_place_is_refused(wired, body):
    resp = control(wired, "POST", "orders", body)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "BAD_REQUEST"
    assert wired.store.order_count() == 0 and sent(wired) == []


def test_a_notification_url_must_be_http(sandbox):
    resp = control(sandbox, "PUT", f"businesses/{seed.DEMO_BUSINESS_ID}/notification-url", {"url": "file:///etc"})
    assert resp.status_code == 400
    assert sandbox.store.notification_url(seed.DEMO_BUSINESS_ID) is None


def test_a_shop_cancellation_through_the_api_sends_the_status_and_the_cancellation(wired):
    order = wired.place([("MUG-001", 1)])
    resp = wired.client().update_order_status(seed.FBS_CAMPAIGN_ID, order["orderId"], "CANCELLED", "SHOP_FAILED")
    assert resp.status == "CANCELLED"
    events = [mn.parse_notification(n["body"]) for n in settled(wired, 3)]
    assert [type(e) for e in events] == [mn.OrderCreated, mn.OrderStatusUpdated, mn.OrderCancelled]
    assert (events[1].status, events[1].substatus) == ("CANCELLED", "SHOP_FAILED")
    assert {e.order_id for e in events} == {order["orderId"]}
    assert events[1].updated_at == events[2].cancelled_at


def test_a_buyer_cancelling_a_processing_order_cancels_it(wired):
    order = wired.place([("MUG-001", 1)])
    assert control(wired, "POST", f"orders/{order['orderId']}/buyer-cancel").status_code == 200
    events = [mn.parse_notification(n["body"]) for n in settled(wired, 3)]
    assert [e.type for e in events] == ["ORDER_CREATED", "ORDER_STATUS_UPDATED", "ORDER_CANCELLED"]
    assert events[1].substatus == "USER_CHANGED_MIND"


def test_a_dbs_buyer_in_delivery_asks_to_cancel_and_the_unanswered_request_expires(wired):
    order = wired.place([("MUG-001", 1)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS",
                        delivery_type="DELIVERY", status="DELIVERY", substatus="DELIVERY_SERVICE_RECEIVED")
    control(wired, "POST", f"orders/{order['orderId']}/buyer-cancel")
    events = [mn.parse_notification(n["body"]) for n in settled(wired, 2)]
    assert isinstance(events[1], mn.OrderCancellationRequest)
    assert events[1].campaign_id == seed.DBS_CAMPAIGN_ID
    # 48 hours without an answer: the order cancels itself when next looked at.
    asked = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)).isoformat()
    control(wired, "POST", f"orders/{order['orderId']}", {"_sandbox": {"cancelRequestedAt": asked}})
    wired.client().get_business_orders(seed.DEMO_BUSINESS_ID)
    events = [mn.parse_notification(n["body"]) for n in settled(wired, 4)]
    assert [e.type for e in events[2:]] == ["ORDER_STATUS_UPDATED", "ORDER_CANCELLED"]
    assert wired.stored(order["orderId"])["status"] == "CANCELLED"


def test_a_status_or_a_date_changed_through_the_control_plane_is_notified(wired):
    order = wired.place([("MUG-001", 1)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS", delivery_type="DELIVERY")
    delivery = control(wired, "GET", f"orders/{order['orderId']}").json()["delivery"]
    delivery["shipment"]["shipmentDate"] = "2030-01-02"
    delivery["dates"] = {"fromDate": "2030-01-03", "toDate": "2030-01-04"}
    control(wired, "POST", f"orders/{order['orderId']}", {"delivery": delivery})
    control(wired, "POST", f"orders/{order['orderId']}", {"status": "DELIVERY", "substatus": "COURIER_SEARCH"})
    events = [mn.parse_notification(n["body"]) for n in settled(wired, 4)]
    assert [(e.type, getattr(e, "update_type", "")) for e in events[1:3]] == [
        ("ORDER_UPDATED", "SHIPMENT_DATE_UPDATED"), ("ORDER_UPDATED", "DELIVERY_DATE_UPDATED")]
    assert isinstance(events[3], mn.OrderStatusUpdated)
    assert (events[3].status, events[3].substatus) == ("DELIVERY", "COURIER_SEARCH")


def test_the_demo_orders_are_announced_when_seeded(wired):
    orders = wired.seeder.demo()
    events = [mn.parse_notification(n["body"]) for n in settled(wired, len(orders))]
    assert {(e.type, e.order_id) for e in events} == {("ORDER_CREATED", o["orderId"]) for o in orders}


def test_a_ping_is_sent_on_demand(wired):
    assert control(wired, "POST", f"businesses/{seed.DEMO_BUSINESS_ID}/ping").status_code == 200
    [note] = settled(wired, 1)
    assert isinstance(mn.parse_notification(note["body"]), mn.Ping)


def test_without_a_url_nothing_is_sent_and_a_ping_is_refused(sandbox):
    sandbox.place([("MUG-001", 1)])
    resp = control(sandbox, "POST", f"businesses/{seed.DEMO_BUSINESS_ID}/ping")
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "NO_NOTIFICATION_URL"
    assert sent(sandbox) == []


def test_historical_load_orders_send_nothing(wired):
    wired.seeder.load(5)
    time.sleep(0.3)
    assert sent(wired) == []


def test_the_api_answers_without_waiting_for_the_delivery(wired, receiver):
    receiver.delay = 2.0
    order = wired.place([("MUG-001", 1)])
    started = time.monotonic()
    wired.client().update_order_status(seed.FBS_CAMPAIGN_ID, order["orderId"], "CANCELLED", "SHOP_FAILED")
    assert time.monotonic() - started < 1.0
    assert len(settled(wired, 3, timeout=20)) == 3


def test_a_failed_delivery_is_retried_every_minute_of_market_time(wired, receiver):
    scale = 0.02  # a minute is 1.2 s
    control(wired, "POST", "settings", {"notify_time_scale": scale})
    receiver.answers = [(500, {"error": {"type": "UNKNOWN", "message": "db down"}}), (503, {})]
    wired.place([("MUG-001", 1)])
    note = wait_for(lambda: (n := sent(wired)) and n[0]["state"] == "DELIVERED" and n[0], 20, "delivered at last")
    assert [a["status"] for a in note["answers"]] == [500, 503, 200]
    times = [dt.datetime.fromisoformat(a["at"]) for a in note["answers"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(60 * scale * 0.9 <= gap < 60 * scale * 2 for gap in gaps), gaps


@pytest.mark.parametrize("kind", ["WRONG_EVENT_FORMAT", "DUPLICATED_EVENT"])
def test_a_refused_event_is_not_sent_again(wired, receiver, kind):
    control(wired, "POST", "settings", {"notify_time_scale": 0.005})  # a minute is 0.3 s
    receiver.answers = [(400, {"error": {"type": kind, "message": "no"}})]
    wired.place([("MUG-001", 1)])
    settled(wired, 1)
    time.sleep(1.5)  # five minutes of Market time
    [note] = sent(wired)
    assert note["state"] == "REFUSED" and [a["status"] for a in note["answers"]] == [400]
    assert len(receiver.received) == 1


def test_a_400_that_is_not_the_documented_refusal_is_retried():
    assert not is_final_refusal(400, "<html>Bad Request</html>")
    assert not is_final_refusal(500, '{"error": {"type": "UNKNOWN"}}')
    assert is_final_refusal(400, '{"error": {"type": "DUPLICATED_EVENT", "message": ""}}')


def test_the_schedule_is_every_minute_then_every_quarter_hour_then_hourly_for_fourteen_days():
    hour, day = 3600, 86400
    assert [retry_delay(t) for t in (0, hour - 1, hour, day - 1, day, GIVE_UP_AFTER - 1)] == [
        60, 60, 900, 900, 3600, 3600]
    assert retry_delay(GIVE_UP_AFTER) is None


def test_it_gives_up_fourteen_days_after_the_first_attempt(sandbox):
    scale = 2.0 / GIVE_UP_AFTER  # fourteen days in two seconds
    control(sandbox, "POST", "settings", {"notify_time_scale": scale})
    control(sandbox, "PUT", f"businesses/{seed.DEMO_BUSINESS_ID}/notification-url", {"url": "http://127.0.0.1:9/x"})
    sandbox.place([("MUG-001", 1)])
    note = wait_for(lambda: (n := sent(sandbox)) and n[0]["state"] == "GAVE_UP" and n[0], 30, "given up")
    times = [dt.datetime.fromisoformat(a["at"]) for a in note["answers"]]
    assert (times[-1] - times[0]).total_seconds() >= 2.0 * 0.95
    assert {a["status"] for a in note["answers"]} == {None}  # nobody listens on port 9
    # 60 a minute apart, 92 a quarter-hour apart, 312 hourly: never more than the schedule allows.
    assert note["attempts"] <= 60 + 92 + 13 * 24 + 2


def test_the_sandbox_knows_nothing_of_the_dashboard():
    code = ("import sys, fulfilment.sandbox.server, fulfilment.sandbox.notifier, fulfilment.sandbox.control\n"
            "print([m for m in sys.modules if m.startswith(('fulfilment.orders', 'fulfilment.packing',"
            " 'fulfilment.notifications'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
