"""The control plane under ``/_sandbox/...`` for tests and training: health, the requests received,
chaos knobs, settings, reading and editing an order, and a buyer's cancellation. No auth, no limits,
not logged: bind the server to localhost."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from .cancellation import buyer_cancels
from .chaos import ChaosGate
from .protocol import Response
from .render import to_v1
from .state import MarketState


def control(market: MarketState, gate: ChaosGate, method: str, path: str, raw: bytes) -> Response:
    """Answer a ``/_sandbox/...`` request (a 404 in the Market's shape for an unknown one)."""
    store = market.store
    body = json.loads(raw) if raw else {}
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
    m = re.match(r"^/_sandbox/businesses/(\d+)/offers/([^/]+)$", path)
    if m and method == "PUT":  # a catalogue entry replaced whole (barcodes for a training or test case)
        store.save_offer(int(m.group(1)), {**body, "offerId": unquote(m.group(2))})
        return Response(body={"status": "OK"})
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
