"""What the Shipments screen shows of a shipment: its counts, the orders that block it and why,
and how far the dock hand-over is. Plain functions of the mirror, read in a few queries."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fulfilment.market.shipments import CUTOFF_NOT_REACHED
from fulfilment.orders import outbox
from fulfilment.orders.mirror import market_boxes, market_layout
from fulfilment.orders.models import (
    SHIPMENT_KINDS,
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
# The Market has taken the shipment in: its orders may be on their way or delivered since.
TAKEN_IN = (ShipmentStatus.ACCEPTED, ShipmentStatus.ACCEPTED_WITH_DISCREPANCIES, ShipmentStatus.FINISHED)
CONFIRM_ON_WAY = (OutboxAction.State.PENDING, OutboxAction.State.SENDING)
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
        # The page's orders come with their boxes' barcodes, read in one query for all (_orders).
        packed = order.__dict__.get("box_barcodes")
        remote = packed if packed is not None else [b.barcode for b in order.boxes.all() if b.barcode]
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
    elif action.kind == OutboxAction.Kind.TRANSFER:
        words = _("The Market refused to move the orders to the next shipment: nothing was moved, they stay "
                  "in this one.")
        if any("30 minutes" in q for q in quoted):
            words += " " + _("By its clock 30 minutes or less are left before the shipment is formed, when "
                             "orders can no longer be moved.")
    elif action.kind == OutboxAction.Kind.PALLETS:
        words = _("The Market refused the pallets count: the count it had stays.")
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
    act: frozenset[int] | None = None  # confirmed: the orders the confirmation (the act) covers
    left_out: list[Order] = field(default_factory=list)  # in the shipment, not in the act: the next one
    delivered: list[Order] = field(default_factory=list)  # delivered already: nothing to hand over
    unboxed: int = 0  # ready, but no box label known: nothing to print or scan for it

    @property
    def left_out_ids(self) -> list[int]:
        return [o.market_id for o in self.left_out]

    @property
    def missing(self) -> list[HandBox]:
        return [b for b in self.boxes if b.barcode not in self.scanned]

    @property
    def all_scanned(self) -> bool:
        """Every box of every ready order scanned; never while a ready order has no box known."""
        return bool(self.boxes) and not self.missing and not self.unboxed

    @property
    def cutoff(self) -> dt.datetime:
        return self.shipment.cutoff()

    def transfer_closes(self) -> dt.datetime:
        return self.cutoff - TRANSFER_MARGIN


def shipment_actions(shipments: list[Shipment]) -> list[OutboxAction]:
    """The changes sent for these shipments, oldest first: by outbox_shipment_idx (the kinds that name a
    shipment), not every action of the shop ever sent. One ``IN`` of their ids, each action then kept
    only for its own shop: an ``OR`` of a (shop, id) pair per shipment cost the ORM a filter each to
    build (60 shipments on the screen)."""
    if not shipments:
        return []
    pairs = {(s.campaign_id, s.market_id) for s in shipments}
    found = OutboxAction.objects.filter(kind__in=SHIPMENT_KINDS,
                                        payload__shipmentId__in=sorted({m for _, m in pairs})).order_by("id")
    return [a for a in found if (a.campaign_id, a.payload.get("shipmentId")) in pairs]


def act_orders(shipments: list[Shipment], on_way: set[int] | None = None) -> dict[int, frozenset[int]]:
    """Of the confirmed shipments (or with a confirmation on its way), by pk, the orders their
    confirmation covered: what was ready when the supervisor confirmed here (the audit keeps it). A
    shipment confirmed elsewhere has none. ``on_way``: the Market ids of the shipments whose
    confirmation is on its way, when already read."""
    others = [s for s in shipments if not s.is_confirmed]
    if on_way is None and others:  # a confirmation on its way counts already: the act is signed with what was ready
        on_way = {a.payload.get("shipmentId") for a in shipment_actions(others)
                  if a.kind == OutboxAction.Kind.CONFIRM_SHIPMENT and a.state in CONFIRM_ON_WAY}
    confirmed = {s.market_id: s for s in shipments if s.is_confirmed or s.market_id in (on_way or ())}
    out: dict[int, frozenset[int]] = {}
    for event in (AuditEvent.objects.filter(action="shipment.confirm", payload__shipment__in=list(confirmed))
                  .order_by("at", "id") if confirmed else ()):
        s = confirmed[event.payload["shipment"]]
        if "orders" in event.payload:
            out[s.pk] = frozenset(event.payload["orders"])
        else:  # confirmed before the list was kept: all but the orders not ready then
            out[s.pk] = frozenset(set(s.order_ids) - set(event.payload.get("not_ready") or ()))
    return out


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


def _orders(shipments: list[Shipment]) -> dict[tuple[int, int], Order]:
    """The shipments' orders by (shop, Market id), with their boxes' barcodes, in one query each."""
    wanted = Q()
    for s in shipments:
        wanted |= Q(campaign_id=s.campaign_id, market_id__in=s.order_ids)
    if not any(s.order_ids for s in shipments):
        return {}
    # Of the stored payload only the Market's boxes (decoding every order's payload was most of the
    # screen's time: 5 000 orders of the day).
    orders = list(Order.objects.filter(wanted).defer("raw").annotate(market_boxes=market_boxes())
                  .order_by("market_id"))
    # The barcodes only, not a Box object (and a queryset) per order: box_labels reads nothing else.
    barcodes: dict[int, list[str]] = {o.pk: [] for o in orders}
    for order_id, barcode in (Box.objects.filter(order_id__in=list(barcodes)).exclude(barcode="")
                              .order_by("order_id", "number").values_list("order_id", "barcode")):
        barcodes[order_id].append(barcode)
    for o in orders:
        o.box_barcodes = barcodes[o.pk]  # type: ignore[attr-defined]
    return {(o.campaign_id, o.market_id): o for o in orders}


def shipment_orders(shipment: Shipment) -> list[Order]:
    return _of(shipment, _orders([shipment]))


def _of(shipment: Shipment, orders: dict[tuple[int, int], Order]) -> list[Order]:
    found = (orders.get((shipment.campaign_id, m)) for m in shipment.order_ids)
    return sorted((o for o in found if o is not None), key=lambda o: o.market_id)


def board(shipment: Shipment) -> Board:
    """Counts, blockers and the hand-over state of one shipment."""
    return boards([shipment])[0]


def boards(shipments: list[Shipment]) -> list[Board]:
    """The boards of these shipments, in a few queries whatever their number (the Shipments screen
    asked five for each shipment)."""
    orders = _orders(shipments)
    every = list(orders.values())
    refused = {a.order_id: a for a in OutboxAction.objects.filter(
        order_id__in=[o.pk for o in every], state=OutboxAction.State.FAILED).order_by("id")} if every else {}
    scans: dict[int, list[HandoverScan]] = {}
    for scan in HandoverScan.objects.filter(shipment__in=shipments).select_related("user"):
        scans.setdefault(scan.shipment_id, []).append(scan)
    actions: dict[tuple[int, int], list[OutboxAction]] = {}
    for a in shipment_actions(shipments):
        actions.setdefault((a.campaign_id, a.payload.get("shipmentId")), []).append(a)
    acts = act_orders(shipments, {mid for (_, mid), sent in actions.items()
                                  if any(a.kind == OutboxAction.Kind.CONFIRM_SHIPMENT and a.state in CONFIRM_ON_WAY
                                         for a in sent)})
    taken_off: dict[int, list[AuditEvent]] = {}
    for event in (AuditEvent.objects.filter(action="handover.taken_off",
                                            payload__shipment__in=[s.market_id for s in shipments])
                  .select_related("user").order_by("at", "id") if shipments else ()):
        taken_off.setdefault(event.payload.get("shipment"), []).append(event)
    return [_board(s, _of(s, orders), refused, scans.get(s.pk, []), actions.get((s.campaign_id, s.market_id), []),
                   taken_off.get(s.market_id, []), acts.get(s.pk))
            for s in shipments]


def _board(shipment: Shipment, orders: list[Order], refused: dict[int, OutboxAction], scans: list[HandoverScan],
           actions: list[OutboxAction], taken_off: list[AuditEvent], act: frozenset[int] | None = None) -> Board:
    b = Board(shipment, orders, act=act)
    known = {o.market_id for o in orders}
    for order in orders:
        if order.status == OrderStatus.CANCELLED:
            continue
        if act is not None and order.market_id not in act:
            b.left_out.append(order)  # not on the signed act: it must not go on this pallet
            continue
        if order.status == OrderStatus.DELIVERED and shipment.status not in TAKEN_IN:
            b.delivered.append(order)  # with the buyer already (the Market lists it): nothing to hand over
            continue
        b.planned += 1
        ready = is_ready(order)
        b.packed += ready or order.layout_sent_version is not None
        b.ready += ready
        b.labelled += labels_printed(order)
        labels = box_labels(order) if ready else []
        if ready and not labels:
            b.unboxed += 1
            b.not_ready += 1
            b.blockers.append(Blocker(order, order.market_id, _(
                "Ready to ship at the Market, but no box of it is known here: no label to print or scan. "
                "Read the shipment from the Market again; if it still has no boxes, lay them out on the "
                "order's screen")))
        elif ready:
            b.boxes += labels
        else:
            b.not_ready += 1
            b.blockers.append(Blocker(order, order.market_id, _reason(order, refused)))
    for market_id in sorted(set(shipment.order_ids) - known):
        if act is not None and market_id not in act:
            continue
        b.planned += 1
        b.not_ready += 1
        b.blockers.append(Blocker(None, market_id, _("Not in the dashboard yet: refresh the orders")))
    cancelled = {o.pk for o in orders if o.status == OrderStatus.CANCELLED}
    for scan in scans:
        if scan.order_id in cancelled:
            b.take_off.append(scan)
        else:
            b.scanned[scan.barcode] = scan
    b.taken_off = taken_off
    newest = {}
    for a in actions:
        newest[a.kind] = a  # only the last action of each kind tells the state of that kind
    b.failed = [refusal(a) for a in newest.values() if a.state == OutboxAction.State.FAILED]
    b.sending = [a for a in newest.values() if a.state in outbox.OPEN_STATES and a.state != OutboxAction.State.FAILED]
    return b


def day_shipments(today: dt.date, days: int = 3) -> QuerySet[Shipment]:
    """The shipments of today and the next ``days`` days (and yesterday's not yet confirmed), shop by shop."""
    unconfirmed = (ShipmentStatus.OUTBOUND_CREATED, ShipmentStatus.OUTBOUND_READY_FOR_CONFIRMATION)
    current = Q(shipment_date__gte=today) | Q(shipment_date=today - dt.timedelta(days=1), status__in=unconfirmed)
    return (Shipment.objects.filter(current, shipment_date__lte=today + dt.timedelta(days=days))
            .select_related("campaign").order_by("shipment_date", "campaign__name", "market_id"))


def day_boards(today: dt.date, days: int = 3) -> list[Board]:
    """The day's shipments with their whole boards (blockers, boxes, scans)."""
    return boards(list(day_shipments(today, days)))


@dataclass
class Counts:
    """A shipment's counts for the Shipments screen, counted by the database (the same as its Board's:
    tests/test_shipments_counts.py holds them together)."""

    shipment: Shipment
    planned: int = 0
    packed: int = 0
    ready: int = 0
    labelled: int = 0
    not_ready: int = 0
    box_count: int = 0
    scanned_count: int = 0

    @property
    def cutoff(self) -> dt.datetime:
        return self.shipment.cutoff()


# One row per shipment. An order of the list not in the dashboard yet counts as planned, not ready;
# a ready order's boxes are the Market's labelled ones, else the labelled ones packed here (box_labels);
# a scan counts unless its order is one of the shipment's cancelled ones (then it is to be taken off).
# As the Board: a delivered order (before the Market takes the shipment in) is not counted, a ready one
# without a labelled box is not ready (nothing to scan), a confirmed shipment counts its act only.
_COUNTS = """
WITH wanted AS (
    SELECT DISTINCT s.id AS shipment_id, s.campaign_id, s.status AS shipment_status, e.value::bigint AS market_id,
        NOT %(acts)s::jsonb ? s.id::text OR (%(acts)s::jsonb -> s.id::text) @> to_jsonb(e.value::bigint) AS in_act
    FROM orders_shipment s CROSS JOIN LATERAL jsonb_array_elements_text(s.order_ids) e
    WHERE s.id = ANY(%(ids)s)
), o AS (
    SELECT w.shipment_id, w.in_act, o.id, o.status, o.layout_sent_version IS NOT NULL AS sent,
           o.labels_printed_version IS NOT NULL AND o.labels_printed_version = o.layout_version AS labelled,
           o.status = ANY(%(after)s) OR (o.status = %(processing)s AND o.substatus = ANY(%(ready)s)) AS ready,
           coalesce(o.status = %(delivered)s AND w.shipment_status <> ALL(%(taken_in)s), false) AS gone,
           o.raw -> 'delivery' -> 'boxesLayout' AS market_boxes
    FROM wanted w LEFT JOIN orders_order o ON o.campaign_id = w.campaign_id AND o.market_id = w.market_id
), ob AS (
    SELECT o.*, CASE WHEN o.status <> %(cancelled)s AND o.ready AND NOT o.gone THEN coalesce(nullif(
            (SELECT count(*) FROM jsonb_array_elements(CASE jsonb_typeof(o.market_boxes) WHEN 'array'
                     THEN o.market_boxes ELSE '[]' END) b WHERE coalesce(b ->> 'barcode', '') <> ''), 0),
            (SELECT count(*) FROM orders_box x WHERE x.order_id = o.id AND x.barcode <> '')) ELSE 0 END AS boxes
    FROM o
), counted AS (
    SELECT o.shipment_id,
        count(*) FILTER (WHERE o.status IS DISTINCT FROM %(cancelled)s AND NOT o.gone) AS planned,
        count(*) FILTER (WHERE o.status <> %(cancelled)s AND NOT o.gone AND (o.ready OR o.sent)) AS packed,
        count(*) FILTER (WHERE o.status <> %(cancelled)s AND NOT o.gone AND o.ready) AS ready,
        count(*) FILTER (WHERE o.status <> %(cancelled)s AND NOT o.gone AND o.labelled) AS labelled,
        count(*) FILTER (WHERE o.status <> %(cancelled)s AND NOT o.gone AND o.ready AND o.boxes = 0) AS unboxed,
        coalesce(sum(o.boxes), 0) AS boxes
    FROM ob o WHERE o.in_act GROUP BY o.shipment_id
), scanned AS (
    SELECT h.shipment_id, count(*) AS n
    FROM orders_handoverscan h LEFT JOIN o ON o.shipment_id = h.shipment_id AND o.id = h.order_id
    WHERE h.shipment_id = ANY(%(ids)s) AND o.status IS DISTINCT FROM %(cancelled)s
    GROUP BY h.shipment_id
)
SELECT s.id, coalesce(c.planned, 0), coalesce(c.packed, 0), coalesce(c.ready, 0), coalesce(c.labelled, 0),
       coalesce(c.boxes, 0), coalesce(h.n, 0), coalesce(c.unboxed, 0)
FROM orders_shipment s LEFT JOIN counted c ON c.shipment_id = s.id LEFT JOIN scanned h ON h.shipment_id = s.id
WHERE s.id = ANY(%(ids)s)
"""


def day_counts(today: dt.date, days: int = 3) -> list[Counts]:
    """The day's shipments with their counts, counted in one query: the screen shows no order, and
    reading the day's 5 000 orders and their boxes as objects to count them was most of its time."""
    # The lists of ids stay in the database: the query below reads them there.
    shipments = list(day_shipments(today, days).defer("order_ids", "with_labels", "available_actions"))
    if not shipments:
        return []
    with connection.cursor() as cur:
        # A confirmed shipment counts the orders of its act only (act_orders), as its Board does.
        acts = {str(pk): sorted(ids) for pk, ids in act_orders(shipments).items()}
        cur.execute(_COUNTS, {"ids": [s.pk for s in shipments], "after": list(AFTER_READY),
                              "processing": OrderStatus.PROCESSING, "ready": list(READY_SUBSTATUSES),
                              "cancelled": OrderStatus.CANCELLED, "delivered": OrderStatus.DELIVERED,
                              "taken_in": list(TAKEN_IN), "acts": json.dumps(acts)})
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    out = []
    for s in shipments:
        planned, packed, ready, labelled, box_count, scanned, unboxed = rows[s.pk]
        out.append(Counts(s, planned, packed, ready, labelled, planned - ready + unboxed, box_count, scanned))
    return out
