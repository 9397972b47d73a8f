"""The first-mile shipment rules of the sandbox Market, as plain functions of a stored shipment,
its orders and the Market's "now" (``MarketState.now``, which the control plane can move).

Documented (shipments section of the spec): statuses OUTBOUND_CREATED → OUTBOUND_READY_FOR_CONFIRMATION
→ OUTBOUND_CONFIRMED → OUTBOUND_SIGNED → ACCEPTED / ACCEPTED_WITH_DISCREPANCIES → FINISHED (ERROR
aside); confirmation only after the shipment is formed, else 400 "Cutoff time for shipments has not
been reached yet"; transfer only while more than 30 minutes are left before it is formed, at most
500 orders; the act only for a confirmed shipment; the waybill only when the Market collects
(WITHDRAW); the inbound act only after the end; the act lists the collected, ready orders.

Assumptions where the documentation is silent (the one place they are written down):
- A campaign (FBS placement) has one warehouse and one shipment a day; a shipment holds its
  FBS-program orders of that shipment date (Express, DBS and digital orders have none). Ids come
  from their own sequence, unrelated to the order's ``delivery.shipment.id``.
- The shipment is formed at the cutoff, ``shipment_cutoff`` (default 10:00 Moscow time) of its date;
  at that moment OUTBOUND_CREATED becomes OUTBOUND_READY_FOR_CONFIRMATION by itself. The plan
  interval (hand-over) starts two hours after the cutoff and lasts two hours, unless
  ``shipment_interval`` (["HH:MM", "HH:MM"] of the same date) says otherwise.
- ``draftCount`` counts the shipment's orders that are not cancelled, ``plannedCount`` those of them
  READY_TO_SHIP or later, ``factCount`` what the sorting centre accepted (0 until then).
- confirmShipment with ``signatory`` signs the act at once (OUTBOUND_SIGNED); without, OUTBOUND_CONFIRMED.
  Acceptance and the end (ACCEPTED…, FINISHED) happen only through the control plane.
- A transfer moves the orders at once (the Market takes minutes) to the next day's shipment and
  changes their ``shipmentDate``; only orders of a shipment that is not formed yet, not cancelled.
- availableActions: CHANGE_PALLETS_COUNT until confirmed (OUTBOUND_CONFIRMED included); CONFIRM
  when formed; DOWNLOAD_ACT from confirmation on; DOWNLOAD_INBOUND_ACT when FINISHED;
  DOWNLOAD_DISCREPANCY_ACT after an acceptance with discrepancies; DOWNLOAD_TRANSPORTATION_WAYBILL
  from confirmation on for WITHDRAW shipments (``shipment_type:<campaignId>``, default IMPORT).
- Pallet labels need a pallets count above zero. Each box weighs 1 kg (the labels data say so too).
- An external order id may be any non-empty text (the Market accepts it; only its barcode needs
  ASCII: otherwise labels show the Market's order id in that barcode, as documented).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .clock import MSK

CREATED = "OUTBOUND_CREATED"
READY = "OUTBOUND_READY_FOR_CONFIRMATION"
CONFIRMED = "OUTBOUND_CONFIRMED"
SIGNED = "OUTBOUND_SIGNED"
ACCEPTED = "ACCEPTED"
DISCREPANCIES = "ACCEPTED_WITH_DISCREPANCIES"
FINISHED = "FINISHED"
ERROR = "ERROR"
STATUSES = (CREATED, READY, CONFIRMED, SIGNED, ACCEPTED, DISCREPANCIES, FINISHED, ERROR)
DESCRIPTIONS = {CREATED: "Формируется", READY: "Можно обрабатывать", CONFIRMED: "Подтверждена и готова к отправке",
                SIGNED: "Подписан электронный акт приема-передачи", ACCEPTED: "Принята",
                DISCREPANCIES: "Принята с расхождениями", FINISHED: "Завершена", ERROR: "Отменена из-за ошибки"}
CUTOFF_NOT_REACHED = "Cutoff time for shipments has not been reached yet"
NO_CLOSEST_SHIPMENT = "Closest shipment for reception transfer act generation not found."
TRANSFER_MARGIN = dt.timedelta(minutes=30)
MAX_TRANSFER = 500
BOX_WEIGHT_KG = Decimal("1.0")
DEFAULT_CUTOFF = "10:00"
HANDOVER_DELAY = dt.timedelta(hours=2)
HANDOVER_LENGTH = dt.timedelta(hours=2)

_AFTER_CONFIRMATION = (CONFIRMED, SIGNED, ACCEPTED, DISCREPANCIES, FINISHED)


def at(date: dt.date, hhmm: str) -> dt.datetime:
    """``HH:MM`` Moscow time on ``date``."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return dt.datetime(date.year, date.month, date.day, hours, minutes, tzinfo=MSK)


