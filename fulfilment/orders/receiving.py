"""Receiving a return by scan, and the rules around it.

Each unit's marking code is compared with the codes this shop shipped in that order: the same code
is MATCHED; another code of the same product, a product not in the order, or a code this shop never
shipped is a mismatch, recorded with who and when. A code shipped here and back fit for sale may go
into a new order, but only once its return is received (``holding_instance``). Decisions go to the
Market through the outbox, within the Market's time, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _, ngettext

from fulfilment.codes.cis import CodeError, parse_cis
from fulfilment.codes.classify import Kind, classify, order_number
from fulfilment.market.returns import AvailableDecision, ItemDecision, ReturnDecisions

from . import outbox, return_decisions
from .models import (
    Grade,
    Instance,
    InstanceKind,
    MarketReturn,
    Match,
    OrderItem,
    OrderStatus,
    OutboxAction,
    ProductBarcode,
    ReturnUnit,
)

DEAD_STATUSES = (OrderStatus.CANCELLED, OrderStatus.RETURNED)


class ReceivingRefused(Exception):
    """A scan or a step refused, with the reason in the reader's language; nothing was changed."""


class ItemRefused(ReceivingRefused):
    """A decision refused because of one item: the page marks it."""

    def __init__(self, message: str, item_id: int | None) -> None:
        super().__init__(message)
        self.item_id = item_id


@dataclass(frozen=True)
class Received:
    unit: ReturnUnit
    again: bool  # the same scan sent twice: recognised, not doubled


def find_return(campaign_ids: list[int], text: str) -> MarketReturn | None:
    """The return a scanned order label, order number or return number opens (the newest of the order)."""
    number = order_number(text.strip())
    if number is None:
        return None
    found = MarketReturn.objects.filter(campaign_id__in=campaign_ids)
    return (found.filter(order_market_id=number).order_by("-market_id").first()
            or found.filter(market_id=number).first())


def _identity(code: str) -> str:
    """The КИ (01 + GTIN + 21 + serial) of a scanned Честный ЗНАК code, its tail dropped."""
    try:
        return parse_cis(code, substitutes=settings.SCANNER_GS_SUBSTITUTES).identification
    except CodeError:
        return code.split("\x1d")[0]


def _offer_for_gtin(record: MarketReturn, gtin: str) -> str:
    """The SKU a GTIN is, for this return: from the codes shipped in the order, else the shop's links."""
    for inst in Instance.objects.filter(order_id=record.order_id, kind=InstanceKind.CIS).select_related("item"):
        if inst.identity[2:16] == gtin:
            return inst.item.offer_id
    for offer_id, listed in OrderItem.objects.filter(order_id=record.order_id).values_list("offer_id",
                                                                                           "market_instances"):
        if any(_identity(x.get("cis") or "")[2:16] == gtin for x in listed or ()):
            return offer_id  # the Market's list of the order's codes names the product too
    link = ProductBarcode.objects.filter(campaign_id=record.campaign_id, gtin=gtin).exclude(offer_id="").first()
    return link.offer_id if link else ""


def _market_listed(record: MarketReturn, identity: str) -> str:
    """The SKU whose codes, as the Market lists them on the order (``items[].instances``), include this one."""
    if not record.order_id:
        return ""
    for offer_id, listed in OrderItem.objects.filter(order_id=record.order_id).values_list("offer_id",
                                                                                           "market_instances"):
        if any(identity in (_identity(x.get("cis") or ""), _identity(x.get("cisFull") or "")) for x in listed or ()):
            return offer_id
    return ""


def compare(record: MarketReturn, identity: str) -> tuple[Match, Instance | None, str]:
    """How a returned code compares with what this shop shipped in the return's order."""
    shipped = Instance.objects.filter(kind=InstanceKind.CIS, identity=identity)
    mine = shipped.filter(order_id=record.order_id).select_related("item").first() if record.order_id else None
    if mine is not None:
        return Match.MATCHED, mine, mine.item.offer_id
    listed = _market_listed(record, identity)
    if listed:  # packed elsewhere (the Market's cabinet, the demo's seeder): the Market's record of the codes
        return Match.MATCHED, None, listed
    offer = _offer_for_gtin(record, identity[2:16])
    if offer not in record.expected():
        return Match.NOT_IN_ORDER, None, offer
    if shipped.filter(order__campaign__business_id=record.campaign.business_id).exists():
        return Match.OTHER_CODE, None, offer
    return Match.NEVER_SHIPPED, None, offer


