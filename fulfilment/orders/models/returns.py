"""Returns and unredeemed orders mirrored from the Market, and the units received back by scan.

A return is the Market's (``ReturnDTO``, kept whole in ``payload``); its order here, when the
dashboard has it, links it to the codes this shop shipped. Each unit received is a row: the code
scanned, how it compares with what was shipped, its grade and note, who scanned it and when.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from .accounts import Campaign
from .orders import Order
from .packing import Instance

WAITING_FOR_DECISION = ("PREMODERATION_DECISION_WAITING", "WAITING_FOR_DECISION")
COMING = ("CREATED", "RECEIVED", "IN_TRANSIT", "READY_FOR_PICKUP")


class ReturnKind(models.TextChoices):
    RETURN = "RETURN", _("buyer's return")
    UNREDEEMED = "UNREDEEMED", _("unredeemed order")


class ReturnShipment(models.TextChoices):
    CREATED = "CREATED", _("created by the buyer")
    RECEIVED = "RECEIVED", _("taken from the buyer")
    IN_TRANSIT = "IN_TRANSIT", _("on its way")
    READY_FOR_PICKUP = "READY_FOR_PICKUP", _("ready for pickup")
    PICKED = "PICKED", _("handed to the shop")
    LOST = "LOST", _("lost")
    EXPIRED = "EXPIRED", _("not brought in time")
    CANCELLED = "CANCELLED", _("cancelled")
    NOT_IN_DEMAND = "NOT_IN_DEMAND", _("not collected")
    FULFILMENT_RECEIVED = "FULFILMENT_RECEIVED", _("received at the Market's warehouse")
    PREPARED_FOR_UTILIZATION = "PREPARED_FOR_UTILIZATION", _("to be disposed of")
    UTILIZED = "UTILIZED", _("disposed of")
    READY_FOR_EXPROPRIATION = "READY_FOR_EXPROPRIATION", _("to be taken over by the Market")
    RECEIVED_FOR_EXPROPRIATION = "RECEIVED_FOR_EXPROPRIATION", _("taken over by the Market")
    UNKNOWN = "UNKNOWN", _("not known")


class Grade(models.TextChoices):
    FIT = "FIT", _("fit for sale")
    DEFECTIVE = "DEFECTIVE", _("defective")
    WRONG_ITEM = "WRONG_ITEM", _("wrong item")
    INCOMPLETE = "INCOMPLETE", _("incomplete")
    MISSING = "MISSING", _("not in the parcel")  # only for a unit marked missing, never chosen for a scanned one


class Match(models.TextChoices):
    MATCHED = "MATCHED", _("the code we shipped")
    OTHER_CODE = "OTHER_CODE", _("another code of the same product")
    NOT_IN_ORDER = "NOT_IN_ORDER", _("a product not in the order")
    NEVER_SHIPPED = "NEVER_SHIPPED", _("a code this shop never shipped")
    NO_CODE = "NO_CODE", _("a unit without a marking code")
    MISSING = "MISSING", _("not in the parcel")


class MarketReturn(models.Model):
    """A return or an unredeemed order of one of our shops, as the Market last described it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="returns",
                                 verbose_name=_("campaign"))
    market_id = models.BigIntegerField(_("return number"))
    order_market_id = models.BigIntegerField(_("order number"))
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="returns",
                              verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=16, choices=ReturnKind.choices)
    refund_status = models.CharField(_("refund status"), max_length=64, blank=True)
    shipment_status = models.CharField(_("where it is"), max_length=64, blank=True)
    pickup_point = models.CharField(_("pickup point"), max_length=512, blank=True)
    pickup_address = models.CharField(_("pickup address"), max_length=512, blank=True)
    pickup_instruction = models.TextField(_("how to collect it"), blank=True)
    pickup_till = models.DateTimeField(_("collect by"), null=True, blank=True)
    created_at_market = models.DateTimeField(_("created at the Market"), null=True, blank=True)
    updated_at_market = models.DateTimeField(_("changed at the Market"), null=True, blank=True)
    payload = models.JSONField(_("the Market's description"), default=dict)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("received by"))
    synced_at = models.DateTimeField(_("read from the Market"), auto_now=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["pickup_till", "-market_id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "market_id"], name="return_unique_per_campaign")]
        indexes = [models.Index(fields=["order_market_id"], name="return_order_idx")]

    def __str__(self) -> str:
        return str(self.market_id)

    @property
    def decision_till(self) -> dt.datetime | None:
        """Until when the seller may decide: only while the Market waits for a decision. The Partner API gives
        no deadline (ReturnDTO, ReturnDecisionDTO, getReturnAvailableDecisions and submitReturnDecision have
        none), so it is ``RETURN_DECISION_HOURS`` from the return's creationDate: an assumption, a setting."""
        if self.refund_status not in WAITING_FOR_DECISION or self.created_at_market is None:
            return None
        return self.created_at_market + dt.timedelta(hours=settings.RETURN_DECISION_HOURS)

    @property
    def shipment_label(self) -> str:
        """Where it is, in plain words (the field keeps any status the Market sends: one added later
        is said as "other (VALUE)", never bare)."""
        if not self.shipment_status:
            return "—"
        if self.shipment_status in ReturnShipment.values:
            return str(ReturnShipment(self.shipment_status).label)
        return gettext("other (%(value)s)") % {"value": self.shipment_status}

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        """Still to be collected after its pickup deadline."""
        return bool(self.pickup_till and self.shipment_status == ReturnShipment.READY_FOR_PICKUP
                    and self.pickup_till < (now or timezone.now()))

    def short(self) -> dict[str, tuple[int, int]]:
        """The SKUs of which fewer units are received (scanned or marked missing) than come back: (got, expected)."""
        got: dict[str, int] = {}
        for offer_id in self.units.values_list("offer_id", flat=True):
            got[offer_id] = got.get(offer_id, 0) + 1
        return {sku: (got.get(sku, 0), n) for sku, n in self.expected().items() if got.get(sku, 0) < n}

    def expected(self) -> dict[str, int]:
        """The units coming back, by SKU."""
        out: dict[str, int] = {}
        for item in self.payload.get("items") or ():
            out[item["shopSku"]] = out.get(item["shopSku"], 0) + int(item.get("count") or 0)
        return out


class ReturnUnit(models.Model):
    """One unit received back: what was scanned, how it compares with what was shipped, its grade."""

    record = models.ForeignKey(MarketReturn, on_delete=models.CASCADE, related_name="units", verbose_name=_("return"))
    scan_id = models.UUIDField(_("scan"), unique=True)  # a resent scan is recognised, never doubled
    offer_id = models.CharField(_("SKU"), max_length=255, blank=True)
    barcode = models.CharField(_("product barcode"), max_length=64, blank=True)
    code = models.TextField(_("marking code"), blank=True)
    identity = models.CharField(_("identity"), max_length=128, blank=True)
    shipped = models.ForeignKey(Instance, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="returned_units", verbose_name=_("the code we shipped"))
    match = models.CharField(_("comparison"), max_length=16, choices=Match.choices)
    grade = models.CharField(_("grade"), max_length=16, choices=Grade.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    scanned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("scanned by"))
    scanned_at = models.DateTimeField(_("scanned at"), default=timezone.now)

    class Meta:
        verbose_name = _("returned unit")
        verbose_name_plural = _("returned units")
        ordering = ["record", "scanned_at", "id"]
        constraints = [
            # A code comes back once per return.
            models.UniqueConstraint(fields=["record", "identity"], condition=~Q(identity=""),
                                    name="return_unit_code_once"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.match}"

    @property
    def is_mismatch(self) -> bool:
        return self.match in (Match.OTHER_CODE, Match.NOT_IN_ORDER, Match.NEVER_SHIPPED)
