"""How packing ends: the layout sent (finish), ready to ship, labels printed, or a problem reported.

Finishing sends the layout (FBS/Express) or the codes and cargo places (DBS) through the outbox;
ready to ship waits until the layout sent is the current one and, for FBS/Express, every code was
accepted by the Market.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfilment.market.changes import CargoPlaces, Identifiers, ItemInstances, StatusChange
from fulfilment.market.client import MarketClient
from fulfilment.market.types import PageFormat
from fulfilment.orders.label_check import check_labels
from fulfilment.orders.models import (
    AuditEvent,
    Instance,
    Order,
    OrderStatus,
    OrderSubstatus,
    Problem,
    Shipment,
    Verification,
)

from . import outbox_writes
from .kernel import Feedback, Operation, Refused, User, known_user
from .state import PackState
from .writes import update

# An order someone else scanned within this time is theirs: the next order offered is another one.
TAKEN_FOR = dt.timedelta(minutes=30)


def finish(op: Operation) -> Feedback:
    """Send the layout (FBS/Express) or the codes and cargo places (DBS) through the outbox."""
    op.check_open()
    # A removal the Market refused does not hold the order: the packer then ships every unit.
    if outbox_writes.removal_pending(op.order.pk):
        raise Refused(_("An item is being removed at the Market: finish when that is done."))
    state = op.state
    problems = state.layout_problems()
    if problems:
        raise Refused(_("Not finished yet: %(problem)s") % {"problem": problems[0]})
    o = op.order
    if o.layout_sent_version == o.layout_version:
        return op.ok(_("This layout was already sent."))
    # What needs no answer waits in op.writes and goes with the version bump (writes.py).
    if state.is_dbs:
        items = tuple(ItemInstances(st.item.market_item_id, insts) for st in state.items.values()
                      if (insts := state.item_instances(st)))
        if items:
            outbox_writes.enqueue(op, Identifiers(items))
        if o.shipment_id:
            outbox_writes.enqueue(op, CargoPlaces(o.shipment_id, len(state.boxes)))
    else:
        outbox_writes.enqueue(op, state.layout())
        op.writes.later(update("finish-codes-unsent", _codes_unsent, (_ORDER_ID,), (o.pk,)))
    op.writes.later(update("finish-layout-sent", _layout_sent, (_ORDER_ID, _VERSION), (o.pk, o.layout_version)))
    o.layout_sent_version = o.layout_version
    return op.ok(_("Packed: %(n)s boxes sent to the Market.") % {"n": len(state.boxes)})


# Stand-ins finish's updates are compiled with (writes.update): no order has them.
_ORDER_ID, _VERSION = -918_273_711, -918_273_712


def _codes_unsent(order_id: int) -> tuple[QuerySet[Instance], dict[str, Any]]:
    """Every code not yet accepted goes with the layout: the Market checks it again."""
    return (Instance.objects.filter(order_id=order_id).exclude(verification=Verification.OK),
            {"verification": Verification.NOT_SENT, "verification_message": ""})


def _layout_sent(order_id: int, version: int) -> tuple[QuerySet[Order], dict[str, Any]]:
    return Order.objects.filter(pk=order_id), {"layout_sent_version": version}


def ready_problems(state: PackState) -> list[str]:
    """What stands between this order and READY_TO_SHIP."""
    o = state.order
    out = list(state.blockers())
    if o.layout_sent_version is None:
        out.append(_("Finish packing first: the layout has not been sent."))
    elif o.layout_sent_version != o.layout_version:
        out.append(_("The boxes changed after the layout was sent: finish again."))
    elif not state.is_dbs:
        if state.verification_failed():
            out.append(_("The Market rejected a code: remove it, scan another and finish again."))
        elif state.verification_pending():
            out.append(_("The Market is still checking the codes."))
    return out


def ready(op: Operation) -> Feedback:
    problems = ready_problems(op.state)
    if problems:
        raise Refused(problems[0])
    o = op.order
    if any(c.substatus == OrderSubstatus.READY_TO_SHIP for c in outbox_writes.open_changes(o.pk, StatusChange)):
        return op.ok(_("Ready to ship is already being sent."))
    outbox_writes.enqueue(op, StatusChange(OrderStatus.PROCESSING, OrderSubstatus.READY_TO_SHIP))
    return op.ok(_("Marked ready to ship."))


def done_here(order: Order) -> bool:
    """Packed here and READY_TO_SHIP at the Market: the packer's work on the order is done."""
    return order.layout_sent_version is not None and order.is_ready_to_ship


