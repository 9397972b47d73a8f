"""DBS orders (the shop delivers): removing or reducing items (updateOrderItems) and cargo places
(setOrderShipmentBoxes). Codes are in ``identifiers``, cancellation in ``cancellation``."""

from __future__ import annotations

from typing import Any

from . import rules
from .protocol import ApiError, Request, Response, bad
from .state import MarketState
from .status import require_processing


def update_items(market: MarketState, req: Request) -> Response:
    """DBS: remove an item or reduce its count (never increase)."""
    body = req.body
    if not isinstance(body, dict) or not body.get("items"):
        raise bad("items is required")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        if market.placement(order) != "DBS":
            raise bad("Use the box layout with allowRemove for FBS and Express", "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
        require_processing(order, "Changing the items")
        items = {i["id"]: i for i in order["items"]}
        sent = {e.get("id"): e for e in body["items"]}
        errors: list[rules.MarketError] = []
        for item_id, item in items.items():
            entry = sent.get(item_id)
            new = item["count"] if entry is None else entry.get("count")
            if not isinstance(new, int) or new < 0:
                errors.append(rules.MarketError("BAD_REQUEST", f"Item {item_id}: count must be 0 or more"))
            elif new > item["count"]:
                errors.append(rules.MarketError("BAD_REQUEST",
                                                f"Item {item_id}: the count cannot be increased"))
            else:
                errors.extend(rules.removal_errors(order, item, new))
        for item_id in sent:
            if item_id not in items:
                errors.append(rules.MarketError("ITEM_NOT_FOUND", f"Item {item_id} is not in the order"))
        if errors:
            raise ApiError.many(errors)
        kept = []
        for item in order["items"]:
            new = sent.get(item["id"], {}).get("count", item["count"])
            if new > 0:
                kept.append(dict(item, count=new))
        if not kept:
            raise bad("An order cannot lose all its items; cancel it instead", "ITEM_REMOVAL_NOT_ALLOWED")
        order["items"] = kept
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body=None, content_type="application/json")


def set_shipment_boxes(market: MarketState, req: Request) -> Response:
    """DBS cargo places: the count is the length of ``boxes`` (deprecated, off 2027-04-05)."""
    body = req.body
    boxes = body.get("boxes") if isinstance(body, dict) else None
    if not isinstance(boxes, list) or not boxes:
        raise bad("boxes must list at least one cargo place")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        shipment = order["delivery"].get("shipment") or {}
        if shipment.get("id") != req.params["shipmentId"]:
            raise ApiError(404, "SHIPMENT_NOT_FOUND", f"Shipment {req.params['shipmentId']} not found")
        if order["status"] != "PROCESSING":
            raise bad("Cargo places can be changed only while the order is PROCESSING", "STATUS_NOT_ALLOWED")
        result = []
        for box in boxes:
            # fulfilmentId is echoed only when sent: the spec's pattern for it (^[[a-zA-Z0-9]- ]*$)
            # is malformed and matches no real box id, so the sandbox does not invent one.
            entry: dict[str, Any] = {"id": market.store.next_id("parcel", 700_000_000)}
            if (box or {}).get("fulfilmentId"):
                entry["fulfilmentId"] = box["fulfilmentId"]
            result.append(entry)
        order["_sandbox"]["cargoPlaces"] = result
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK", "result": {"boxes": result}})
