"""Words for what the dashboard keeps as codes: statuses, code kinds, label formats, and each
audit event of an order's history as one sentence (never the raw event name or its details as data).
One place, so every screen says the same thing in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _, gettext_lazy

from fulfilment.codes.cis import DEFAULT_SUBSTITUTES, GS, normalise
from fulfilment.orders.models import AuditEvent, OrderStatus, OrderSubstatus, OutboxAction, Problem
from fulfilment.orders.models.vocabulary import InstanceType

from .substatuses import SUBSTATUSES

LABEL_FORMATS = {
    "A7": gettext_lazy("A7 sheet (74×105 mm)"),
    "A9": gettext_lazy("A9 label, upright (37×52 mm)"),
    "A9_HORIZONTALLY": gettext_lazy("A9 label, landscape (52×37 mm)"),
    "A4": gettext_lazy("A4 sheet"),
}

# ``OrderStatsStatusType``: the statistics' own statuses (the order report).
STATS_STATUSES = {
    "CANCELLED_BEFORE_PROCESSING": gettext_lazy("Cancelled before processing"),
    "CANCELLED_IN_PROCESSING": gettext_lazy("Cancelled while processing"),
    "CANCELLED_IN_DELIVERY": gettext_lazy("Cancelled in delivery"),
    "PARTIALLY_DELIVERED": gettext_lazy("Partially delivered"),
    "LOST": gettext_lazy("Lost"),
}

# What a packer's button or command did (``kernel.attempt`` records it as ``pack.<action>``).
PACK_ACTIONS = {
    "new_box": gettext_lazy("New box"), "set_current": gettext_lazy("Box chosen"),
    "delete_box": gettext_lazy("Box deleted"), "delete_code": gettext_lazy("Code deleted"),
    "finish": gettext_lazy("Finished packing"), "ready": gettext_lazy("Ready to ship"),
    "problem": gettext_lazy("Problem reported"), "set_country": gettext_lazy("Country of origin set"),
    "move": gettext_lazy("Unit moved to another box"), "remove_unit": gettext_lazy("Unit taken out"),
    "split": gettext_lazy("Item split across boxes"), "unsplit": gettext_lazy("Split undone"),
}

EVENTS = {
    "scan": gettext_lazy("Scan %(code)s"),
    "scan.refused": gettext_lazy("Scan %(code)s refused"),
    "scan.item_chosen": gettext_lazy("Scan %(code)s: item chosen by hand"),
    "labels.printed": gettext_lazy("Labels printed"),
    "outbox.delivered": gettext_lazy("The Market accepted: %(kind)s"),
    "outbox.failed": gettext_lazy("The Market refused: %(errors)s"),
    "outbox.superseded": gettext_lazy("An older change was replaced by a newer one"),
    "outbox.retry": gettext_lazy("Sent to the Market again"),
    "outbox.bulk_status": gettext_lazy("Ready to ship (several orders at once)"),
    "flagged": gettext_lazy("Flagged: %(reason)s"),
    "codes.rejected": gettext_lazy("The Market rejected codes: %(codes)s"),
    "cancellation.accept": gettext_lazy("Cancellation request accepted"),
    "cancellation.reject": gettext_lazy("Cancellation request rejected: %(reason)s"),
    "item.remove": gettext_lazy("Item %(sku)s removed from the order"),
    "item.reduce": gettext_lazy("Item %(sku)s reduced from %(from)s to %(to)s"),
    "item.removed": gettext_lazy("The Market removed or reduced an item (now %(count)s)"),
    "order.cancel": gettext_lazy("Order cancelled by the shop"),
    "order.ready.bulk": gettext_lazy("Marked ready to ship from the supervisor's screen"),
    "problem.resolved": gettext_lazy("Problem resolved: %(problem)s"),
    "digital.codes": gettext_lazy("Digital goods keys sent"),
    "order.update": gettext_lazy("Recipient or delivery interval changed"),
}
SENT = gettext_lazy("Sent to the Market: %(kind)s")
# What the Market did or told (written by the sync and the outbox with no user): said to be the Market's.
MARKET_EVENTS = frozenset({"flagged", "item.removed", "order.update", "codes.rejected", "outbox.delivered",
                           "outbox.failed", "outbox.cancelled"})
GS_SHOWN = "␝"  # the group separator as a visible symbol (the training sheet shows it so too)
SHORT_CODE = 40
_CIS = re.compile(r"^01(\d{14})21([^\x1d]{1,20})")


# Value -> lazy label, built once: ``Choices.values`` lists every member (and its label) at each
# call, which made a queue row's status cost more than the rest of the row (issue 17).
_STATUS_WORDS = {**dict(OrderSubstatus.choices), **dict(OrderStatus.choices)}


def status_text(value: str) -> str:
    """A status or substatus in words; a value the dashboard does not know stays as the Market said it."""
    label = _STATUS_WORDS.get(value)
    if label is not None:
        return str(label)
    return str(SUBSTATUSES.get(value) or STATS_STATUSES.get(value, value or "—"))


def substatus_text(value: str) -> str:
    """A substatus in lower-case words, whatever the case it was stored in; "" for one the dashboard has
    no words for (the status alone is said then, not a code)."""
    key = (value or "").strip().upper()
    label = SUBSTATUSES.get(key) or _STATUS_WORDS.get(key)
    if label is None:
        return ""
    text = str(label)
    return text[:1].lower() + text[1:]


def kinds_text(values: Iterable[str]) -> str:
    """The codes an item needs, in words."""
    return ", ".join(str(InstanceType(v).label) if v in InstanceType.values else v for v in values)


def label_format_text(value: str) -> str:
    return str(LABEL_FORMATS.get(value, value))


class _Values(dict):
    """Missing details read as a dash, lists as a comma-separated list."""

    def __missing__(self, key: str) -> str:
        return "—"

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v.get("code", v) if isinstance(v, dict) else v) for v in value) or "—"
        return "—" if value in (None, "") else value


def code_text(value: str, full: bool = False) -> str:
    """A scanned code as read in a history: GS as a visible symbol; a long Честный ЗНАК code as its
    GTIN and serial, the crypto tail elided (``full``: all of it, for the hover title)."""
    text = normalise(value, DEFAULT_SUBSTITUTES) if value.startswith("01") else value
    m = _CIS.match(text)
    if not full and len(text) > SHORT_CODE:
        text = f"01 {m.group(1)} 21 {m.group(2)} …" if m else text[:SHORT_CODE - 8] + "…"
    return text.replace(GS, GS_SHOWN)


def event_who(event: AuditEvent) -> str:
    """Who did it: the user; the Market for what it did or told; else the dashboard by itself."""
    if event.user_id is not None:
        return event.user.get_username()
    return _("Market") if event.action in MARKET_EVENTS else _("the dashboard")


def event_text(event: AuditEvent, full: bool = False) -> str:
    """One event of the history as a sentence, with the answer the packer saw where there was one;
    codes shortened (``full``: in full, for the hover title)."""
    action, payload = event.action, event.payload if isinstance(event.payload, dict) else {}
    values = _Values(payload)
    if isinstance(payload.get("code"), str) and payload["code"]:
        values["code"] = code_text(payload["code"], full)
    if action == "codes.rejected" and isinstance(payload.get("codes"), list):
        values["codes"] = ", ".join(code_text(str(v.get("code", v) if isinstance(v, dict) else v), full)
                                    for v in payload["codes"]) or "—"
    if action.startswith("pack."):
        text = str(PACK_ACTIONS.get(action[5:], _("Packing action")))
    elif action.startswith("outbox.") and action not in EVENTS:
        text = SENT % {"kind": _kind(action[7:].upper())}
    elif action in EVENTS:
        if action == "outbox.delivered":
            values["kind"] = _kind(str(payload.get("kind", "")))
        if action == "problem.resolved":
            values["problem"] = str(Problem(payload["problem"]).label) if payload.get("problem") in Problem.values \
                else values["problem"]
        text = str(EVENTS[action]) % values
    else:
        text = _("Other event")
    result = payload.get("result")
    return f"{text}: {result}" if isinstance(result, str) and result and action != "flagged" else text


def _kind(value: str) -> str:
    kinds = OutboxAction.Kind
    return str(kinds(value).label) if value in kinds.values else _("a change")
