"""What the Shipments screen shows of a shipment: its counts, the orders that block it and why,
and how far the dock hand-over is. Plain functions of the mirror, read in a few queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from fulfilment.market.shipments import CUTOFF_NOT_REACHED
from fulfilment.orders import outbox
from fulfilment.orders.mirror import market_layout
from fulfilment.orders.models import (
    AuditEvent,
    Box,
    HandoverScan,
    Order,
    OrderStatus,
    OrderSubstatus,
    OutboxAction,
    Shipment,
    ShipmentStatus,
)

READY_SUBSTATUSES = (OrderSubstatus.READY_TO_SHIP, OrderSubstatus.SHIPPED)
AFTER_READY = (OrderStatus.DELIVERY, OrderStatus.PICKUP, OrderStatus.DELIVERED)
TRANSFER_MARGIN = dt.timedelta(minutes=30)  # transferOrdersFromShipment: refused within 30 minutes


def is_ready(order: Order) -> bool:
    """Collected and handed to the Market's flow: READY_TO_SHIP, or already on its way."""
    return order.status in AFTER_READY or (order.status == OrderStatus.PROCESSING
                                           and order.substatus in READY_SUBSTATUSES)


def labels_printed(order: Order) -> bool:
    return order.labels_printed_version is not None and order.labels_printed_version == order.layout_version


@dataclass(frozen=True)
class HandBox:
    """A box to hand over: the barcode on its label (``delivery.boxesLayout``), its order, its place."""

    barcode: str
    order: Order
    number: int


def box_labels(order: Order) -> list[HandBox]:
    """The order's boxes as the Market knows them (their label barcodes), else the boxes packed here."""
    remote = [b.barcode for b in market_layout(order) if b.barcode]
    if not remote:
        remote = [b.barcode for b in order.boxes.all() if b.barcode]
    return [HandBox(code, order, n) for n, code in enumerate(remote, start=1)]


@dataclass(frozen=True)
class Refusal:
    """A shipment change the Market refused: what it means in the reader's words, and what the
    Market wrote, as received."""

    action: OutboxAction
    words: str
    quoted: list[str]


def refusal(action: OutboxAction) -> Refusal:
    quoted = ([str(e["message"]) for e in action.market_errors or () if isinstance(e, dict) and e.get("message")]
              or ([action.last_error] if action.last_error else []))
    if action.kind == OutboxAction.Kind.CONFIRM_SHIPMENT and any(CUTOFF_NOT_REACHED in q for q in quoted):
        words = _("The Market refused to confirm the shipment: by its clock the cutoff has not come yet. "
                  "Read the shipment from the Market again in a few minutes and confirm it then.")
    else:
        words = _("The Market refused: %(what)s.") % {"what": action.get_kind_display()}
    return Refusal(action, words, quoted)


@dataclass
class Blocker:
    order: Order | None
    market_id: int
    reason: str


@dataclass
class Board:
    """One shipment as the supervisor sees it."""

    shipment: Shipment
    orders: list[Order]
    planned: int = 0
    packed: int = 0
    ready: int = 0
    labelled: int = 0
    not_ready: int = 0
    blockers: list[Blocker] = field(default_factory=list)
    boxes: list[HandBox] = field(default_factory=list)  # every box to hand over, in the order met
    scanned: dict[str, HandoverScan] = field(default_factory=dict)
    take_off: list[HandoverScan] = field(default_factory=list)  # scanned, then the order was cancelled
    taken_off: list[AuditEvent] = field(default_factory=list)  # and taken off the pallet: by whom, when
    failed: list[Refusal] = field(default_factory=list)  # the Market refused; shown as received
    sending: list[OutboxAction] = field(default_factory=list)

    @property
    def missing(self) -> list[HandBox]:
        return [b for b in self.boxes if b.barcode not in self.scanned]

    @property
    def all_scanned(self) -> bool:
        return bool(self.boxes) and not self.missing

    @property
    def cutoff(self) -> dt.datetime:
        return self.shipment.cutoff()

    def transfer_closes(self) -> dt.datetime:
        return self.cutoff - TRANSFER_MARGIN