def receive_scan(record: MarketReturn, scan_id: uuid.UUID, text: str, user: AbstractBaseUser) -> Received:
    """One scan at the returns table: a unit's marking code, or the product barcode of a unit without one."""
    with transaction.atomic():
        record = MarketReturn.objects.select_for_update().get(pk=record.pk)
        again = ReturnUnit.objects.filter(scan_id=scan_id).first()
        if again is not None:
            return Received(again, True)
        if record.received_at:
            raise ReceivingRefused(_("This return is already received."))
        scan = classify(text, settings.SCANNER_GS_SUBSTITUTES)
        unit = ReturnUnit(record=record, scan_id=scan_id, scanned_by=user, scanned_at=timezone.now())
        if scan.kind == Kind.CIS:
            unit.code, unit.identity = scan.value, _identity(scan.value)
            unit.match, unit.shipped, unit.offer_id = compare(record, unit.identity)
        elif scan.kind == Kind.PRODUCT:
            unit.barcode, unit.offer_id = scan.value, _offer_for_gtin(record, scan.gtin)
            # Read in Python, not with a JSON ``contains`` lookup: SQLite (the embedded default) has none.
            marked = record.order is not None and any(
                "CIS" in (types or []) for types in record.order.items.filter(offer_id=unit.offer_id)
                .values_list("required_instance_types", flat=True))
            if marked:
                raise ReceivingRefused(_("This product carries a marking code: scan the code, not the barcode."))
            unit.match = Match.NO_CODE if unit.offer_id in record.expected() else Match.NOT_IN_ORDER
        else:
            raise ReceivingRefused(_("Not a product barcode or a marking code: nothing was recorded."))
        expected = record.expected().get(unit.offer_id, 0)
        taken = record.units.filter(offer_id=unit.offer_id, removed_at__isnull=True).count()
        if unit.offer_id and unit.match != Match.NOT_IN_ORDER and taken >= expected:
            raise ReceivingRefused(_all_received(unit.offer_id, expected))
        try:
            with transaction.atomic():
                unit.save()
        except IntegrityError as exc:
            raise ReceivingRefused(_("This code is already received in this return.")) from exc
        return Received(unit, False)


def mark_missing(record: MarketReturn, offer_id: str, user: AbstractBaseUser) -> ReturnUnit:
    """One unit of ``offer_id`` that the return holds but the parcel does not: recorded, with who and when."""
    with transaction.atomic():
        record = MarketReturn.objects.select_for_update().get(pk=record.pk)
        if record.received_at:
            raise ReceivingRefused(_("This return is already received."))
        expected = record.expected().get(offer_id, 0)
        if not expected:
            raise ReceivingRefused(_("%(sku)s is not in this return: nothing was recorded.") % {"sku": offer_id})
        if record.units.filter(offer_id=offer_id, removed_at__isnull=True).count() >= expected:
            raise ReceivingRefused(_all_received(offer_id, expected))
        return ReturnUnit.objects.create(record=record, scan_id=uuid.uuid4(), offer_id=offer_id, match=Match.MISSING,
                                         grade=Grade.MISSING, scanned_by=user, scanned_at=timezone.now())


def _all_received(sku: str, expected: int) -> str:
    return ((_("The only unit of %(sku)s is already received.") if expected == 1 else
             ngettext("All %(n)s unit of %(sku)s are already received.",
                      "All %(n)s units of %(sku)s are already received.", expected)) % {"n": expected, "sku": sku})


def grade_unit(unit: ReturnUnit, grade: str, note: str, user: AbstractBaseUser | None = None) -> ReturnUnit:
    """The unit's grade and note (changeable until the return is received), with who and when."""
    if grade not in Grade.values or grade == Grade.MISSING or unit.match == Match.MISSING:
        raise ReceivingRefused(_("Choose a grade."))
    if unit.record.received_at:
        raise ReceivingRefused(_("This return is already received."))
    if unit.removed_at:
        raise ReceivingRefused(_("This scan was removed from the return."))
    ReturnUnit.objects.filter(pk=unit.pk).update(grade=grade, note=note.strip()[:2000], graded_at=timezone.now(),
                                                 graded_by=user if user and user.is_authenticated else None)
    unit.refresh_from_db()
    return unit


