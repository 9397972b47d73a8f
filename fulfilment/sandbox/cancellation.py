"""DBS cancellation by the buyer: the request, the shop's answer (acceptOrderCancellation) and the
48 hours after which an unanswered request cancels the order by itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .clock import now_utc
from .protocol import Request, Response, bad
from .state import MarketState

CANCEL_WINDOW = dt.timedelta(hours=48)


def buyer_cancels(order: dict[str, Any]) -> None:
    """The buyer cancels: PROCESSING orders cancel at once; in delivery, the shop decides."""
    if order["status"] == "PROCESSING":
        order.update(status="CANCELLED", substatus="USER_CHANGED_MIND")
    else:
        order["cancelRequested"] = True
        order["_sandbox"]["cancelRequestedAt"] = now_utc().isoformat()


def expire_unanswered(market: MarketState, order: dict[str, Any]) -> bool:
    """A cancellation request not answered within 48 hours cancels the order by itself."""
    asked = order["_sandbox"].get("cancelRequestedAt")
    if (order.get("cancelRequested") and asked and order["status"] in ("DELIVERY", "PICKUP")
            and now_utc() - dt.datetime.fromisoformat(asked) > CANCEL_WINDOW):
        order.update(status="CANCELLED", substatus="USER_CHANGED_MIND", cancelRequested=False)
        market.touch(order)
        return True
    return False


def settle(market: MarketState, order_id: int) -> None:
    """Apply what time has done to the order (an unanswered cancellation), in its own transaction,
    so that a refused request cannot roll it back."""
    with market.store.tx() as conn:
        order = market.store.order(order_id, conn=conn)
        if order is not None and expire_unanswered(market, order):
            market.store.save_order(order, conn=conn)


def accept_cancellation(market: MarketState, req: Request) -> Response:
    """The shop accepts, or rejects with a reason; ORDER_DELIVERED also marks the order delivered (an
    assumption: the documentation is silent on what follows)."""
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("accepted"), bool):
        raise bad("accepted (true or false) is required")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        if market.placement(order) != "DBS":
            raise bad("Cancellation approval is for DBS orders", "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
        if not order.get("cancelRequested") or order["status"] not in ("DELIVERY", "PICKUP"):
            raise bad("The buyer has not asked to cancel this order, or the 48 hours have passed",
                      "ORDER_NOT_WAITING_FOR_CANCELLATION")
        if body["accepted"]:
            order.update(status="CANCELLED", substatus="USER_CHANGED_MIND", cancelRequested=False)
        else:
            if body.get("reason") not in ("ORDER_DELIVERED", "ORDER_IN_DELIVERY"):
                raise bad("A rejection needs reason ORDER_DELIVERED or ORDER_IN_DELIVERY", "REASON_REQUIRED")
            order["cancelRequested"] = False
            order["_sandbox"]["cancelRejected"] = body["reason"]
            if body["reason"] == "ORDER_DELIVERED":
                order.update(status="DELIVERED", substatus="DELIVERY_SERVICE_DELIVERED")
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK"})
