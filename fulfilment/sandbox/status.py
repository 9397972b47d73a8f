"""The status machine: which changes a shop may make (updateOrderStatus, updateOrderStatuses) and
what READY_TO_SHIP needs. Assumption where the documentation is silent: READY_TO_SHIP while codes
are still being checked is a 400."""

from __future__ import annotations

from typing import Any

from fulfilment.market.limits import MAX_STATUS_UPDATES

from . import rules
from .identifiers import codes_verified
from .protocol import Request, Response, bad
from .render import to_v2
from .state import MarketState


def require_processing(order: dict[str, Any], what: str) -> None:
    """Packing changes (layout, items) only while the order is being packed."""
    if order["status"] != "PROCESSING" or order["substatus"] not in ("STARTED", "PACKAGING"):
        raise bad(f"{what} is possible only while the order is PROCESSING/STARTED; it is "
                  f"{order['status']}/{order['substatus']}", "STATUS_NOT_ALLOWED")


def transition(market: MarketState, order: dict[str, Any], status: str, substatus: str | None) -> str | None:
    """Apply a status change; returns an error message or None."""
    placement = market.placement(order)
    cur = (order["status"], order["substatus"])
    if status == "CANCELLED":
        if substatus != "SHOP_FAILED":
            return "A shop cancels with substatus SHOP_FAILED"
        if cur[0] not in ("PROCESSING", "UNPAID", "PENDING") and not (placement == "DBS" and cur[0] == "DELIVERY"):
            return f"An order in status {cur[0]} cannot be cancelled by the shop"
    elif status == "PROCESSING" and substatus == "READY_TO_SHIP":
        if cur != ("PROCESSING", "STARTED") and cur != ("PROCESSING", "PACKAGING"):
            return f"READY_TO_SHIP is possible from PROCESSING/STARTED, not {cur[0]}/{cur[1]}"
        if placement != "DBS":
            if not order["delivery"].get("boxesLayout"):
                return "Send the box layout (PUT .../boxes) before READY_TO_SHIP"
            ok, why = codes_verified(market, order)
            if not ok:
                return why
            for item in order["items"]:
                need = rules.required_fields(item, order.get("buyerType") or "PERSON")
                have = {f for inst in item.get("instances") or [] for f in rules.CODE_FIELDS if inst.get(f)}
                if need - have:
                    return f"Item {item['id']} is missing its codes"
    elif status == "PROCESSING" and substatus == "SHIPPED":
        if cur != ("PROCESSING", "READY_TO_SHIP"):
            return "SHIPPED follows READY_TO_SHIP"
    elif placement == "DBS" and status in ("DELIVERY", "PICKUP", "DELIVERED"):
        allowed = {"DELIVERY": ("PROCESSING",), "PICKUP": ("DELIVERY",), "DELIVERED": ("DELIVERY", "PICKUP")}
        if cur[0] not in allowed[status]:
            return f"{status} cannot follow {cur[0]}"
        substatus = substatus or ""
    else:
        return f"Changing the status to {status}/{substatus} is not allowed here"
    order["status"], order["substatus"] = status, substatus or order["substatus"]
    if status == "CANCELLED":
        order["cancelRequested"] = False
    market.touch(order)
    return None


def update_status(market: MarketState, req: Request) -> Response:
    """updateOrderStatus: one order's change, or a 400 saying why not."""
    body = req.body
    change = body.get("order") if isinstance(body, dict) else None
    if not isinstance(change, dict) or not change.get("status"):
        raise bad("order.status is required")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        error = transition(market, order, change["status"], change.get("substatus"))
        if error:
            raise bad(error, "STATUS_NOT_ALLOWED")
        market.store.save_order(order, conn=conn)
    return Response(body={"order": to_v2(order)})


def update_order_statuses(market: MarketState, req: Request) -> Response:
    """Up to 30 orders, each in its own transaction: one refusal does not undo the others."""
    body = req.body
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list) or not orders:
        raise bad("orders is required")
    if len(orders) > MAX_STATUS_UPDATES:
        raise bad(f"At most {MAX_STATUS_UPDATES} orders per request", "TOO_MANY_ORDERS")
    results = []
    for change in orders:
        entry: dict[str, Any] = {"id": change.get("id")}
        with market.store.tx() as conn:
            order = market.store.order(int(change.get("id") or 0), conn=conn)
            if order is None or order["campaignId"] != req.params["campaignId"]:
                entry.update(updateStatus="ERROR", errorDetails="Order not found")
            else:
                error = transition(market, order, change.get("status", ""), change.get("substatus"))
                if error:
                    entry.update(updateStatus="ERROR", errorDetails=error, status=order["status"],
                                 substatus=order["substatus"])
                else:
                    market.store.save_order(order, conn=conn)
                    entry.update(updateStatus="OK", status=order["status"], substatus=order["substatus"])
        results.append(entry)
    return Response(body={"status": "OK", "result": {"orders": results}})
