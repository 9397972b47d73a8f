"""The sandbox Market's rules for returns: which orders can come back and with which units, how a
return travels (CREATED → RECEIVED → IN_TRANSIT → READY_FOR_PICKUP → PICKED, or straight to the
seller's warehouse), which decisions each item allows, and what a submitted decision must say.

Assumptions where the documentation is silent, kept deliberately simple: a buyer's return is for a
DELIVERED order, an unredeemed order is one in DELIVERY or PICKUP (it becomes CANCELLED /
PICKUP_EXPIRED); the seller decides within ``decision_hours`` (72 by default) of the return's
creation, on the Market's clock; a defect claim allows every decision, "does not fit" only a refund
or a refusal; one submission decides every item and cannot be changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from .clock import MSK, now_utc
from .protocol import bad
from .state import MarketState

SHIPMENT_FLOW = {  # shipmentStatus → where it may go next
    "CREATED": ("RECEIVED", "IN_TRANSIT", "CANCELLED", "EXPIRED"),
    "RECEIVED": ("IN_TRANSIT", "LOST", "CANCELLED"),
    "IN_TRANSIT": ("READY_FOR_PICKUP", "PICKED", "LOST"),  # PICKED here: brought to the seller's warehouse
    "READY_FOR_PICKUP": ("PICKED", "NOT_IN_DEMAND", "LOST"),
}
DEFECTS = ("BAD_QUALITY", "WRONG_ITEM", "DAMAGE_DELIVERY", "CONTENT_FAIL", "DELIVERY_FAIL")
EVERY_DECISION = ("REFUND_MONEY", "REFUND_MONEY_INCLUDING_SHIPMENT", "REPAIR", "REPLACE", "SEND_TO_EXAMINATION",
                  "PARTIAL_MONEY_REFUND", "DECLINE_REFUND", "OTHER_DECISION")
DEFECT_REFUSALS = ("ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED", "MECHANICAL_DAMAGE", "WARRANTY_PERIOD_HAS_EXPIRED",
                   "CONFIGURATION_OR_PACKAGING_COMPROMISED", "PRODUCT_APPEARANCE_COMPROMISED",
                   "WARRANTY_TERMS_VIOLATED", "DEVICE_ACTIVATED")
FIT_REFUSALS = ("CONFIGURATION_OR_PACKAGING_COMPROMISED", "PRODUCT_APPEARANCE_COMPROMISED")
COMMENT_REQUIRED = ("REFUND_MONEY_INCLUDING_SHIPMENT", "REPAIR", "DECLINE_REFUND", "OTHER_DECISION")
WAITING = ("PREMODERATION_DECISION_WAITING", "WAITING_FOR_DECISION")
PARTIAL_MAX_PERCENT = 50
PICKUP_POINT = {"id": 10_000_101, "name": "Пункт возврата Маркета на Складочной",
                "address": {"country": "Россия", "city": "Москва", "street": "Складочная улица", "house": "1с1",
                            "postcode": "127018"},
                "instruction": "Вход со двора, окно выдачи возвратов № 3; с паспортом или доверенностью.",
                "type": "PICKUP_POINT", "logisticPartnerId": 1006360}


def stamp(ret: dict[str, Any]) -> None:
    """Mark a change of the return: ``updateDate`` (Moscow time, real time like the orders' stamps)
    and the stored UTC moment the list filters by."""
    moment = now_utc()
    ret["updateDate"] = moment.astimezone(MSK).isoformat(timespec="seconds")
    ret["_sandbox"]["updatedUtc"] = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def photo_hash(return_id: int, item_id: int, n: int) -> str:
    return hashlib.sha256(f"{return_id}:{item_id}:{n}".encode()).hexdigest()[:20]


def shipped_codes(order: dict[str, Any], offer_id: str) -> list[str]:
    """The marking codes (without the crypto tail) the order's item was shipped with."""
    item = next((i for i in order["items"] if i["offerId"] == offer_id), None)
    return [inst["cis"] for inst in (item or {}).get("instances") or () if inst.get("cis")]


def new_return(market: MarketState, order: dict[str, Any], others: list[dict[str, Any]], body: dict[str, Any]
               ) -> dict[str, Any]:
    """A return of ``order`` as ``body`` describes it (``type``, ``items`` with offerId, count, reason,
    subreason, comment, photos; ``recipient``); refused with a clear message when the order cannot."""
    kind = body.get("type") or "RETURN"
    if kind == "RETURN" and order["status"] != "DELIVERED":
        raise bad(f"A buyer returns a delivered order; order {order['orderId']} is {order['status']}")
    if kind == "UNREDEEMED" and order["status"] not in ("DELIVERY", "PICKUP"):
        raise bad(f"Only an order in delivery or at a pickup point goes unredeemed; it is {order['status']}")
    if kind not in ("RETURN", "UNREDEEMED"):
        raise bad("type is RETURN or UNREDEEMED")
    taken: dict[str, int] = {}
    for other in others:
        for item in other["items"]:
            taken[item["shopSku"]] = taken.get(item["shopSku"], 0) + item["count"]
    wanted = body.get("items") or [{"offerId": i["offerId"], "count": i["count"]} for i in order["items"]]
    if kind == "UNREDEEMED":
        wanted = [{"offerId": i["offerId"], "count": i["count"]} for i in order["items"]]
    return_id = market.store.next_id("return", 80_000_001)
    now = market.now()
    items = []
    for want in wanted:
        offer_id, count = want.get("offerId"), want.get("count", 1)
        line = next((i for i in order["items"] if i["offerId"] == offer_id), None)
        if line is None or not isinstance(count, int) or count < 1:
            raise bad(f"items: {offer_id!r} with a count ≥ 1 of the order's items")
        if count > line["count"] - taken.get(offer_id, 0):
            raise bad(f"Only {line['count'] - taken.get(offer_id, 0)} of {offer_id} can still come back")
        codes = shipped_codes(order, offer_id)[taken.get(offer_id, 0):][:count]
        units = [{"status": "CREATED", **({"cis": codes[n]} if n < len(codes) else {})} for n in range(count)]
        item_id = market.store.next_id("return_item", 81_000_001)
        price = Decimal(str(line["prices"]["payment"]["value"])) / line["count"]
        claim: dict[str, Any] = {"returnItemId": item_id, "count": count,
                                 "amount": {"value": float(price * count), "currencyId": "RUR"}}
        if kind == "RETURN":
            claim["reasonType"] = want.get("reason") or "BAD_QUALITY"
            claim["subreasonType"] = want.get("subreason") or "UNKNOWN"
            if want.get("comment"):
                claim["comment"] = str(want["comment"])
            photos = int(want.get("photos", 1))
            if photos:
                claim["images"] = [photo_hash(return_id, item_id, n) for n in range(photos)]
        items.append({"marketSku": 100_000_000 + sum(map(ord, offer_id)), "shopSku": offer_id, "count": count,
                      "decisions": [claim], "instances": units})
    total = sum(Decimal(str(i["decisions"][0]["amount"]["value"])) for i in items)
    ret: dict[str, Any] = {
        "id": return_id, "orderId": order["orderId"], "returnType": kind,
        "creationDate": now.astimezone(MSK).isoformat(timespec="seconds"),
        "shipmentStatus": "CREATED", "shipmentRecipientType": body.get("recipient") or "DELIVERY_SERVICE",
        "logisticPickupPoint": PICKUP_POINT, "amount": {"value": float(total), "currencyId": "RUR"},
        "items": items, "fastReturn": False,
        "_sandbox": {"campaignId": order["campaignId"], "businessId": order["_sandbox"]["businessId"],
                     "createdUtc": now.astimezone(dt.UTC).isoformat()},
    }
    if kind == "RETURN":
        dbs = market.placement(order) == "DBS"
        ret["refundStatus"] = "WAITING_FOR_DECISION" if dbs else "PREMODERATION_DECISION_WAITING"
    stamp(ret)
    return ret


def move_shipment(market: MarketState, ret: dict[str, Any], status: str, pickup_till: str | None = None) -> None:
    """The return's next logistic status (the documented flow only); READY_FOR_PICKUP sets
    ``pickupTillDate`` (``pickup_days`` after now unless given), PICKED hands the units over."""
    current = ret.get("shipmentStatus") or "CREATED"
    if status not in SHIPMENT_FLOW.get(current, ()):
        raise bad(f"A return in {current} cannot move to {status}")
    now = market.now()
    ret["shipmentStatus"] = status
    if status == "READY_FOR_PICKUP":
        days = float(market.store.get_setting("pickup_days", 5))
        till = dt.datetime.fromisoformat(pickup_till) if pickup_till else now + dt.timedelta(days=days)
        ret["pickupTillDate"] = till.astimezone(MSK).isoformat(timespec="seconds")
    else:
        ret.pop("pickupTillDate", None)
    for item in ret["items"]:
        for unit in item["instances"]:
            unit["status"] = status if status != "NOT_IN_DEMAND" else "NOT_IN_DEMAND"
            if status == "PICKED":
                unit["stockType"] = "FIT" if item["decisions"][0].get("reasonType") in (None, "DOES_NOT_FIT") \
                    else "DEFECT"
    stamp(ret)


def decision_deadline(market: MarketState, ret: dict[str, Any]) -> dt.datetime:
    hours = float(market.store.get_setting("decision_hours", 72))
    return dt.datetime.fromisoformat(ret["_sandbox"]["createdUtc"]) + dt.timedelta(hours=hours)


def item_decisions(claim: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The decisions one item's claim allows, each with its refusal reasons (DECLINE_REFUND only)."""
    if claim.get("reasonType") in DEFECTS:
        return {d: DEFECT_REFUSALS if d == "DECLINE_REFUND" else () for d in EVERY_DECISION}
    return {"REFUND_MONEY": (), "DECLINE_REFUND": FIT_REFUSALS}


def awaiting(ret: dict[str, Any]) -> list[dict[str, Any]]:
    """The claims that still wait for the seller's decision."""
    if ret["returnType"] != "RETURN" or ret.get("refundStatus") not in WAITING:
        return []
    return [c for item in ret["items"] for c in item["decisions"] if not c.get("decisionType")]


def available(market: MarketState, ret: dict[str, Any]) -> list[dict[str, Any]]:
    """``ReturnAvailableDecisionDTO`` list: the decisions valid for every waiting item, now."""
    claims = awaiting(ret)
    if not claims or market.now() > decision_deadline(market, ret):
        return []
    allowed = [item_decisions(c) for c in claims]
    out = []
    for decision in EVERY_DECISION:
        if all(decision in a for a in allowed):
            dto: dict[str, Any] = {"decisionType": decision}
            if decision == "DECLINE_REFUND":
                dto["decisionReasonTypes"] = [r for r in DEFECT_REFUSALS if all(r in a[decision] for a in allowed)]
            if decision == "PARTIAL_MONEY_REFUND":
                least = min(Decimal(str(c["amount"]["value"])) for c in claims)
                dto["partialCompensationBounds"] = {
                    "minAmount": {"value": 1, "currencyId": "RUR"},
                    "maxAmount": {"value": float(least * PARTIAL_MAX_PERCENT / 100), "currencyId": "RUR"},
                    "maxPercent": PARTIAL_MAX_PERCENT}
            out.append(dto)
    return out


def decide(market: MarketState, ret: dict[str, Any], decisions: Any) -> None:
    """Apply ``returnItemDecisions`` to the return, or refuse the whole submission with the reason."""
    claims = {c["returnItemId"]: c for c in awaiting(ret)}
    if not claims:
        raise bad(f"Return {ret['id']} waits for no decision", "RETURN_DECISION_NOT_EXPECTED")
    if market.now() > decision_deadline(market, ret):
        raise bad(f"The time to decide on return {ret['id']} has passed", "RETURN_DECISION_EXPIRED")
    refusal = market.store.get_setting("refuse_return_decisions")
    if refusal:  # the control plane's stand-in for a refusal the sandbox has no rule for
        raise bad(str(refusal), "RETURN_DECISION_REFUSED")
    if not isinstance(decisions, list) or not decisions:
        raise bad("returnItemDecisions: at least one decision")
    seen = set()
    for d in decisions:
        item_id = d.get("returnItemId") if isinstance(d, dict) else None
        if item_id not in claims or item_id in seen:
            raise bad(f"returnItemId {item_id!r} is not an item of this return waiting for a decision")
        seen.add(item_id)
        allowed = item_decisions(claims[item_id])
        kind = d.get("decisionType")
        if kind not in allowed:
            raise bad(f"{kind} is not allowed for item {item_id}", "RETURN_DECISION_NOT_ALLOWED")
        if kind == "DECLINE_REFUND" and d.get("decisionReasonType") not in allowed[kind]:
            raise bad(f"A refusal for item {item_id} needs one of: {', '.join(allowed[kind])}")
        if kind in COMMENT_REQUIRED and not (d.get("comment") or "").strip():
            raise bad(f"{kind} for item {item_id} needs a comment")
        if kind == "PARTIAL_MONEY_REFUND":
            value = Decimal(str((d.get("compensation") or {}).get("value", 0)))
            top = Decimal(str(claims[item_id]["amount"]["value"])) * PARTIAL_MAX_PERCENT / 100
            if not 1 <= value <= top:
                raise bad(f"A partial refund for item {item_id} is 1 to {top} RUR")
    if seen != set(claims):
        raise bad("Decide on every item of the return at once: " + ", ".join(str(i) for i in set(claims) - seen))
    for d in decisions:
        claims[d["returnItemId"]]["decisionType"] = d["decisionType"]
    ret["refundStatus"] = "DECISION_MADE" if ret["refundStatus"] == "WAITING_FOR_DECISION" \
        else "PREMODERATION_DECISION_MADE"
    stamp(ret)