def read_only(order: Order, done: bool) -> bool:
    """Not being packed (cancelled, delivered, in the Market's hands): the screen shows it, nothing more."""
    return not done and (order.status == OrderStatus.CANCELLED or not order.is_packable)


def later_shipment(order: Order) -> Shipment | None:
    """The shipment the order was planned for, when the Market confirmed it without this order (it
    became ready too late): the order then goes with the next one. One query, and only for a done order."""
    if not order.shipment_id:
        return None
    shipment = Shipment.objects.filter(market_id=order.shipment_id).only("market_id", "status", "order_ids",
                                                                         "shipment_date").first()
    if shipment is None or not shipment.is_confirmed or order.market_id in shipment.order_ids:
        return None
    return shipment


def next_order(order: Order, user: User = None) -> Order | None:
    """The order to pack after this one: the queue's first, earliest shipment first, leaving out
    an order another packer is on (scanned or changed by someone else in the last ``TAKEN_FOR``)."""
    me = known_user(user)
    others = AuditEvent.objects.filter(order=OuterRef("pk"), at__gte=timezone.now() - TAKEN_FOR,
                                       user__isnull=False).filter(
        Q(action__in=("scan", "scan.item_chosen")) | Q(action__startswith="pack."))
    if me is not None:
        others = others.exclude(user=me)
    return (Order.objects.to_pack().exclude(pk=order.pk).exclude(Exists(others))
            .order_by(F("shipment_date").asc(nulls_last=True), "market_id").first())


def report_problem(op: Operation, problem: str, item: int | None = None, note: str = "") -> Feedback:
    """Take the order out of the packing flow with the reason; the supervisor sees it."""
    if problem not in Problem.values:
        raise Refused(_("Choose what the problem is."))
    st = op.state.items.get(int(item)) if item else None
    o = op.order
    o.problem, o.problem_note, o.problem_item_id = problem, note[:2000], st.item.pk if st else None
    o.problem_by, o.problem_at = op.user, timezone.now()
    o.save(update_fields=["problem", "problem_note", "problem_item", "problem_by", "problem_at"])
    # The queue says which order went where and why (?reported=): one mistaken scan must not
    # take an order off packing without a word.
    return Feedback(True, _("The problem was reported; the order went to the supervisor."),
                    redirect=f"{reverse('queue')}?reported={o.pk}")


def labels_printed(order_id: int, user: User) -> None:
    """Remember which layout the printed labels show (a later change asks for a reprint)."""
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(labels_printed_version=F("layout_version"))
        AuditEvent.objects.create(order_id=order_id, user=known_user(user), action="labels.printed", payload={})


class LabelsRefused(Exception):
    """The labels the Market gave cannot be printed: each reason, translated."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def printable_labels(order: Order, client: MarketClient, page_format: PageFormat) -> bytes:
    """The Market's labels PDF for the order's boxes, only once each page reads as its box's barcode at the
    stations' printer resolution (orders/label_check.py); refused with the reasons otherwise."""
    pdf = client.generate_order_labels(order.campaign.market_id, order.market_id, page_format)
    expected = list(order.boxes.order_by("number").values_list("barcode", flat=True))
    if not expected or not all(expected):  # boxes whose barcodes the layout did not bring: the labels data has them
        data = client.get_order_labels_data(order.campaign.market_id, order.market_id)
        expected = [b.fulfilment_id for b in data.boxes]
    check = check_labels(pdf, expected)
    if not check.ok:
        raise LabelsRefused(check.problems)
    return pdf