def remove_extra(unit: ReturnUnit, user: AbstractBaseUser) -> ReturnUnit:
    """Take a scan made by mistake (a product not in the order) off the return, before it is received.
    The row stays, marked removed with who and when: the mismatch remains in the evidence."""
    with transaction.atomic():
        record = MarketReturn.objects.select_for_update().get(pk=unit.record_id)
        if record.received_at:
            raise ReceivingRefused(_("This return is already received."))
        if unit.match != Match.NOT_IN_ORDER:
            raise ReceivingRefused(_("Only a product that is not in the order can be removed from the return."))
        if not ReturnUnit.objects.filter(pk=unit.pk, removed_at__isnull=True).update(
                removed_at=timezone.now(), removed_by=user):
            raise ReceivingRefused(_("This scan was removed from the return."))
        unit.refresh_from_db()
        return unit


def finish_receiving(record: MarketReturn, user: AbstractBaseUser) -> MarketReturn:
    """The return is received: every unit scanned and graded. From now a fit unit's code is free."""
    with transaction.atomic():
        record = MarketReturn.objects.select_for_update().get(pk=record.pk)
        if record.received_at:
            raise ReceivingRefused(_("This return is already received."))
        units = list(record.units.filter(removed_at__isnull=True))
        if not units:
            raise ReceivingRefused(_("No unit is scanned yet."))
        if any(not u.grade for u in units):
            raise ReceivingRefused(_("Grade every unit first."))
        short = record.short()
        if short:
            missing = ", ".join(_("%(sku)s — %(got)s of %(n)s") % {"sku": sku, "got": got, "n": n}
                                for sku, (got, n) in sorted(short.items()))
            raise ReceivingRefused(_("Not every unit is received: %(missing)s. Scan each one, or mark a unit that "
                                     "is not in the parcel.") % {"missing": missing})
        record.received_at, record.received_by = timezone.now(), user
        record.save(update_fields=["received_at", "received_by"])
        return record


def holding_instance(kind: str, identity: str, order_id: int) -> tuple[Instance | None, MarketReturn | None]:
    """The shipped code that keeps ``identity`` out of another order, and the return it waits in (when
    it is coming back). A code is free once its order is dead and nothing of it comes back, or once
    it came back fit for sale in a received return."""
    released = ReturnUnit.objects.filter(shipped=OuterRef("pk"), grade=Grade.FIT, record__received_at__isnull=False,
                                         removed_at__isnull=True)
    coming = MarketReturn.objects.filter(order=OuterRef("order"), received_at__isnull=True)
    found = (Instance.objects.filter(kind=kind, identity=identity).exclude(order_id=order_id)
             .annotate(released=Exists(released), coming=Exists(coming)).filter(released=False)
             .filter(~Q(order__status__in=DEAD_STATUSES) | Q(coming=True)).select_related("order").first())
    if found is None:
        return None, None
    pending = MarketReturn.objects.filter(order=found.order, received_at__isnull=True).first()
    return found, pending


def submit_decisions(record: MarketReturn, decisions: list[ItemDecision], user: AbstractBaseUser,
                     available: Sequence[AvailableDecision] | None = None,
                     labels: dict[int, str] | None = None) -> OutboxAction:
    """Queue the decision for the Market: within its time, once (a second submit is refused), among the
    decisions the Market allows now (``available``, when read); a refused earlier one is withdrawn."""
    with transaction.atomic():
        record = MarketReturn.objects.select_for_update().get(pk=record.pk)
        till = record.decision_till
        if till is None:
            raise ReceivingRefused(_("The Market waits for no decision on this return."))
        if till < timezone.now():
            raise ReceivingRefused(_("The time to decide has passed: nothing was sent."))
        sent = OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION, payload__returnId=record.market_id)
        # A refused decision may be made again; one waiting or taken may not.
        if sent.exclude(state__in=(OutboxAction.State.FAILED, OutboxAction.State.SUPERSEDED)).exists():
            raise ReceivingRefused(_("A decision on this return is already sent."))
        if available is not None:
            try:
                return_decisions.check_allowed(decisions, available, labels or {})
            except return_decisions.DecisionRefused as exc:
                raise ItemRefused(str(exc), exc.item_id) from None
        return_decisions.supersede_refused(record, user)
        change = ReturnDecisions(record.order_market_id, record.market_id, tuple(decisions))
        return outbox.enqueue(record.campaign, change, order=record.order, user=user)


def decision_action(record: MarketReturn) -> OutboxAction | None:
    """The latest decision sent for this return (its state shows whether the Market took it)."""
    return (OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION, payload__returnId=record.market_id)
            .order_by("-id").first())
