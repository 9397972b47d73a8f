"""What the sorting centre (or a trainer) does to a shipment through the control plane: move its
status, say what was accepted, change its cutoff or how it ships."""

from __future__ import annotations

from typing import Any

from . import shipment_rules as rules
from .acts import ready_orders
from .protocol import bad
from .state import MarketState


def set_shipment_status(market: MarketState, shipment: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply ``{"status", "missingOrderIds", "palletsFact", "cutoff", "type"}`` (each optional).

    ACCEPTED takes every ready order; ACCEPTED_WITH_DISCREPANCIES all but ``missingOrderIds`` (the
    last ready order when none are named); FINISHED keeps what was accepted."""
    status = body.get("status")
    if status is not None and status not in rules.STATUSES:
        raise bad(f"status must be one of {', '.join(rules.STATUSES)}")
    if "cutoff" in body:
        rules.at(market.now().date(), body["cutoff"])  # refuses a malformed HH:MM
        shipment["cutoff"] = body["cutoff"]
    if body.get("type") in ("IMPORT", "WITHDRAW"):
        shipment["type"] = body["type"]
    if "palletsFact" in body:
        shipment["palletsFact"] = int(body["palletsFact"])
    if status in (rules.ACCEPTED, rules.DISCREPANCIES) or (status == rules.FINISHED
                                                           and shipment.get("acceptedOrderIds") is None):
        ready = [o["orderId"] for o in ready_orders(market, shipment)]
        missing = set(body.get("missingOrderIds") or ())
        if status == rules.DISCREPANCIES and not missing and ready:
            missing = {ready[-1]}
        shipment["acceptedOrderIds"] = [i for i in ready if i not in missing]
        shipment["factCount"] = len(shipment["acceptedOrderIds"])
        shipment["discrepancies"] = shipment.get("discrepancies") or bool(missing)
    if status is not None:
        shipment["status"] = status
        shipment["statusUpdateTime"] = market.now().isoformat()
    market.store.save_shipment(shipment)
