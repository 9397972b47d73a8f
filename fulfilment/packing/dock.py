"""The hand-over check at the dock: a packer scans each box label of the shipment.

A box of the shipment is counted once (a second scan says so and changes nothing); a box of another
shipment, of a cancelled order or unknown here is refused loudly and not counted. Every scan,
counted or refused, is recorded with the browser's id, so a resent batch is recognised and nothing
scanned is lost."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from fulfilment.orders.models import AuditEvent, Box, HandoverScan, Order, OrderStatus, Shipment

from .kernel import User, known_user
from .shipment_board import act_orders, box_labels, is_ready, shipment_orders

NEARBY_DAYS = 3


@dataclass
class DockResult:
    ok: bool
    message: str
    loud: bool = False  # refuse with a sound and a red banner: the box must not go on this pallet
    code: str = ""


class BoxIndex:
    """Which order a box label belongs to: this shipment's boxes, then (only when needed) the shop's
    other shipments of these days (a box on the wrong pallet), then any box packed here. Built once
    for a batch of scans."""

    def __init__(self, shipment: Shipment) -> None:
        self.shipment = shipment
        self._own: dict[str, Order] | None = None
        self._near: dict[str, Order] | None = None
        self._act: tuple[frozenset[int] | None] | None = None

    @property
    def act(self) -> frozenset[int] | None:
        """The orders the confirmed shipment's act covers (None: not confirmed, or not here)."""
        if self._act is None:
            self._act = (act_orders([self.shipment]).get(self.shipment.pk),)
        return self._act[0]

    @staticmethod
    def _labels(shipments: list[Shipment]) -> dict[str, Order]:
        return {b.barcode: b.order for s in shipments for o in shipment_orders(s) for b in box_labels(o)}

    def find(self, code: str) -> Order | None:
        if self._own is None:
            self._own = self._labels([self.shipment])
        if code in self._own:
            return self._own[code]
        if self._near is None:
            s = self.shipment
            self._near = self._labels(list(Shipment.objects.filter(
                campaign_id=s.campaign_id, shipment_date__gte=s.shipment_date - dt.timedelta(days=NEARBY_DAYS),
                shipment_date__lte=s.shipment_date + dt.timedelta(days=NEARBY_DAYS)).exclude(pk=s.pk)))
        if code in self._near:
            return self._near[code]
        box = Box.objects.filter(barcode=code).select_related("order").first()
        return box.order if box else None


def _judge(shipment: Shipment, code: str, index: BoxIndex) -> tuple[DockResult, Order | None]:
    if not code:
        return DockResult(False, _("Empty scan."), code=code), None
    order = index.find(code)
    if order is None:
        return DockResult(False, _("%(code)s is not the label of any box known here: put the box aside and show it "
                                 "to the supervisor.") % {"code": code},
                          loud=True, code=code), None
    if order.status == OrderStatus.CANCELLED:
        return DockResult(False, _("Order %(order)s is cancelled: take box %(code)s off the pallet.")
                          % {"order": order.market_id, "code": code}, loud=True, code=code), order
    if order.campaign_id != shipment.campaign_id or order.market_id not in shipment.order_ids:
        other = (Shipment.objects.filter(campaign_id=order.campaign_id, shipment_date=order.shipment_date)
                 .exclude(pk=shipment.pk).first() if order.shipment_date else None)
        where = (_("shipment %(id)s of %(date)s") % {"id": other.market_id,
                                                     "date": formats.date_format(other.shipment_date, "d.m.Y")}
                 if other else _("another shipment"))
        return DockResult(False, _("Box %(code)s of order %(order)s belongs to %(where)s, not to this one.")
                          % {"code": code, "order": order.market_id, "where": where}, loud=True, code=code), order
    act = index.act
    if act is not None and order.market_id not in act:
        return DockResult(False, _(
            "Shipment %(shipment)s is already confirmed and its act does not list order %(order)s: do not put "
            "box %(code)s on this pallet. Keep it aside: it goes with the next shipment.")
            % {"shipment": shipment.market_id, "order": order.market_id, "code": code}, loud=True, code=code), order
    if not is_ready(order):
        return DockResult(False, _("Order %(order)s is not ready to ship: box %(code)s cannot be handed over.")
                          % {"order": order.market_id, "code": code}, loud=True, code=code), order
    return DockResult(True, "", code=code), order


def scan(shipment: Shipment, code: str, user: User, request_id: uuid.UUID | None = None,
         index: BoxIndex | None = None) -> DockResult:
    """Count one scanned box label for the shipment, or say why not; a resent scan changes nothing.
    ``index``: the labels already looked up for this batch."""
    code = code.strip()
    if request_id is not None and (HandoverScan.objects.filter(request_id=request_id).exists()
                                   or AuditEvent.objects.filter(request_id=request_id).exists()):
        return DockResult(True, _("This scan was already received."), code=code)
    result, order = _judge(shipment, code, index or BoxIndex(shipment))
    try:
        with transaction.atomic():
            if not result.ok:
                AuditEvent.objects.create(order=order, user=known_user(user),
                                          action="handover.refused", request_id=request_id,
                                          payload={"shipment": shipment.market_id, "code": code,
                                                   "reason": result.message})
                return result
            assert order is not None
            HandoverScan.objects.create(shipment=shipment, box=Box.objects.filter(order=order, barcode=code).first(),
                                        order=order, barcode=code, request_id=request_id, user=known_user(user))
    except IntegrityError:
        earlier = HandoverScan.objects.filter(shipment=shipment, barcode=code).select_related("user").first()
        if earlier is None:  # the same request id, recorded meanwhile by a resent batch
            return DockResult(True, _("This scan was already received."), code=code)
        return DockResult(False, _("Box %(code)s was already scanned at %(time)s by %(who)s; nothing changed.")
                          % {"code": code, "time": formats.time_format(timezone.localtime(earlier.at), "H:i"),
                             "who": earlier.user.get_username() if earlier.user else "—"}, code=code)
    return DockResult(True, _("Box %(code)s of order %(order)s: counted.")
                      % {"code": code, "order": order.market_id}, code=code)


def take_off(shipment: Shipment, scan_id: int, user: User) -> DockResult:
    """A box of an order cancelled after it was scanned was taken off the pallet."""
    with transaction.atomic():
        found = HandoverScan.objects.filter(pk=scan_id, shipment=shipment).select_related("order").first()
        if found is None:
            return DockResult(False, _("That box is no longer on the list."))
        if found.order is None or found.order.status != OrderStatus.CANCELLED:
            return DockResult(False, _("Only a box of a cancelled order is taken off the pallet."))
        AuditEvent.objects.create(order_id=found.order_id, user=known_user(user), action="handover.taken_off",
                                  payload={"shipment": shipment.market_id, "code": found.barcode})
        found.delete()
    return DockResult(True, _("Box %(code)s was taken off the pallet.") % {"code": found.barcode})
