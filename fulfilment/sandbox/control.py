"""The control plane under ``/_sandbox/...`` for tests and training: health, the requests received,
chaos knobs, settings, placing a new order, reading and editing an order, a buyer's cancellation,
the Market's clock (an offset for the shipment and report rules), a shipment's status (what the
sorting centre does), the reports' files and the push notifications (each business's URL, a PING,
what was sent and answered). No auth, no limits, not logged: bind the server to localhost."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from urllib.parse import unquote

from .cancellation import buyer_cancels
from .chaos import ChaosGate
from .clock import now_utc
from .events import ping
from .protocol import ApiError, Response
from .render import to_v1
from .reports import report_file
from .return_control import return_control
from .return_files import photo_png
from .seed import CATALOG, DBS_CAMPAIGN_ID, EXPRESS_CAMPAIGN_ID, FBS_CAMPAIGN_ID, Seeder
from .shipment_control import set_shipment_status
from .shipments import to_json
from .state import MarketState
from .store import Store


def control(market: MarketState, gate: ChaosGate, method: str, path: str, raw: bytes) -> Response:
    """Answer a ``/_sandbox/...`` request (a 404 in the Market's shape for an unknown one)."""
    store = market.store
    body = json.loads(raw) if raw else {}
    answer = return_control(market, method, path, body)
    if answer is not None:
        return answer
    m = re.match(r"^/_sandbox/pictures/([^/]+)\.png$", path)
    if m and method == "GET":  # an offer's picture, as the Market's image servers give one: a real PNG
        return Response(body=photo_png("picture:" + unquote(m.group(1)), 160, 120), content_type="image/png",
                        headers={"Cache-Control": "public, max-age=86400"})
    if path == "/_sandbox/health":
        return Response(body={"status": "OK", "orders": store.order_count()})
    if path == "/_sandbox/received" and method == "GET":
        return Response(body={"requests": store.received()})
    if path == "/_sandbox/chaos" and method == "POST":
        for key, value in body.items():
            if hasattr(gate.chaos, key):
                setattr(gate.chaos, key, value)
        gate.forget_burst()
        return Response(body={"status": "OK"})
    if path == "/_sandbox/settings" and method == "POST":
        for key, value in body.items():
            store.set_setting(key, value)
        return Response(body={"status": "OK"})
    if path == "/_sandbox/notifications" and method == "GET":
        return Response(body={"notifications": store.notifications()})
    m = re.match(r"^/_sandbox/businesses/(\d+)/(notification-url|ping)$", path)
    if m and method in ("PUT", "POST"):
        return _notifications(store, int(m.group(1)), m.group(2), body)
    if path == "/_sandbox/orders" and method == "POST":
        return _place(store, body)
    m = re.match(r"^/_sandbox/businesses/(\d+)/offers/([^/]+)$", path)
    if m and method == "PUT":  # a catalogue entry replaced whole (barcodes for a training or test case)
        store.save_offer(int(m.group(1)), {**body, "offerId": unquote(m.group(2))})
        return Response(body={"status": "OK"})
    if path == "/_sandbox/clock":
        return _clock(market, body if method == "POST" else {})
    m = re.match(r"^/_sandbox/reports/([^/]+)/file$", path)
    if m and method == "GET":
        return report_file(market, m.group(1))
    m = re.match(r"^/_sandbox/shipments/(\d+)$", path)
    if m:
        shipment = store.shipment(int(m.group(1)))
        if shipment is None:
            return Response(404, {"status": "ERROR", "errors": [{"code": "SHIPMENT_NOT_FOUND", "message": ""}]})
        if method == "POST":
            try:
                set_shipment_status(market, shipment, body)
            except ApiError as exc:
                return Response(exc.status, {"status": "ERROR", "errors": exc.errors})
        return Response(body={**shipment, "current": to_json(market, shipment, detailed=True)})
    m = re.match(r"^/_sandbox/orders/(\d+)(/buyer-cancel)?$", path)
    if m and method == "GET":
        order = store.order(int(m.group(1)))
        return Response(404, {"status": "ERROR"}) if order is None else Response(body=order)
    if m and method == "POST":
        with store.tx() as conn:
            order = store.order(int(m.group(1)), conn=conn)
            if order is None:
                return Response(404, {"status": "ERROR", "errors": [{"code": "ORDER_NOT_FOUND", "message": ""}]})
            if m.group(2):
                buyer_cancels(order)
            else:
                extra = body.pop("_sandbox", {})
                order.update(body)
                order["_sandbox"].update(extra)
            market.touch(order)
            store.save_order(order, conn=conn)
        return Response(body=to_v1(order))
    return Response(404, {"status": "ERROR", "errors": [{"code": "NOT_FOUND", "message": path}]})


def _clock(market: MarketState, body: dict) -> Response:
    """Move the Market's clock: ``{"at": ISO moment}``, ``{"advanceSeconds": n}`` or
    ``{"offsetSeconds": n}`` (0 puts it back); answers the Market's now and the offset."""
    store = market.store
    if "at" in body:
        moment = dt.datetime.fromisoformat(body["at"])
        store.set_setting("clock_offset", (moment - now_utc()).total_seconds())
    elif "advanceSeconds" in body:
        store.set_setting("clock_offset", float(store.get_setting("clock_offset", 0)) + float(body["advanceSeconds"]))
    elif "offsetSeconds" in body:
        store.set_setting("clock_offset", float(body["offsetSeconds"]))
    return Response(body={"now": market.now().isoformat(), "offsetSeconds": store.get_setting("clock_offset", 0)})


def _refused(code: str, message: str) -> Response:
    return Response(400, {"status": "ERROR", "errors": [{"code": code, "message": message}]})


def _notifications(store: Store, business_id: int, what: str, body: dict) -> Response:
    """PUT .../notification-url ``{"url": base or null}``; POST .../ping queues a PING."""
    if what == "notification-url":
        url = body.get("url") or None
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            return _refused("BAD_REQUEST", f"The notification URL must be http(s): {url!r}")
        store.set_notification_url(business_id, url)
        return Response(body={"status": "OK", "url": store.notification_url(business_id)})
    queued = store.queue_notification(business_id, ping())
    if queued is None:
        return _refused("NO_NOTIFICATION_URL", f"Business {business_id} has no notification URL")
    return Response(body={"status": "OK", "id": queued})


def _place(store: Store, body: dict) -> Response:
    """A buyer places a new order now: ``{"items": [{"offerId", "count"}], "campaignId"}`` (one mug
    in the FBS shop by default); ORDER_CREATED follows as at the Market."""
    items = body.get("items") or [{"offerId": "MUG-001", "count": 1}]
    lines = [(i.get("offerId"), i.get("count", 1)) for i in items if isinstance(i, dict)]
    if len(lines) != len(items) or any(o not in CATALOG or not isinstance(n, int) or n < 1 for o, n in lines):
        return _refused("BAD_REQUEST", f"items must name the sandbox's offers with counts ≥ 1: {items!r}")
    campaign_id = body.get("campaignId") or FBS_CAMPAIGN_ID
    program, delivery = {FBS_CAMPAIGN_ID: ("FBS", "PICKUP"), EXPRESS_CAMPAIGN_ID: ("EXPRESS", "DELIVERY"),
                         DBS_CAMPAIGN_ID: ("DBS", "DELIVERY")}.get(campaign_id, ("", ""))
    if not program:
        return _refused("BAD_REQUEST", f"Campaign {campaign_id!r} is not one of the demo business's")
    order = Seeder(store, random.Random()).order(lines, campaign_id=campaign_id, program=program,
                                                 delivery_type=delivery, created_ago=dt.timedelta(0))
    store.save_orders([order])
    return Response(body=to_v1(order))
