"""The Market's documented rules, as the sandbox enforces them. Pure functions over JSON dicts.

Box layout: seed 001 ("Order preparation", PUT .../boxes). Codes: the ``BriefOrderItemInstanceDTO``
schema. Each check returns ``MarketError`` items shaped like the Market's ``ApiErrorDTO``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fulfilment.codes.formats import COUNTRY_RE, GTD_RE, RNPT_RE, UIN_RE  # the documented formats, one place

# 01 + GTIN-14, 21 + serial; the Market checks the rest against Честный ЗНАК.
CIS_RE = re.compile(r"^01\d{14}21[\x21-\x7e]{1,20}")
GS = "\x1d"
CODE_FIELDS = ("cis", "uin", "rnpt", "gtd")
FIELD_FOR_TYPE = {"CIS": "cis", "CIS_OPTIONAL": "cis", "UIN": "uin", "RNPT": "rnpt", "GTD": "gtd"}


@dataclass(frozen=True)
class MarketError:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _bad(message: str, code: str = "BAD_REQUEST") -> MarketError:
    return MarketError(code, message)


def required_fields(item: dict[str, Any], buyer_type: str) -> set[str]:
    """Code fields a unit of this item must carry.

    Честный ЗНАК codes are optional for individuals and required for business buyers; UIN, RNPT and
    GTD are required whenever the item lists them; CIS_OPTIONAL is never required.
    """
    needed = set()
    for kind in item.get("requiredInstanceTypes") or []:
        if kind == "CIS":
            if buyer_type == "BUSINESS":
                needed.add("cis")
        elif kind in ("UIN", "RNPT", "GTD"):
            needed.add(FIELD_FOR_TYPE[kind])
    return needed


def accepted_fields(item: dict[str, Any]) -> set[str]:
    return {FIELD_FOR_TYPE[k] for k in item.get("requiredInstanceTypes") or [] if k in FIELD_FOR_TYPE}


def check_instance(inst: dict[str, Any], item: dict[str, Any]) -> list[MarketError]:
    """One ``BriefOrderItemInstanceDTO``: exactly one code field, in its documented format."""
    item_id = item["id"]
    present = [f for f in CODE_FIELDS if inst.get(f) not in (None, "")]
    if len(present) != 1:
        return [_bad(f"Item {item_id}: fill exactly one of cis, uin, rnpt, gtd in each instance")]
    field = present[0]
    value = inst[field]
    errors = []
    if field not in accepted_fields(item):
        errors.append(_bad(f"Item {item_id}: {field} codes are not expected for this item"))
    if field == "uin" and not UIN_RE.match(value):
        errors.append(_bad(f"Item {item_id}: UIN must be 16 digits, got {value!r}", "INVALID_UIN"))
    if field == "rnpt" and not RNPT_RE.match(value):
        errors.append(_bad(f"Item {item_id}: RNPT must look like XXXXXXXX/DDMMYY/XXXXXXX/XXX", "INVALID_RNPT"))
    if field == "gtd" and not GTD_RE.match(value):
        errors.append(_bad(f"Item {item_id}: GTD must look like XXXXXXXX/DDMMYY/XXXXXXX", "INVALID_GTD"))
    if field == "cis":
        if "\\u001d" in value or "\\u001D" in value:
            errors.append(_bad(f"Item {item_id}: the GS separator was sent as the text \\u001d", "INVALID_CIS"))
        elif not CIS_RE.match(value):
            errors.append(_bad(f"Item {item_id}: {value!r} is not a Честный ЗНАК code", "INVALID_CIS"))
    country = inst.get("countryCode")
    if country is not None and not COUNTRY_RE.match(country):
        errors.append(_bad(f"Item {item_id}: countryCode must be two capital letters (ISO 3166-1)"))
    return errors


def _code(inst: dict[str, Any]) -> tuple[str, str] | None:
    for f in CODE_FIELDS:
        if inst.get(f):
            return f, inst[f]
    return None


def _item_value(item: dict[str, Any]) -> Decimal:
    payment = ((item.get("prices") or {}).get("payment") or {}).get("value", 0)
    subsidy = ((item.get("prices") or {}).get("subsidy") or {}).get("value", 0)
    return Decimal(str(payment)) + Decimal(str(subsidy))


def removal_errors(order: dict[str, Any], item: dict[str, Any], new_count: int) -> list[MarketError]:
    """Why an item may not be removed or reduced (seed 001, "How to remove an item")."""
    if new_count >= item["count"]:
        return []
    item_id = item["id"]
    if len(order["items"]) == 1:
        return [_bad(f"Item {item_id} is the only item in the order; cancel the order instead",
                     "ITEM_REMOVAL_NOT_ALLOWED")]
    if item.get("_promos"):
        return [_bad(f"Item {item_id} was added by a promotion and cannot be removed", "ITEM_REMOVAL_NOT_ALLOWED")]
    total = sum((_item_value(i) for i in order["items"]), Decimal(0))
    if total > 0 and _item_value(item) >= total * Decimal("0.99"):
        return [_bad(f"Item {item_id} makes up 99% or more of the order value and cannot be removed",
                     "ITEM_REMOVAL_NOT_ALLOWED")]
    return []


def check_box_layout(order: dict[str, Any], body: dict[str, Any]) -> tuple[list[MarketError], dict[int, int]]:
    """Validate a ``SetOrderBoxLayoutRequest`` against the order. Returns errors and the new unit
    count of every item (smaller than before only where ``allowRemove`` permits it)."""
    errors: list[MarketError] = []
    boxes = body.get("boxes") or []
    allow_remove = bool(body.get("allowRemove"))
    items = {i["id"]: i for i in order["items"]}
    buyer_type = order.get("buyerType") or "PERSON"
    if not boxes:
        return [_bad("boxes must list at least one box")], {}

    whole: Counter[int] = Counter()
    # parts[item][total] -> list of (current, code or None)
    parts: dict[int, dict[int, list[tuple[int, tuple[str, str] | None]]]] = defaultdict(lambda: defaultdict(list))
    codes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for n, box in enumerate(boxes, start=1):
        lines = box.get("items") or []
        if not lines:
            errors.append(_bad(f"Box {n} is empty"))
            continue
        has_part = any(line.get("partialCount") for line in lines)
        if has_part and len(lines) > 1:
            errors.append(_bad(f"Box {n}: a box with a part of an item holds nothing else", "INVALID_BOX_LAYOUT"))
        for line in lines:
            item = items.get(line.get("id"))
            if item is None:
                errors.append(_bad(f"Box {n}: item {line.get('id')} is not in the order", "ITEM_NOT_FOUND"))
                continue
            full, part = line.get("fullCount"), line.get("partialCount")
            if (full is None) == (part is None):
                errors.append(_bad(f"Box {n}, item {item['id']}: give either fullCount or partialCount",
                                   "INVALID_BOX_LAYOUT"))
                continue
            instances = line.get("instances") or []
            for inst in instances:
                errors.extend(check_instance(inst, item))
            line_codes = [c for c in (_code(i) for i in instances) if c]
            if full is not None:
                if full < 1:
                    errors.append(_bad(f"Box {n}, item {item['id']}: fullCount must be at least 1"))
                    continue
                whole[item["id"]] += full
                if len(instances) > full:
                    errors.append(_bad(f"Box {n}, item {item['id']}: {len(instances)} codes for {full} units",
                                       "INVALID_INSTANCES"))
                codes[item["id"]].extend(line_codes)
            else:
                cur, tot = part.get("current"), part.get("total")
                if not (isinstance(cur, int) and isinstance(tot, int) and tot >= 2 and 1 <= cur <= tot):
                    errors.append(_bad(f"Box {n}, item {item['id']}: partialCount needs 1 ≤ current ≤ total "
                                       "and total ≥ 2", "INVALID_BOX_LAYOUT"))
                    continue
                if len(instances) > 1:
                    errors.append(_bad(f"Box {n}, item {item['id']}: a part carries the one code of its unit",
                                       "INVALID_INSTANCES"))
                parts[item["id"]][tot].append((cur, line_codes[0] if line_codes else None))
    if errors:
        return errors, {}

    new_counts: dict[int, int] = {}
    for item_id, item in items.items():
        split_units = 0
        for tot, seen in parts[item_id].items():
            per_current = Counter(cur for cur, _ in seen)
            k = per_current.get(1, 0)
            if any(per_current.get(c, 0) != k for c in range(1, tot + 1)):
                errors.append(_bad(f"Item {item_id}: each of parts 1..{tot} must appear once for every unit split "
                                   f"in {tot} parts", "INVALID_BOX_LAYOUT"))
                continue
            split_units += k
            # A split unit carries the same code in each of its boxes.
            by_code: dict[tuple[str, str], list[int]] = defaultdict(list)
            for cur, code in seen:
                if code:
                    by_code[code].append(cur)
            for code, currents in by_code.items():
                if sorted(currents) != list(range(1, tot + 1)):
                    errors.append(_bad(f"Item {item_id}: code {code[1]!r} must be in every part 1..{tot} of its "
                                       "unit, once", "INVALID_INSTANCES"))
                codes[item_id].append(code)
            coded_parts = sum(1 for _, code in seen if code)
            if coded_parts and coded_parts != len(seen):
                errors.append(_bad(f"Item {item_id}: every part of a split unit carries its unit's code",
                                   "INVALID_INSTANCES"))
        units = whole[item_id] + split_units
        if units > item["count"]:
            errors.append(_bad(f"Item {item_id}: {units} units in boxes but {item['count']} ordered; "
                               "an order cannot be increased", "INVALID_BOX_LAYOUT"))
            continue
        if units < item["count"]:
            if not allow_remove:
                errors.append(_bad(f"Item {item_id}: {units} of {item['count']} units are in boxes; put all units "
                                   "in boxes or send allowRemove to remove some", "INVALID_BOX_LAYOUT"))
                continue
            errors.extend(removal_errors(order, item, units))
        new_counts[item_id] = units
        if units == 0:
            continue
        unique_codes = set(codes[item_id])
        if len(unique_codes) != len(codes[item_id]):
            dup = next(c for c, n in Counter(codes[item_id]).items() if n > 1)
            errors.append(_bad(f"Item {item_id}: code {dup[1]!r} is given to more than one unit", "INVALID_INSTANCES"))
        for field in required_fields(item, buyer_type):
            have = sum(1 for f, _ in unique_codes if f == field)
            if have != units:
                errors.append(_bad(f"Item {item_id}: {units} units need {units} {field} codes, got {have}",
                                   "MISSING_INSTANCES"))
    all_codes = [c for lst in codes.values() for c in set(lst)]
    dups = [c for c, n in Counter(all_codes).items() if n > 1]
    if dups:
        errors.append(_bad(f"Code {dups[0][1]!r} is used for more than one item", "INVALID_INSTANCES"))
    if not errors and all(v == 0 for v in new_counts.values()):
        errors.append(_bad("An order cannot lose all its items; cancel it instead", "ITEM_REMOVAL_NOT_ALLOWED"))
    return errors, new_counts
