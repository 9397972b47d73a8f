"""A shipment's asynchronous documents: the assembly list and all its labels as one PDF.

The Market builds them (generateShipmentListDocumentReport, generateMassOrderLabelsReport); a task
polls getReportInfo until DONE and keeps the file. Labels come in the order the packers meet the
orders (the queue's: by order number) and are checked before they are offered: a label whose
barcode cannot be read or is not the box's is refused with the reason, never printed silently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import shared_task
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from fulfilment.market.client import MarketClient
from fulfilment.market.documents import ReportStatus
from fulfilment.market.errors import MarketError

from . import scheduling
from .clients import client_for
from .label_check import check_labels
from .mirror import market_layout
from .models import Order, OrderStatus, Shipment, ShipmentReport
from .refresh import refresh_orders
from .report_problems import MARKET_FAILED, MARKET_REFUSED, NO_LABELS, TOO_SLOW, Problem, problem
from .shipments import refresh_shipment

log = logging.getLogger("fulfilment.shipments")
Kind = ShipmentReport.Kind
State = ShipmentReport.State
MAX_POLLS = 150


def label_orders(shipment: Shipment) -> list[int]:
    """The orders whose labels the Market can print, in the order the packers meet them."""
    printable = set(shipment.with_labels)
    return sorted(Order.objects.filter(campaign_id=shipment.campaign_id, market_id__in=printable)
                  .exclude(status=OrderStatus.CANCELLED).values_list("market_id", flat=True))


def expected_barcodes(shipment: Shipment, order_ids: Sequence[int]) -> list[str]:
    """The boxes' barcodes the labels must carry (``delivery.boxesLayout``), order by order, box by box."""
    orders = {o.market_id: o for o in Order.objects.filter(campaign_id=shipment.campaign_id, market_id__in=order_ids)}
    return [b.barcode for market_id in order_ids if market_id in orders
            for b in market_layout(orders[market_id]) if b.barcode]


def label_problems(pdf: bytes, expected: Sequence[str]) -> list[Problem]:
    """Why these labels must not be printed, as codes (empty: they may)."""
    # Read as the stations' printers print them (orders/label_check.py), never offered unread.
    return check_labels(pdf, expected).found


def request_report(shipment: Shipment, kind: str, user: AbstractBaseUser | None = None) -> ShipmentReport:
    """Ask for a document; the task asks the Market and polls it."""
    with transaction.atomic():
        report = ShipmentReport.objects.create(
            shipment=shipment, kind=kind, requested_by=user if user is not None and user.is_authenticated else None)
        transaction.on_commit(lambda: build_report_task.delay(report.pk))
    return report


def _label_orders_now(report: ShipmentReport, client: MarketClient) -> list[int]:
    """Which orders' labels the Market can print now, with their box barcodes read again (the
    labels are checked against them); kept on the report in the order printed."""
    shipment = refresh_shipment(report.shipment_id, client)
    order_ids = label_orders(shipment)
    if order_ids:
        refresh_orders(shipment.campaign.business_id, order_ids, client)
    ShipmentReport.objects.filter(pk=report.pk).update(order_ids=order_ids)
    report.order_ids = order_ids
    return order_ids


def _finish(report: ShipmentReport, state: str, *, file: bytes | None = None,
            problems: Sequence[Problem] = ()) -> None:
    ShipmentReport.objects.filter(pk=report.pk, state=State.WAITING).update(
        state=state, file=file, problems=list(problems), finished_at=timezone.now())


def build(report_id: int) -> float | None:
    """One step: ask the Market, or poll it, or keep the file. Returns the seconds until the next step."""
    report = ShipmentReport.objects.select_related("shipment__campaign__business").get(pk=report_id)
    if report.state != State.WAITING:
        return None
    shipment = report.shipment
    client = client_for(shipment.campaign.business)
    try:
        if not report.report_id:
            if report.kind == Kind.LABELS:
                if not _label_orders_now(report, client):
                    _finish(report, State.REFUSED, problems=[problem(NO_LABELS)])
                    return None
                started = client.generate_mass_order_labels_report(shipment.campaign.business.market_id,
                                                                   report.order_ids)
            else:
                started = client.generate_shipment_list_document_report(shipment.campaign.market_id,
                                                                        shipment.market_id)
            ShipmentReport.objects.filter(pk=report.pk).update(report_id=started.report_id)
            return max(1.0, started.estimated_ms / 1000 / 3)
        info = client.get_report_info(report.report_id)
        if info.status == ReportStatus.FAILED:
            _finish(report, State.REFUSED, problems=[problem(MARKET_FAILED, reason=str(info.sub_status or "FAILED"))])
            return None
        if info.status != ReportStatus.DONE:
            return 1.0
        pdf = client.download_report_file(info)
    except MarketError as exc:
        if exc.retryable:
            return 5.0
        _finish(report, State.REFUSED, problems=[problem(MARKET_REFUSED, messages=list(exc.messages))])
        return None
    problems = label_problems(pdf, expected_barcodes(shipment, report.order_ids)) if report.kind == Kind.LABELS else []
    _finish(report, State.REFUSED if problems else State.DONE, file=None if problems else pdf, problems=problems)
    return None


@shared_task(name="fulfilment.orders.tasks.build_report_task", acks_late=True, ignore_result=True)
def build_report_task(report_id: int, polls: int = 0) -> None:
    """Ask for a shipment's document and poll until it is done (at most MAX_POLLS steps)."""
    wait = build(report_id)
    if wait is None:
        return
    if polls >= MAX_POLLS:
        report = ShipmentReport.objects.get(pk=report_id)
        _finish(report, State.REFUSED, problems=[problem(TOO_SLOW)])
        return
    build_report_task.apply_async((report_id, polls + 1), countdown=scheduling.countdown(wait))
