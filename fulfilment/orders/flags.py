"""Why sync flagged an order: stored as a code with its values, put into words when someone reads it.

Sync runs with no reader, and staff read in Russian or English (each their own choice), so words
written at sync time would be in the wrong language for half of them. ``Order.flag_reason`` keeps
one line per flag: a JSON object ``{"flag": code, ...values}``. ``describe()`` translates each line
in the language active for the reader. A line that is not such a code (typed by staff in the
admin, or written before flags were codes) is shown as it is.
"""

from __future__ import annotations

import json

from django.utils.translation import gettext_lazy as _

CANCELLED_WHILE_PACKING = "cancelled_while_packing"
READY_TO_SHIP_ELSEWHERE = "ready_to_ship_elsewhere"
ITEM_REDUCED = "item_reduced"  # sku, count
ITEM_REMOVED = "item_removed"  # sku

TEXTS = {
    CANCELLED_WHILE_PACKING: _("Order cancelled while packing"),
    READY_TO_SHIP_ELSEWHERE: _("Order made ready to ship elsewhere, not from this dashboard"),
    ITEM_REDUCED: _("%(sku)s: item reduced to %(count)s"),
    ITEM_REMOVED: _("%(sku)s: item removed from the order"),
}


def flag(code: str, **values: object) -> str:
    """The stored line for one flag."""
    if code not in TEXTS:
        raise ValueError(f"unknown flag {code!r}")
    return json.dumps({"flag": code, **values}, ensure_ascii=False)


def add(flag_reason: str, line: str) -> str | None:
    """``flag_reason`` with ``line`` added, or None when the order already has that flag."""
    if line in flag_reason.splitlines():
        return None
    return (flag_reason + "\n" + line).strip()


def describe(flag_reason: str) -> list[str]:
    """Each flag of ``flag_reason`` in the active language."""
    return [_describe(line) for line in (s.strip() for s in flag_reason.splitlines()) if line]


def text(flag_reason: str) -> str:
    return "\n".join(describe(flag_reason))


def _describe(line: str) -> str:
    if not line.startswith("{"):
        return line
    try:
        values = json.loads(line)
        return str(TEXTS[values.pop("flag")]) % values
    except (ValueError, KeyError, TypeError, AttributeError):
        return line  # not one of ours: as written
