"""What the supervisor does to a shipment: move late orders to the next shipment, declare the
pallets, confirm it, give an order the seller's own number, mark its labels printed. Each is
checked here first (the Market's documented rules, so that a refusal costs nothing) and then goes
to the Market through the outbox; the Market's own refusal is shown as it was received."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _, ngettext

from fulfilment.market.documents import checked_external_id
from fulfilment.market.limits import MAX_TRANSFER_ORDERS
from fulfilment.market.shipment_changes import ExternalOrderId, PalletsCount, ShipmentConfirm, ShipmentTransfer
from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, Order, OrderStatus, OutboxAction, Shipment, ShipmentStatus

from .kernel import Feedback, User, known_user
from .shipment_board import TRANSFER_MARGIN, board, is_ready

MAX_PALLETS = 999


def _audit(shipment: Shipment, user: User, action: str, payload: dict) -> None:
    AuditEvent.objects.create(user=known_user(user), action=action,
                              payload={"shipment": shipment.market_id, **payload})


def _pending(shipment: Shipment, kind: str) -> bool:
    return OutboxAction.objects.filter(campaign_id=shipment.campaign_id, kind=kind, state__in=(
        OutboxAction.State.PENDING, OutboxAction.State.SENDING), payload__shipmentId=shipment.market_id).exists()


def transfer_refusal(shipment: Shipment, order_ids: Sequence[int], now: dt.datetime) -> str | None:
    """Why these orders cannot go to the next shipment now (None: they can)."""
    if not order_ids:
        return _("Choose the orders to move.")
    if len(set(order_ids)) > MAX_TRANSFER_ORDERS:
        return _("At most %(n)s orders can be moved at once.") % {"n": MAX_TRANSFER_ORDERS}
    closes = shipment.cutoff() - TRANSFER_MARGIN
    if shipment.status != ShipmentStatus.OUTBOUND_CREATED or now >= closes:
        return _("Too late to move orders: the Market allows it only until 30 minutes before the shipment "
                 "is formed (%(time)s).") % {"time": formats.time_format(timezone.localtime(closes), "H:i")}
    foreign = sorted(set(order_ids) - set(shipment.order_ids))
    if foreign:
        return _("Orders %(ids)s are not in this shipment.") % {"ids": ", ".join(map(str, foreign))}
    cancelled = sorted(Order.objects.filter(campaign_id=shipment.campaign_id, market_id__in=order_ids,
                                            status=OrderStatus.CANCELLED).values_list("market_id", flat=True))
    if cancelled:
        return _("Orders %(ids)s are cancelled.") % {"ids": ", ".join(map(str, cancelled))}
    if _pending(shipment, OutboxAction.Kind.TRANSFER):
        return _("A transfer of this shipment is still on its way to the Market.")
    return None


def transfer(shipment: Shipment, order_ids: Sequence[int], user: User, *, confirmed: bool,
             now: dt.datetime | None = None) -> Feedback:
    """Move orders that will not make it to the next shipment (it lowers the shop's quality index)."""
    ids = tuple(dict.fromkeys(order_ids))
    refusal = transfer_refusal(shipment, ids, now or timezone.now())
    if refusal:
        return Feedback(False, refusal)
    if not confirmed:
        return Feedback(False, _("Tick the box to confirm: moving orders lowers the shop's quality index."))
    with transaction.atomic():
        outbox.enqueue(shipment.campaign, ShipmentTransfer(shipment.market_id, ids), user=user)
        _audit(shipment, user, "shipment.transfer", {"orders": list(ids)})
    return Feedback(True, ngettext(
        "The move of %(n)s order to the next shipment is being sent to the Market; its answer appears on this page.",
        "The move of %(n)s orders to the next shipment is being sent to the Market; its answer appears on this page.",
        len(ids)) % {"n": len(ids)})


def set_pallets(shipment: Shipment, raw: str, user: User) -> Feedback:
    """Declare how many pallets (packages) go with the shipment."""
    try:
        count = int(raw.strip())
    except (AttributeError, ValueError):
        return Feedback(False, _("The pallets count is a whole number."))
    # placesCount: an int32, minimum 0 (setShipmentPalletsCount); more than MAX_PALLETS is a slip here.
    if not 0 <= count <= MAX_PALLETS:
        return Feedback(False, _("The pallets count is from 0 to %(max)s.") % {"max": MAX_PALLETS})
    if not shipment.allows("CHANGE_PALLETS_COUNT"):
        return Feedback(False, _("The Market no longer lets the pallets count change for this shipment."))
    b = board(shipment)
    if count == 0 and b.ready:
        # The Market takes 0, but its trusted acceptance would then expect nothing carried.
        return Feedback(False, ngettext(
            "%(n)s order of the shipment is ready to go: its boxes travel on at least 1 pallet. Nothing was sent.",
            "%(n)s orders of the shipment are ready to go: their boxes travel on at least 1 pallet. Nothing was sent.",
            b.ready) % {"n": b.ready})
    with transaction.atomic():
        outbox.enqueue(shipment.campaign, PalletsCount(shipment.market_id, count), user=user)
        _audit(shipment, user, "shipment.pallets", {"count": count})
    return Feedback(True, ngettext("%(n)s pallet: sent to the Market.", "%(n)s pallets: sent to the Market.",
                                   count) % {"n": count})


def pending_pallets(shipment: Shipment) -> int | None:
    """The pallets count on its way to the Market, if any (the form shows it until the Market has it)."""
    action = (OutboxAction.objects.filter(campaign_id=shipment.campaign_id, kind=OutboxAction.Kind.PALLETS,
                                          payload__shipmentId=shipment.market_id, state__in=outbox.OPEN_STATES)
              .exclude(state=OutboxAction.State.FAILED).order_by("-id").first())
    return action.payload.get("placesCount") if action else None


def _listed(ids: Sequence[int], most: int = 20) -> str:
    """Order numbers for a message: the first ``most`` of them (a long list says nothing more)."""
    return ", ".join(map(str, ids[:most])) + (", …" if len(ids) > most else "")


def confirm_refusal(shipment: Shipment, now: dt.datetime) -> str | None:
    """Why the Market would refuse a confirmation now, as far as known here (None: send it)."""
    if shipment.is_confirmed:
        return _("The shipment is already confirmed.")
    # Formed at the cutoff: the Market's status says so, else the shop's cutoff; when the clocks
    # differ the Market's refusal comes back and is shown as received.
    if shipment.status == ShipmentStatus.OUTBOUND_CREATED and now < shipment.cutoff():
        return _("The shipment can be confirmed only after the cutoff at %(time)s, when the Market forms it; "
                 "nothing was sent.") % {"time": formats.time_format(timezone.localtime(shipment.cutoff()), "H:i")}
    if _pending(shipment, OutboxAction.Kind.CONFIRM_SHIPMENT):
        return _("The confirmation is already on its way to the Market.")
    return None


def confirm(shipment: Shipment, user: User, *, signatory: str = "", external_id: str = "",
            missing_accepted: bool = False, not_ready_accepted: bool = False,
            now: dt.datetime | None = None) -> Feedback:
    """Confirm the shipment with the Market: after the cutoff, with every order ready and every box
    scanned, or with the supervisor's explicit tick for what is not (kept in the audit trail)."""
    signatory, external_id = signatory.strip(), external_id.strip()
    if "@" in signatory:
        return Feedback(False, _("The signatory is a Yandex ID login without @yandex.ru."))
    refusal = confirm_refusal(shipment, now or timezone.now())
    if refusal:
        return Feedback(False, refusal)
    b = board(shipment)
    if b.take_off:
        return Feedback(False, _("Take the boxes of cancelled orders off the pallet first: %(boxes)s.")
                        % {"boxes": ", ".join(s.barcode for s in b.take_off)})
    not_ready = [x.market_id for x in b.blockers]
    if not_ready and not not_ready_accepted:
        return Feedback(False, ngettext(
            "%(n)s order of %(total)s is not ready to ship: %(ids)s. Tick that the shipment goes without it "
            "to confirm anyway.",
            "%(n)s orders of %(total)s are not ready to ship: %(ids)s. Tick that the shipment goes without them "
            "to confirm anyway.", len(not_ready)) % {"n": len(not_ready), "total": b.planned,
                                                     "ids": _listed(not_ready)})
    if b.missing and not missing_accepted:
        return Feedback(False, ngettext("%(n)s box has not been scanned at the dock.",
                                        "%(n)s boxes have not been scanned at the dock.", len(b.missing))
                        % {"n": len(b.missing)})
    with transaction.atomic():
        outbox.enqueue(shipment.campaign, ShipmentConfirm(shipment.market_id, external_id, signatory), user=user)
        # What the act covers: the orders ready now. A box of any other goes with the next shipment (dock.py).
        act = sorted(o.market_id for o in b.orders if is_ready(o) and o.status != OrderStatus.CANCELLED)
        _audit(shipment, user, "shipment.confirm", {
            "orders": act, "signatory": signatory, "missing": len(b.missing), "missing_accepted": bool(b.missing),
            "not_ready": not_ready, "not_ready_accepted": bool(not_ready)})
    return Feedback(True, _("The confirmation was sent to the Market."))


def external_id_refusal(order: Order, value: str) -> str | None:
    try:
        checked_external_id(value)
    except ValueError:
        return _("The seller's order number must be Latin letters, digits and signs (ASCII) only, not empty.")
    if len(value.strip()) > 255:
        return _("The seller's order number is too long.")
    if order.external_order_id:
        return _("The order already has the seller's number %(n)s; the Market takes it only once.") % {
            "n": order.external_order_id}
    if is_ready(order) or order.status != OrderStatus.PROCESSING:
        return _("The seller's number can be given only before the order is ready to ship.")
    if OutboxAction.objects.filter(order=order, kind=OutboxAction.Kind.EXTERNAL_ID,
                                   state__in=outbox.OPEN_STATES).exists():
        return _("A seller's number of this order is already on its way to the Market.")
    return None


def set_external_id(order: Order, value: str, user: User) -> Feedback:
    """Send the seller's own order number (before READY_TO_SHIP: the outbox keeps each order's changes
    in order, so it reaches the Market before a ready-to-ship asked for later)."""
    refusal = external_id_refusal(order, value)
    if refusal:
        return Feedback(False, refusal)
    with transaction.atomic():
        outbox.enqueue(order.campaign, ExternalOrderId(value.strip()), order=order, user=user)
    return Feedback(True, _("The seller's number %(n)s was sent to the Market.") % {"n": value.strip()})


def pending_external_ids(orders: Sequence[Order]) -> dict[int, str]:
    """Seller's numbers still on their way, by order pk (shown beside the order until delivered)."""
    out = {}
    for a in OutboxAction.objects.filter(order__in=orders, kind=OutboxAction.Kind.EXTERNAL_ID,
                                         state__in=outbox.OPEN_STATES):
        out[a.order_id] = a.payload.get("externalOrderId", "")
    return out


def mark_labels_printed(shipment: Shipment, order_ids: Sequence[int], user: User) -> None:
    """The shipment's labels were downloaded for printing: each of these orders' layout is labelled."""
    with transaction.atomic():
        orders = Order.objects.filter(campaign_id=shipment.campaign_id, market_id__in=order_ids)
        orders.update(labels_printed_version=F("layout_version"))
        AuditEvent.objects.bulk_create([AuditEvent(order_id=pk, user=known_user(user), action="labels.printed",
                                                   payload={"shipment": shipment.market_id})
                                        for pk in orders.values_list("pk", flat=True)])