def cutoff(shipment: dict[str, Any]) -> dt.datetime:
    """When the shipment is formed (and may be confirmed)."""
    return at(dt.date.fromisoformat(shipment["date"]), shipment["cutoff"])


def plan_interval(shipment: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    """When the orders are handed over."""
    if shipment.get("interval"):
        date = dt.date.fromisoformat(shipment["date"])
        return at(date, shipment["interval"][0]), at(date, shipment["interval"][1])
    # On the shipment's own day, however late its cutoff: a hand-over after midnight would make the
    # shipment's interval name the next day while its orders ship on this one.
    formed, day_end = cutoff(shipment), at(dt.date.fromisoformat(shipment["date"]), "23:59")
    start = min(formed + HANDOVER_DELAY, max(formed, day_end - HANDOVER_LENGTH))
    return start, min(start + HANDOVER_LENGTH, day_end)


def current_status(shipment: dict[str, Any], now: dt.datetime) -> tuple[str, dt.datetime]:
    """The status in force and since when: a shipment not yet formed becomes ready at its cutoff."""
    since = dt.datetime.fromisoformat(shipment["statusUpdateTime"])
    if shipment["status"] == CREATED and now >= cutoff(shipment):
        return READY, cutoff(shipment)
    return shipment["status"], since


def available_actions(status: str, shipment: dict[str, Any]) -> list[str]:
    """What the Market lets the seller do with the shipment in ``status``."""
    actions = []
    if status == READY:
        actions.append("CONFIRM")
    if status in _AFTER_CONFIRMATION:
        actions.append("DOWNLOAD_ACT")
    if status == FINISHED:
        actions.append("DOWNLOAD_INBOUND_ACT")
    if status in (DISCREPANCIES, FINISHED) and shipment.get("discrepancies"):
        actions.append("DOWNLOAD_DISCREPANCY_ACT")
    if status in _AFTER_CONFIRMATION and shipment["type"] == "WITHDRAW":
        actions.append("DOWNLOAD_TRANSPORTATION_WAYBILL")
    if status in (CREATED, READY, CONFIRMED):
        actions.append("CHANGE_PALLETS_COUNT")
    return actions


def transfer_refusal(status: str, shipment: dict[str, Any], now: dt.datetime, order_ids: list[int],
                     members: dict[int, dict[str, Any]]) -> str | None:
    """Why these orders cannot be moved to the next shipment now (None: they can)."""
    if not order_ids:
        return "orderIds: at least one order"
    if len(order_ids) > MAX_TRANSFER:
        return f"orderIds: at most {MAX_TRANSFER} orders per transfer"
    if status != CREATED or now >= cutoff(shipment) - TRANSFER_MARGIN:  # more than half an hour left
        return "Orders can be transferred only while more than 30 minutes are left before the shipment is formed"
    foreign = [i for i in order_ids if i not in members]
    if foreign:
        return f"Orders {', '.join(map(str, foreign))} are not in shipment {shipment['id']}"
    cancelled = [i for i in order_ids if members[i]["status"] == "CANCELLED"]
    if cancelled:
        return f"Orders {', '.join(map(str, cancelled))} are cancelled"
    return None


def is_active(order: dict[str, Any]) -> bool:
    return order["status"] != "CANCELLED"


def is_ready(order: dict[str, Any]) -> bool:
    """Collected and ready to go: READY_TO_SHIP, or already on its way."""
    if order["status"] == "PROCESSING":
        return order["substatus"] in ("READY_TO_SHIP", "SHIPPED")
    return order["status"] in ("DELIVERY", "PICKUP", "DELIVERED")


def boxes(order: dict[str, Any]) -> list[dict[str, Any]]:
    return order["delivery"].get("boxesLayout") or []


def declared_value(order: dict[str, Any]) -> Decimal:
    """The order's total without delivery (what the act calls the declared value)."""
    total = Decimal(0)
    for item in order["items"]:
        prices = item.get("prices") or {}
        for key in ("payment", "subsidy"):
            total += Decimal(str((prices.get(key) or {}).get("value") or 0))
    return total


def external_id_refusal(order: dict[str, Any], value: Any) -> str | None:
    """Why the seller's order number cannot be set (None: it can): once, and before READY_TO_SHIP."""
    if not isinstance(value, str) or not value.strip():
        return "externalOrderId: a non-empty string"
    if order.get("externalOrderId"):
        return f"The external id of order {order['orderId']} is already set"
    if is_ready(order) or order["status"] not in ("PROCESSING", "RESERVED", "UNPAID", "PENDING", "PLACING"):
        return f"The external id can be set only before READY_TO_SHIP (order is {order['status']}/{order['substatus']})"
    return None


def barcode_order_number(order: dict[str, Any]) -> str:
    """What the label's order barcode encodes: the seller's id when it is ASCII, else the Market's."""
    external = order.get("externalOrderId") or ""
    return external if external and external.isascii() and external.isprintable() else str(order["orderId"])
