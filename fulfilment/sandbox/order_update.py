"""updateOrder (seed 003): the recipient's details and the delivery interval; each accepted change
gets an operation id."""

from __future__ import annotations

import re

from .protocol import ApiError, Request, Response, bad
from .state import MarketState

HH_MM = re.compile(r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")


def update_order(market: MarketState, req: Request) -> Response:
    """updateOrder (seed 003): recipient details and delivery interval; returns operation ids."""
    body = req.body
    change = body.get("order") if isinstance(body, dict) else None
    if not isinstance(change, dict) or not change.get("id"):
        raise bad("order.id is required")
    if not change.get("customer") and not change.get("deliveryInterval"):
        raise bad("Send customer or deliveryInterval")
    with market.store.tx() as conn:
        order = market.store.order(int(change["id"]), conn=conn)
        if order is None or order["campaignId"] != req.params["campaignId"]:
            raise ApiError(404, "ORDER_NOT_FOUND", f"Order {change['id']} not found")
        if market.placement(order) != "LAAS":
            # updateOrder is tagged laas only; the Market refuses it for other models with a 400 in
            # the orders' error shape (400Orders: ApiClientDataErrorResponse), as updateOrderItems does.
            raise bad("updateOrder is available only for LaaS orders", "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
        if order["status"] in ("DELIVERED", "CANCELLED"):
            raise bad(f"An order in status {order['status']} cannot be changed", "STATUS_NOT_ALLOWED")
        operations = []
        customer = change.get("customer")
        if customer:
            phone = customer.get("phone", "")
            if not customer.get("firstName") or not customer.get("lastName") or not re.match(r"^\+\d{4,15}$",
                                                                                           phone):
                raise bad("customer needs firstName, lastName and a phone like +79990001122")
            order["_sandbox"]["buyer"] = {**order["_sandbox"].get("buyer", {}), **customer}
            operations.append({"id": f"op-{market.store.next_id('operation', 1)}",
                               "type": "ORDER_RECIPIENT_UPDATE"})
        interval = change.get("deliveryInterval")
        if interval:
            dates = interval.get("deliveryDateInterval") or {}
            times = interval.get("deliveryTimeInterval") or {}
            if not dates.get("fromDate") or not times.get("fromTime"):
                raise bad("deliveryInterval needs deliveryDateInterval and deliveryTimeInterval")
            for key in ("fromTime", "toTime"):
                # TimeIntervalDTO's pattern: HH:MM; the order echoes the interval as it was sent.
                if not HH_MM.match(str(times.get(key) or "")):
                    raise bad(f"deliveryTimeInterval.{key} must be HH:MM, got {times.get(key)!r}")
            order["delivery"]["dates"].update({k: v for k, v in {
                "fromDate": dates.get("fromDate"), "toDate": dates.get("toDate") or dates.get("fromDate"),
                "fromTime": times.get("fromTime"), "toTime": times.get("toTime")}.items() if v})
            operations.append({"id": f"op-{market.store.next_id('operation', 1)}",
                               "type": "ORDER_DELIVERY_INTERVAL_UPDATE"})
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK", "result": {"operations": operations}})
