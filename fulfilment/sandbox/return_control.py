"""The control plane's returns and chats (``/_sandbox/...``), for tests, training and the demo:

- ``POST /_sandbox/orders/<id>/returns`` — the buyer returns a delivered order, or the order goes
  unredeemed: ``{"type", "items": [{"offerId", "count", "reason", "subreason", "comment", "photos"}],
  "recipient"}``; ORDER_RETURN_CREATED follows;
- ``GET /_sandbox/returns/<id>``; ``POST`` it with ``{"shipmentStatus", "pickupTillDate"}`` (the next
  step of its journey) and/or ``{"refundStatus"}``; ORDER_RETURN_STATUS_UPDATED follows;
- ``GET /_sandbox/chats`` — every chat with its messages; ``GET /_sandbox/chat-files/<chat>/<n>`` a file sent.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from . import return_rules as rules
from .events import _time as notification_time  # the notifications' time format, as the orders' events
from .protocol import ApiError, Response
from .return_data import load_chat, load_return, order_returns, save_return
from .returns import notify_status, to_json
from .state import MarketState

_ORDER_RETURNS = re.compile(r"^/_sandbox/orders/(\d+)/returns$")
_RETURN = re.compile(r"^/_sandbox/returns/(\d+)$")
_FILE = re.compile(r"^/_sandbox/chat-files/(\d+)/(\d+)$")


def _error(exc: ApiError) -> Response:
    return Response(exc.status, {"status": "ERROR", "errors": exc.errors})


def return_control(market: MarketState, method: str, path: str, body: dict[str, Any]) -> Response | None:
    """Answer a returns or chats control request; None when the path is not one of them."""
    store = market.store
    if (m := _ORDER_RETURNS.match(path)) and method == "POST":
        try:
            with store.tx() as conn:
                order = store.order(int(m.group(1)), conn=conn)
                if order is None:
                    raise ApiError(404, "ORDER_NOT_FOUND", f"Order {m.group(1)} not found")
                ret = rules.new_return(market, order, order_returns(store, order["orderId"], conn), body)
                if ret["returnType"] == "UNREDEEMED":
                    order.update(status="CANCELLED", substatus="PICKUP_EXPIRED")
                    market.touch(order)
                    store.save_order(order, conn=conn)
                save_return(store, ret, conn)
                store.queue_notification(ret["_sandbox"]["businessId"], {
                    "notificationType": "ORDER_RETURN_CREATED", "campaignId": order["campaignId"],
                    "orderId": order["orderId"], "returnId": ret["id"], "returnType": ret["returnType"],
                    "createdAt": notification_time(ret["_sandbox"]["createdUtc"]),
                    "items": [{"offerId": i["shopSku"], "count": i["count"]} for i in ret["items"]]})
        except ApiError as exc:
            return _error(exc)
        return Response(body=to_json(ret))
    if m := _RETURN.match(path):
        ret = load_return(store, int(m.group(1)))
        if ret is None:
            return _error(ApiError(404, "RETURN_NOT_FOUND", f"Return {m.group(1)} not found"))
        if method == "POST":
            try:
                _change(market, ret, body)
            except ApiError as exc:
                return _error(exc)
        return Response(body={**to_json(ret), "decisionTill": rules.decision_deadline(market, ret).isoformat(),
                              "availableDecisions": rules.available(market, ret)})
    if path == "/_sandbox/chats" and method == "GET":
        rows = store.query("SELECT data FROM chat ORDER BY id")
        return Response(body={"chats": [_without_files(r["data"]) for r in rows]})
    if (m := _FILE.match(path)) and method == "GET":
        chat = load_chat(store, int(m.group(1)))
        stored = (chat or {}).get("_sandbox", {}).get("files", {}).get(m.group(2))
        if stored is None:
            return _error(ApiError(404, "FILE_NOT_FOUND", path))
        return Response(body=base64.b64decode(stored["data"]), content_type=stored["type"])
    return None


def _without_files(data: str) -> dict[str, Any]:
    chat = json.loads(data)
    chat["_sandbox"] = {"businessId": chat["_sandbox"]["businessId"], "files": sorted(chat["_sandbox"]["files"])}
    return chat


def _change(market: MarketState, ret: dict[str, Any], body: dict[str, Any]) -> None:
    statuses: dict[str, str] = {}
    with market.store.tx() as conn:
        if body.get("shipmentStatus"):
            rules.move_shipment(market, ret, str(body["shipmentStatus"]), body.get("pickupTillDate"))
            statuses["shipmentStatus"] = ret["shipmentStatus"]
        if body.get("refundStatus"):
            ret["refundStatus"] = str(body["refundStatus"])
            rules.stamp(ret)
            statuses["refundStatus"] = ret["refundStatus"]
        if statuses:
            save_return(market.store, ret, conn)
            notify_status(market.store, ret, **statuses)
