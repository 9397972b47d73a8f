"""Marking codes after they arrive: how an item keeps them, the asynchronous check of Честный ЗНАК
codes and UINs (getOrderIdentifiersStatus: IN_PROGRESS for ``check_delay`` seconds, then OK or
FAILED for the configured ``failing_codes``), and DBS codes sent without a layout."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from . import rules
from .clock import now_utc
from .protocol import ApiError, Request, Response, bad
from .state import MarketState
from .store import Store


def stored_instance(f: str, value: str, inst: dict[str, Any]) -> dict[str, Any]:
    """A code as the item keeps it: a CIS without its crypto tail, the full one in ``cisFull``."""
    entry = {f: value.split(rules.GS)[0] if f == "cis" else value}
    if f == "cis":
        entry["cisFull"] = value
    if inst.get("countryCode"):
        entry["countryCode"] = inst["countryCode"]
    return entry


def _check_settings(store: Store) -> tuple[set[str], float]:
    """The codes (or prefixes) the check rejects, and how long a check runs."""
    failing = set(store.get_setting("failing_codes", []) or [])
    delay = float(store.get_setting("check_delay", 2.0))
    return failing, delay


def _fails(value: str, failing: set[str]) -> bool:
    return any(value == f or value.startswith(f) for f in failing)


def identifiers_status(market: MarketState, req: Request) -> Response:
    """getOrderIdentifiersStatus: each checked CIS and UIN of the order's items."""
    order = market.load(req)
    failing, delay = _check_settings(market.store)
    per_item: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"cis": [], "uin": []})
    for value, check in (order["_sandbox"].get("checks") or {}).items():
        if check["item"] not in {i["id"] for i in order["items"]}:
            continue
        age = (now_utc() - dt.datetime.fromisoformat(check["at"])).total_seconds()
        failed = _fails(value, failing)
        if age < delay:
            entry: dict[str, Any] = {"value": value, "status": "IN_PROGRESS"}
        elif failed:
            entry = {"value": value, "status": "FAILED",
                     "substatus": "CIS_NOT_FOUND_IN_GIS_MT" if check["type"] == "cis" else "UIN_NO_DATA"}
        else:
            entry = {"value": value, "status": "OK"}
        per_item[check["item"]][check["type"]].append(entry)
    items = []
    for item_id, groups in per_item.items():
        dto: dict[str, Any] = {"id": item_id}
        if groups["cis"]:
            dto["cis"] = groups["cis"]
        if groups["uin"]:
            dto["uin"] = groups["uin"]
        items.append(dto)
    return Response(body={"status": "OK", "result": {"items": items}})


def codes_verified(market: MarketState, order: dict[str, Any]) -> tuple[bool, str]:
    """Whether every checked code of the order passed; if not, why (a failed code, or still checking)."""
    failing, delay = _check_settings(market.store)
    for value, check in (order["_sandbox"].get("checks") or {}).items():
        if check["item"] not in {i["id"] for i in order["items"]}:
            continue
        if _fails(value, failing):
            return False, f"Code {value!r} did not pass the check"
        if (now_utc() - dt.datetime.fromisoformat(check["at"])).total_seconds() < delay:
            return False, "Codes are still being checked"
    return True, ""


def provide_identifiers(market: MarketState, req: Request) -> Response:
    """DBS: codes without the layout; accepted as sent, not checked."""
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise bad("items is required")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        if market.placement(order) != "DBS":
            raise bad("This method is for DBS orders; FBS and Express send codes with the box layout",
                      "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
        if order["status"] not in ("PROCESSING", "DELIVERY", "PICKUP"):
            raise bad(f"Codes cannot be sent for an order in status {order['status']}", "STATUS_NOT_ALLOWED")
        items = {i["id"]: i for i in order["items"]}
        errors: list[rules.MarketError] = []
        for entry in body["items"]:
            item = items.get(entry.get("id"))
            if item is None:
                errors.append(rules.MarketError("ITEM_NOT_FOUND", f"Item {entry.get('id')} is not in the order"))
                continue
            insts = entry.get("instances") or []
            if len(insts) > item["count"]:
                errors.append(rules.MarketError("INVALID_INSTANCES",
                                                f"Item {item['id']}: {len(insts)} codes for {item['count']} units"))
            for inst in insts:
                errors.extend(rules.check_instance(inst, item))
        if errors:
            raise ApiError.many(errors)
        for entry in body["items"]:
            item = items[entry["id"]]
            known = []
            for inst in entry["instances"]:
                f = next(k for k in rules.CODE_FIELDS if inst.get(k))
                known.append(stored_instance(f, inst[f], inst))
            item["instances"] = known
        market.touch(order)
        market.store.save_order(order, conn=conn)
    brief = [{"id": i["id"], "count": i["count"], "offerId": i["offerId"], "offerName": i["offerName"],
              **({"instances": i["instances"]} if i.get("instances") else {})} for i in order["items"]]
    return Response(body={"status": "OK", "result": {"items": brief}})