def _reason(order: Order, refused: dict[int, OutboxAction]) -> str:
    if order.flag_reason:
        return order.flag_text
    if order.problem:
        return _("Packer reported a problem: %(problem)s") % {"problem": order.get_problem_display()}
    if order.pk in refused:
        return _("The Market refused a change: %(message)s") % {
            "message": "; ".join(e.get("message", "") for e in refused[order.pk].market_errors)
            or refused[order.pk].last_error}
    if order.status != OrderStatus.PROCESSING:
        return _("Not yet paid or confirmed at the Market")
    if order.layout_sent_version is None:
        return _("Not packed yet")
    return _("Packed, not marked ready to ship")


def shipment_orders(shipment: Shipment) -> list[Order]:
    return list(Order.objects.filter(campaign_id=shipment.campaign_id, market_id__in=shipment.order_ids)
                .prefetch_related(Prefetch("boxes", queryset=Box.objects.order_by("number")))
                .order_by("market_id"))


def board(shipment: Shipment) -> Board:
    """Counts, blockers and the hand-over state of one shipment."""
    orders = shipment_orders(shipment)
    b = Board(shipment, orders)
    refused = {a.order_id: a for a in OutboxAction.objects.filter(
        order__in=orders, state=OutboxAction.State.FAILED).order_by("id")}
    known = {o.market_id for o in orders}
    for order in orders:
        if order.status == OrderStatus.CANCELLED:
            continue
        b.planned += 1
        ready = is_ready(order)
        b.packed += ready or order.layout_sent_version is not None
        b.ready += ready
        b.labelled += labels_printed(order)
        if ready:
            b.boxes += box_labels(order)
        else:
            b.not_ready += 1
            b.blockers.append(Blocker(order, order.market_id, _reason(order, refused)))
    for market_id in sorted(set(shipment.order_ids) - known):
        b.planned += 1
        b.not_ready += 1
        b.blockers.append(Blocker(None, market_id, _("Not in the dashboard yet: refresh the orders")))
    cancelled = {o.pk for o in orders if o.status == OrderStatus.CANCELLED}
    for scan in shipment.handover_scans.select_related("user"):
        if scan.order_id in cancelled:
            b.take_off.append(scan)
        else:
            b.scanned[scan.barcode] = scan
    b.taken_off = list(AuditEvent.objects.filter(action="handover.taken_off", payload__shipment=shipment.market_id)
                       .select_related("user").order_by("at", "id"))
    actions = OutboxAction.objects.filter(payload__shipmentId=shipment.market_id, campaign_id=shipment.campaign_id)
    newest = {}
    for a in actions.order_by("id"):
        newest[a.kind] = a  # only the last action of each kind tells the state of that kind
    b.failed = [refusal(a) for a in newest.values() if a.state == OutboxAction.State.FAILED]
    b.sending = [a for a in newest.values() if a.state in outbox.OPEN_STATES and a.state != OutboxAction.State.FAILED]
    return b


def day_boards(today: dt.date, days: int = 3) -> list[Board]:
    """The shipments of today and the next ``days`` days (and yesterday's not yet confirmed), shop by
    shop, with their boards."""
    unconfirmed = (ShipmentStatus.OUTBOUND_CREATED, ShipmentStatus.OUTBOUND_READY_FOR_CONFIRMATION)
    current = Q(shipment_date__gte=today) | Q(shipment_date=today - dt.timedelta(days=1), status__in=unconfirmed)
    shipments = (Shipment.objects.filter(current, shipment_date__lte=today + dt.timedelta(days=days))
                 .select_related("campaign").order_by("shipment_date", "campaign__name", "market_id"))
    return [board(s) for s in shipments]
