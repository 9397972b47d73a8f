"""updateExternalOrderId: the seller's own order number, once and before READY_TO_SHIP; echoed as
``externalOrderId`` in the order and printed on the act, the assembly list and the labels."""

from __future__ import annotations

from . import shipment_rules as rules
from .protocol import Request, Response, bad
from .state import MarketState


def update_external_id(market: MarketState, req: Request) -> Response:
    """Set the order's externalOrderId (400 the second time or from READY_TO_SHIP on)."""
    value = (req.body or {}).get("externalOrderId")
    with market.store.tx() as conn:
        order = market.load(req, conn=conn)
        refusal = rules.external_id_refusal(order, value)
        if refusal:
            raise bad(refusal, "EXTERNAL_ID_NOT_ACCEPTED")
        order["externalOrderId"] = value.strip()
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK"})
