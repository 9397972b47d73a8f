"""Staff's packing work: boxes, their lines, the codes scanned, and which barcode is which SKU."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .accounts import Business, Campaign
from .orders import Order, OrderItem
from .vocabulary import InstanceKind, Verification


class Box(models.Model):
    """A box (cargo place) of an order's layout, numbered from 1."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="boxes", verbose_name=_("order"))
    number = models.PositiveIntegerField(_("box number"))
    market_box_id = models.BigIntegerField(_("box id at the Market"), null=True, blank=True)
    barcode = models.CharField(_("box barcode"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("box")
        verbose_name_plural = _("boxes")
        ordering = ["order", "number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="box_number_unique_per_order"),
            models.CheckConstraint(condition=Q(number__gte=1), name="box_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} #{self.number}"


class BoxLine(models.Model):
    """Units of an item in a box: ``full_count`` whole units, or part ``part_current`` of
    ``part_total`` of unit number ``unit`` (``OrderBoxLayoutItemDTO``: fullCount | partialCount)."""

    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="lines", verbose_name=_("box"))
    item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="box_lines", verbose_name=_("item"))
    full_count = models.PositiveIntegerField(_("whole units"), null=True, blank=True)
    unit = models.PositiveIntegerField(_("unit"), null=True, blank=True, help_text=_("Which unit a part belongs to"))
    part_current = models.PositiveIntegerField(_("part"), null=True, blank=True)
    part_total = models.PositiveIntegerField(_("of parts"), null=True, blank=True)

    class Meta:
        verbose_name = _("box line")
        verbose_name_plural = _("box lines")
        constraints = [
            models.CheckConstraint(
                name="boxline_whole_xor_part",
                condition=(
                    # Explicit IS NOT NULL: a CHECK passes when its expression is NULL.
                    Q(full_count__isnull=False, full_count__gte=1, unit__isnull=True, part_current__isnull=True,
                      part_total__isnull=True)
                    | Q(
                        full_count__isnull=True,
                        unit__isnull=False,
                        part_current__isnull=False,
                        part_total__isnull=False,
                        unit__gte=1,
                        part_current__gte=1,
                        part_total__gte=2,
                        part_current__lte=models.F("part_total"),
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["box", "item"], condition=Q(full_count__isnull=False), name="boxline_one_whole_line_per_item"
            ),
            # Parts 1..N of one unit each appear exactly once.
            models.UniqueConstraint(
                fields=["item", "unit", "part_current"],
                condition=Q(part_current__isnull=False),
                name="boxline_part_once",
            ),
        ]

    def __str__(self) -> str:
        if self.full_count is not None:
            return f"{self.item_id} × {self.full_count}"
        return f"{self.item_id} unit {self.unit} part {self.part_current}/{self.part_total}"


class Instance(models.Model):
    """A marking code scanned for one unit of an item (``BriefOrderItemInstanceDTO``)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="instances", verbose_name=_("order"))
    item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="instances", verbose_name=_("item"))
    unit = models.PositiveIntegerField(_("unit"))
    kind = models.CharField(_("kind"), max_length=8, choices=InstanceKind.choices)
    # Exactly as scanned, GS (chr 29) included; never stripped or normalised.
    value = models.TextField(_("code"))
    # What makes two scans the same unit: the КИ (01+GTIN+21+serial) for Честный ЗНАК, else the value.
    identity = models.CharField(_("identity"), max_length=128, blank=True)
    country_code = models.CharField(_("country"), max_length=2, blank=True)
    box = models.ForeignKey(
        Box, on_delete=models.SET_NULL, null=True, blank=True, related_name="instances", verbose_name=_("box")
    )
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("scanned by")
    )
    scanned_at = models.DateTimeField(_("scanned at"), auto_now_add=True)
    verification = models.CharField(
        _("check at the Market"), max_length=16, choices=Verification.choices, default=Verification.NOT_SENT
    )
    verification_message = models.TextField(_("check result"), blank=True)

    class Meta:
        verbose_name = _("marking code")
        verbose_name_plural = _("marking codes")
        ordering = ["item", "unit", "kind"]
        constraints = [
            # One code of each kind per unit...
            models.UniqueConstraint(fields=["item", "unit", "kind"], name="instance_one_per_unit_and_kind"),
            # ...and a code used at most once in an order.
            models.UniqueConstraint(fields=["order", "kind", "value"], name="instance_code_once_per_order"),
            models.CheckConstraint(condition=Q(unit__gte=1), name="instance_unit_positive"),
            models.CheckConstraint(
                condition=Q(country_code="") | Q(country_code__regex=r"^[A-Z]{2}$"),
                name="instance_country_code_iso2",
            ),
            models.CheckConstraint(condition=~Q(value=""), name="instance_value_not_empty"),
        ]
        indexes = [
            models.Index(fields=["kind", "value"], name="instance_value_idx"),
            models.Index(fields=["kind", "identity"], name="instance_identity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value!r}"


class CatalogueOffer(models.Model):
    """An SKU as the seller's catalogue on the Market lists it (getOfferMappings): its barcodes and
    first picture. Kept per business, as the catalogue is; refreshed when older than a day."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="catalogue",
                                 verbose_name=_("business"))
    offer_id = models.CharField(_("SKU"), max_length=255)
    name = models.CharField(_("name"), max_length=512, blank=True)
    barcodes = models.JSONField(_("barcodes"), default=list, blank=True,
                                help_text=_("As the seller gave them in the catalogue."))
    picture = models.URLField(_("picture"), max_length=2000, blank=True)
    # A copy of the picture kept here (fetched by the worker, see orders/pictures.py): the station's
    # pages show it from the dashboard itself, fast and whatever the handheld's network lets through.
    picture_file = models.FileField(_("picture kept here"), upload_to="pictures/", blank=True)
    picture_type = models.CharField(_("picture type"), max_length=40, blank=True)
    picture_of = models.URLField(_("picture kept from"), max_length=2000, blank=True,
                                 help_text=_("The address the kept copy was read from."))
    in_catalogue = models.BooleanField(_("in the catalogue"), default=True,
                                       help_text=_("Off when the Market did not know this SKU when last asked."))
    fetched_at = models.DateTimeField(_("read from the Market"))

    class Meta:
        verbose_name = _("catalogue SKU")
        verbose_name_plural = _("catalogue SKUs")
        ordering = ["business", "offer_id"]
        constraints = [models.UniqueConstraint(fields=["business", "offer_id"], name="catalogue_offer_unique")]

    def __str__(self) -> str:
        return self.offer_id


class ProductBarcode(models.Model):
    """Which SKU of the campaign a GTIN is, where that came from, and the serial length of its
    Честный ЗНАК codes once one was seen with its GS separators. Links come from the seller's
    catalogue or from a person who confirmed them; a scan alone never makes one."""

    class Source(models.TextChoices):
        CATALOGUE = "CATALOGUE", _("the seller's catalogue on the Market")
        CONFIRMED = "CONFIRMED", _("confirmed by a person")
        LEARNT = "LEARNT", _("learnt by an earlier version from a scan: check it")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="barcodes",
                                 verbose_name=_("campaign"))
    gtin = models.CharField(_("GTIN"), max_length=14)
    offer_id = models.CharField(_("SKU"), max_length=255, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.CONFIRMED)
    serial_length = models.PositiveSmallIntegerField(_("serial length"), null=True, blank=True)
    learnt_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("confirmed by")
    )
    learnt_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("product barcode")
        verbose_name_plural = _("product barcodes")
        ordering = ["campaign", "offer_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "gtin"], name="barcode_unique_per_campaign"),
            models.CheckConstraint(condition=Q(gtin__regex=r"^[0-9]{14}$"), name="barcode_gtin_14_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.gtin} → {self.offer_id or '?'}"
