"""The Market's first-mile shipments of each shop, mirrored, and the staff's work on them: the
asynchronous documents asked for, and the boxes scanned at the dock."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..report_problems import describe, quoted
from .accounts import Campaign
from .orders import Order
from .packing import Box


class ShipmentStatus(models.TextChoices):
    """``ShipmentStatusType``, in the words the staff use."""

    OUTBOUND_CREATED = "OUTBOUND_CREATED", _("being formed")
    OUTBOUND_READY_FOR_CONFIRMATION = "OUTBOUND_READY_FOR_CONFIRMATION", _("formed, to be confirmed")
    OUTBOUND_CONFIRMED = "OUTBOUND_CONFIRMED", _("confirmed")
    OUTBOUND_SIGNED = "OUTBOUND_SIGNED", _("confirmed, act signed electronically")
    ACCEPTED = "ACCEPTED", _("accepted by the Market")
    ACCEPTED_WITH_DISCREPANCIES = "ACCEPTED_WITH_DISCREPANCIES", _("accepted with discrepancies")
    FINISHED = "FINISHED", _("finished")
    ERROR = "ERROR", _("cancelled by the Market because of an error")


class ShipmentType(models.TextChoices):
    IMPORT = "IMPORT", _("the seller brings it to the Market")
    WITHDRAW = "WITHDRAW", _("the Market collects it at the warehouse")


CONFIRMED_STATUSES = (ShipmentStatus.OUTBOUND_CONFIRMED, ShipmentStatus.OUTBOUND_SIGNED, ShipmentStatus.ACCEPTED,
                      ShipmentStatus.ACCEPTED_WITH_DISCREPANCIES, ShipmentStatus.FINISHED)


class Shipment(models.Model):
    """A shipment as the Market last described it (searchShipments, getShipment, getShipmentOrdersInfo)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="shipments",
                                 verbose_name=_("campaign"))
    market_id = models.BigIntegerField(_("shipment id at the Market"), unique=True)
    external_id = models.CharField(_("seller's shipment id"), max_length=255, blank=True)
    shipment_date = models.DateField(_("shipment date"), db_index=True)
    plan_from = models.DateTimeField(_("hand-over from"), null=True, blank=True)
    plan_to = models.DateTimeField(_("hand-over until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=64, choices=ShipmentStatus.choices)
    status_description = models.CharField(_("the Market's description"), max_length=255, blank=True)
    shipment_type = models.CharField(_("how it ships"), max_length=16, choices=ShipmentType.choices, blank=True)
    warehouse_name = models.CharField(_("warehouse"), max_length=255, blank=True)
    destination_name = models.CharField(_("destination"), max_length=255, blank=True)
    delivery_service_name = models.CharField(_("delivery service"), max_length=255, blank=True)
    draft_count = models.PositiveIntegerField(_("orders planned"), default=0)
    planned_count = models.PositiveIntegerField(_("orders ready"), default=0)
    fact_count = models.PositiveIntegerField(_("orders accepted"), default=0)
    signed = models.BooleanField(_("act signed"), default=False)
    pallets_planned = models.PositiveIntegerField(_("pallets declared"), null=True, blank=True)
    pallets_fact = models.PositiveIntegerField(_("pallets accepted"), null=True, blank=True)
    available_actions = models.JSONField(_("what the Market allows"), default=list, blank=True)
    order_ids = models.JSONField(_("orders (Market ids)"), default=list, blank=True)
    with_labels = models.JSONField(_("orders whose labels can be printed"), default=list, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipment_date", "campaign", "market_id"]

    def __str__(self) -> str:
        return f"{self.market_id} ({self.shipment_date:%d.%m.%Y})"

    def cutoff(self) -> dt.datetime:
        """When the Market forms the shipment: the shop's cutoff time on the shipment date (the
        schedule is set in the Market's cabinet and not available through the API)."""
        return dt.datetime.combine(self.shipment_date, self.campaign.shipment_cutoff,
                                   timezone.get_default_timezone())

    def allows(self, action: str) -> bool:
        return action in self.available_actions

    @property
    def is_confirmed(self) -> bool:
        return self.status in CONFIRMED_STATUSES


class ShipmentReport(models.Model):
    """A document the Market builds asynchronously for a shipment, and the file once it is done."""

    class Kind(models.TextChoices):
        ASSEMBLY_LIST = "ASSEMBLY_LIST", _("assembly list")
        LABELS = "LABELS", _("all labels of the shipment")

    class State(models.TextChoices):
        WAITING = "WAITING", _("the Market is preparing it")
        DONE = "DONE", _("ready")
        REFUSED = "REFUSED", _("refused")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="reports",
                                 verbose_name=_("shipment"))
    kind = models.CharField(_("document"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.WAITING)
    report_id = models.CharField(_("report id at the Market"), max_length=255, blank=True)
    order_ids = models.JSONField(_("orders, in the order printed"), default=list, blank=True)
    file = models.BinaryField(_("file"), null=True, blank=True)
    problems = models.JSONField(_("why it was refused"), default=list, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     verbose_name=_("asked by"))
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment document")
        verbose_name_plural = _("shipment documents")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def problem_lines(self) -> list[tuple[str, list[str]]]:
        """Each reason it was refused in the reader's words, with what the Market wrote as received."""
        return [(describe(p), quoted(p)) for p in self.problems]


class HandoverScan(models.Model):
    """A box label scanned at the dock for a shipment: once per box (the constraint holds it)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="handover_scans",
                                 verbose_name=_("shipment"))
    box = models.ForeignKey(Box, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name=_("box"))
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("order"))
    barcode = models.CharField(_("box barcode"), max_length=255)
    request_id = models.UUIDField(_("request id"), null=True, blank=True, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             verbose_name=_("scanned by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("box handed over")
        verbose_name_plural = _("boxes handed over")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "barcode"], name="handover_box_once"),
            models.CheckConstraint(condition=~Q(barcode=""), name="handover_barcode_not_empty"),
        ]

    def __str__(self) -> str:
        return self.barcode
