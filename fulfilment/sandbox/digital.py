"""Digital goods: the keys (provideOrderDigitalCodes), due within 30 minutes of PROCESSING; sending
them delivers the order."""

from __future__ import annotations

import datetime as dt

from .clock import now_utc
from .protocol import Request, Response, bad
from .state import MarketState

DIGITAL_WINDOW = dt.timedelta(minutes=30)


def digital_codes(market: MarketState, req: Request) -> Response:
    """provideOrderDigitalCodes: every item's keys at once, in time; the order is then delivered."""
    body = req.body
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise bad("items is required")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        if order["delivery"]["type"] != "DIGITAL":
            raise bad("The order has no digital goods", "NOT_DIGITAL")
        if order["status"] != "PROCESSING":
            raise bad(f"Keys can be sent only for a PROCESSING order, not {order['status']}", "STATUS_NOT_ALLOWED")
        since = dt.datetime.fromisoformat(order["_sandbox"].get("processingAt") or order["creationDate"])
        if now_utc() - since > DIGITAL_WINDOW:
            raise bad("Keys must be sent within 30 minutes of the order reaching PROCESSING", "DEADLINE_PASSED")
        by_id = {i["id"]: i for i in order["items"]}
        for entry in items:
            item = by_id.get(entry.get("id"))
            if item is None:
                raise bad(f"Item {entry.get('id')} is not in the order", "ITEM_NOT_FOUND")
            for key in ("slip", "activate_till"):
                if not entry.get(key):
                    raise bad(f"Item {item['id']}: {key} is required")
            codes = entry.get("codes") or []
            if len(codes) != item["count"]:
                raise bad(f"Item {item['id']}: {item['count']} keys needed, got {len(codes)}", "INVALID_CODES")
        missing = set(by_id) - {e["id"] for e in items}
        if missing:
            raise bad(f"Keys for items {sorted(missing)} are missing", "INVALID_CODES")
        order["_sandbox"]["digitalCodes"] = items
        order.update(status="DELIVERED", substatus="DELIVERY_SERVICE_DELIVERED")
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK"})
