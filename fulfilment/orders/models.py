"""The local mirror of the Market (businesses, campaigns, orders, items) and staff's packing work.

Field names follow the Partner API (see ../shared/market-api/orders-openapi.yaml). Status-like
fields are free text with known choices for display: the Market says other values may be returned,
and an unknown one must be kept, not refused.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from . import flags
from .encryption import EncryptedTextField


class PlacementModel(models.TextChoices):
    FBS = "FBS", "FBS"
    EXPRESS = "EXPRESS", "Express"
    DBS = "DBS", "DBS"
    # Logistics as a service: the Market delivers for the shop; only here may the recipient and the
    # courier interval be changed (updateOrder is tagged laas in the spec).
    LAAS = "LAAS", "LaaS"


class OrderStatus(models.TextChoices):
    """``OrderStatusType``; the values a packing team meets, the rest kept as text."""

    PLACING = "PLACING", _("Being placed")
    RESERVED = "RESERVED", _("Reserved")
    UNPAID = "UNPAID", _("Unpaid")
    PROCESSING = "PROCESSING", _("Processing")
    DELIVERY = "DELIVERY", _("In delivery")
    PICKUP = "PICKUP", _("At pickup point")
    DELIVERED = "DELIVERED", _("Delivered")
    CANCELLED = "CANCELLED", _("Cancelled")
    PENDING = "PENDING", _("Pending")
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED", _("Partially returned")
    RETURNED = "RETURNED", _("Returned")
    UNKNOWN = "UNKNOWN", _("Unknown")


class OrderSubstatus(models.TextChoices):
    """``OrderSubstatusType``; the values packing meets, the rest kept as text."""

    STARTED = "STARTED", _("Started")
    PACKAGING = "PACKAGING", _("Packaging")
    READY_TO_SHIP = "READY_TO_SHIP", _("Ready to ship")
    SHIPPED = "SHIPPED", _("Shipped")
    SHOP_FAILED = "SHOP_FAILED", _("Cancelled by the shop")


# Substatuses of PROCESSING in which the seller packs (the Market's STARTED, then PACKAGING).
PACKING_SUBSTATUSES = (OrderSubstatus.STARTED, OrderSubstatus.PACKAGING)
# The Market's deadlines: keys for digital goods within 30 minutes of PROCESSING; a buyer's
# cancellation request is decided within 48 hours or the Market cancels the order itself.
DIGITAL_WINDOW = dt.timedelta(minutes=30)
CANCELLATION_DEADLINE = dt.timedelta(hours=48)


class DeliveryType(models.TextChoices):
    """``OrderDeliveryType``; the values the dashboard acts on, the rest kept as text."""

    DELIVERY = "DELIVERY", _("Courier delivery")
    PICKUP = "PICKUP", _("Pickup point")
    POST = "POST", _("Post")
    DIGITAL = "DIGITAL", _("Digital goods")


class InstanceType(models.TextChoices):
    """``OrderItemInstanceType`` as required by an item."""

    CIS = "CIS", _("Chestny ZNAK code")
    CIS_OPTIONAL = "CIS_OPTIONAL", _("Chestny ZNAK code (optional)")
    UIN = "UIN", _("Jewelry UIN")
    RNPT = "RNPT", _("RNPT")
    GTD = "GTD", _("Customs declaration (GTD)")


class InstanceKind(models.TextChoices):
    """Which field of ``BriefOrderItemInstanceDTO`` a scanned code fills."""

    CIS = "CIS", _("Chestny ZNAK code")
    UIN = "UIN", _("Jewelry UIN")
    RNPT = "RNPT", _("RNPT")
    GTD = "GTD", _("Customs declaration (GTD)")


class Verification(models.TextChoices):
    NOT_SENT = "NOT_SENT", _("Not sent")
    PROCESSING = "PROCESSING", _("Being checked")
    OK = "OK", _("Accepted")
    ERROR = "ERROR", _("Rejected")


class Problem(models.TextChoices):
    """Why a packer took an order out of the packing flow."""

    MISSING = "MISSING", _("Item missing")
    DEFECTIVE = "DEFECTIVE", _("Item defective")
    WRONG_PRODUCT = "WRONG_PRODUCT", _("Wrong product")
    OTHER = "OTHER", _("Other problem")


class SyncState(models.Model):
    """Where the last sync with the Market stopped and how it went."""

    sync_watermark = models.DateTimeField(
        _("synced up to"), null=True, blank=True, help_text=_("updatedAt of the last complete pass")
    )
    sync_started_at = models.DateTimeField(_("sync running since"), null=True, blank=True)
    last_sync_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    last_sync_error_at = models.DateTimeField(_("last sync error at"), null=True, blank=True)
    last_sync_orders = models.PositiveIntegerField(_("orders in the last sync"), default=0)

    class Meta:
        abstract = True


def new_notification_secret() -> str:
    """The unguessable part of a business's notification URL (256 bits)."""
    return secrets.token_urlsafe(32)


class NotificationState(models.Model):
    """How the Market's push notifications to a business are doing; the beat reads it to decide
    whether polling can slow down (see ``Business.sync_due``)."""

    notification_secret = models.CharField(
        _("notification secret"), max_length=64, unique=True, default=new_notification_secret, editable=False,
        help_text=_("Part of the notification URL; whoever knows it can send notifications for this business."),
    )
    last_notification_at = models.DateTimeField(_("last notification"), null=True, blank=True)
    last_ping_at = models.DateTimeField(_("last PING"), null=True, blank=True)
    notification_failures = models.PositiveIntegerField(_("notification failures"), default=0)
    last_notification_failure = models.TextField(_("last notification failure"), blank=True)
    last_notification_failure_at = models.DateTimeField(_("last notification failure at"), null=True, blank=True)

    class Meta:
        abstract = True

    def notifications_healthy(self, now: dt.datetime) -> bool:
        """A notification (or PING) arrived within MARKET_NOTIFICATION_HEALTHY_MINUTES and none failed
        (was malformed, or its refresh gave up) within that time: something may have been missed."""
        window = dt.timedelta(minutes=settings.MARKET_NOTIFICATION_HEALTHY_MINUTES)
        last, failed = self.last_notification_at, self.last_notification_failure_at
        return bool(last and now - last <= window and not (failed and now - failed <= window))


class Business(NotificationState, SyncState):
    """A Market business (cabinet). API keys are issued per business, so the token lives here."""

    class AuthScheme(models.TextChoices):
        API_KEY = "API_KEY", _("Api-Key header")
        OAUTH = "OAUTH", _("OAuth bearer token")

    market_id = models.BigIntegerField(_("Market business id"), unique=True)
    name = models.CharField(_("name"), max_length=255)
    api_base_url = models.URLField(
        _("API base URL"), default="https://api.partner.market.yandex.ru",
        help_text=_("The Partner API, or the sandbox Market for training."),
    )
    auth_scheme = models.CharField(
        _("authorisation"), max_length=16, choices=AuthScheme.choices, default=AuthScheme.API_KEY
    )
    # Encrypted at rest (FIELD_ENCRYPTION_KEYS) and never rendered back: the admin shows only whether it is set.
    api_token = EncryptedTextField(_("API token"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    credentials_error = models.TextField(
        _("credential problem"), blank=True, help_text=_("Set when the Market answered 401/403; sync stops.")
    )

    class Meta:
        verbose_name = _("business")
        verbose_name_plural = _("businesses")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.market_id})"

    @property
    def has_token(self) -> bool:
        return bool(self.api_token)

    def sync_due(self, now: dt.datetime) -> bool:
        """Every beat (each minute), unless notifications are healthy: then a reconciliation pass every
        SYNC_RECONCILE_MINUTES, the notifications' targeted refreshes doing the rest in between."""
        if not self.notifications_healthy(now) or self.last_sync_success_at is None:
            return True
        # Less one beat: a pass that finished a few seconds after a beat is due at the beat before.
        every = dt.timedelta(minutes=settings.SYNC_RECONCILE_MINUTES, seconds=-settings.SYNC_INTERVAL_SECONDS)
        return now - self.last_sync_success_at >= every


class Campaign(SyncState):
    """A Market campaign, i.e. a shop, with its placement model."""

    market_id = models.BigIntegerField(_("Market campaign id"), unique=True)
    business = models.ForeignKey(
        Business, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("business")
    )
    name = models.CharField(_("name"), max_length=255)
    placement_model = models.CharField(
        _("placement model"), max_length=16, choices=PlacementModel.choices, default=PlacementModel.FBS
    )
    is_active = models.BooleanField(_("active"), default=True)
    credentials_error = models.TextField(_("credential problem"), blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.market_id})"


class OrderQuerySet(models.QuerySet["Order"]):
    def to_pack(self) -> OrderQuerySet:
        """Orders in the packing queue: being packed at the Market, no problem reported, an active shop."""
        return self.filter(to_pack_condition(), campaign__is_active=True)

    def needing_attention(self) -> OrderQuerySet:
        """Orders someone must look at: flagged by sync, a problem reported, or an action the Market refused."""
        return self.filter(attention_condition()).distinct()


def to_pack_condition(prefix: str = "") -> Q:
    """"To pack" as a condition, for counting through a relation (``prefix`` like ``"orders__"``)."""
    return Q(**{f"{prefix}status": OrderStatus.PROCESSING, f"{prefix}substatus__in": PACKING_SUBSTATUSES,
                f"{prefix}problem": ""})


def attention_condition(prefix: str = "") -> Q:
    """"Needs attention" as a condition; through a relation, count it with ``distinct=True``
    (an order can have several refused actions)."""
    return (Q(**{f"{prefix}outbox__state": OutboxAction.State.FAILED}) | ~Q(**{f"{prefix}flag_reason": ""})
            | ~Q(**{f"{prefix}problem": ""}))


class Order(models.Model):
    # Indexes cost every synced row: only those a query uses (the unique pair serves campaign lookups).
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="orders", verbose_name=_("campaign"), db_index=False
    )
    market_id = models.BigIntegerField(_("order number"))
    external_order_id = models.CharField(_("external order id"), max_length=255, blank=True)
    program_type = models.CharField(_("selling program"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=64, choices=OrderStatus.choices)
    substatus = models.CharField(_("substatus"), max_length=64, blank=True)
    created_at_market = models.DateTimeField(_("created"), null=True, blank=True)
    updated_at_market = models.DateTimeField(_("updated at the Market"), null=True, blank=True, db_index=True)
    expiry_date = models.DateTimeField(_("expires"), null=True, blank=True)
    shipment_date = models.DateField(_("shipment date"), null=True, blank=True, db_index=True)
    shipment_time = models.CharField(_("shipment time"), max_length=16, blank=True)
    shipment_id = models.BigIntegerField(_("shipment id"), null=True, blank=True)
    delivery_type = models.CharField(_("delivery type"), max_length=32, blank=True)
    dispatch_type = models.CharField(_("dispatch type"), max_length=32, blank=True)
    delivery_service_name = models.CharField(_("delivery service"), max_length=255, blank=True)
    buyer_type = models.CharField(_("buyer type"), max_length=16, blank=True)
    payment_type = models.CharField(_("payment type"), max_length=32, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=64, blank=True)
    fake = models.BooleanField(_("test order"), default=False)
    cancel_requested = models.BooleanField(_("buyer asked to cancel"), default=False)
    cancel_requested_at = models.DateTimeField(_("cancellation asked at"), null=True, blank=True)
    processing_at = models.DateTimeField(
        _("processing since"), null=True, blank=True,
        help_text=_("When the order reached PROCESSING, as far as the sync can tell (the Market does not say)."))
    currency = models.CharField(_("currency"), max_length=8, default="RUR")
    items_total = models.DecimalField(_("items total"), max_digits=14, decimal_places=2, default=0)
    delivery_total = models.DecimalField(_("delivery total"), max_digits=14, decimal_places=2, default=0)
    subsidy_total = models.DecimalField(_("subsidies"), max_digits=14, decimal_places=2, default=0)
    notes = models.TextField(_("buyer's notes"), blank=True)
    raw = models.JSONField(_("payload from the Market"), default=dict, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)

    # Local state.
    flag_reason = models.TextField(
        _("needs attention"), blank=True, help_text=_("Why the order was taken out of the packing flow.")
    )
    version = models.PositiveIntegerField(default=0, help_text=_("Bumped on every packing change."))
    current_box = models.PositiveIntegerField(_("current box"), default=1)
    layout_version = models.PositiveIntegerField(
        _("layout version"), default=0, help_text=_("Bumped whenever boxes or their contents change.")
    )
    layout_sent_version = models.PositiveIntegerField(_("layout version sent"), null=True, blank=True)
    labels_printed_version = models.PositiveIntegerField(_("layout version of printed labels"), null=True, blank=True)
    identifiers_checked_at = models.DateTimeField(_("codes last checked"), null=True, blank=True)
    problem = models.CharField(_("problem"), max_length=16, choices=Problem.choices, blank=True)
    problem_note = models.TextField(_("problem details"), blank=True)
    problem_item = models.ForeignKey(
        "OrderItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("problem item")
    )
    problem_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("problem reported by"),
    )
    problem_at = models.DateTimeField(_("problem reported at"), null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["shipment_date", "market_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "market_id"], name="order_unique_per_campaign"),
            models.CheckConstraint(condition=Q(market_id__gt=0), name="order_market_id_positive"),
            models.CheckConstraint(
                condition=Q(items_total__gte=0) & Q(delivery_total__gte=0), name="order_totals_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "substatus", "shipment_date"], name="order_queue_idx"),
            # Few orders have a problem at a time: a partial index costs the sync nothing.
            models.Index(fields=["problem_at"], condition=~Q(problem=""), name="order_problem_idx"),
        ]

    def __str__(self) -> str:
        return str(self.market_id)

    @property
    def flag_text(self) -> str:
        """``flag_reason`` in the reader's language: sync stores codes (see ``orders/flags.py``)."""
        return flags.text(self.flag_reason)

    @property
    def is_processing(self) -> bool:
        return self.status == OrderStatus.PROCESSING

    @property
    def is_packable(self) -> bool:
        """The Market lets the seller pack it now (an order synced without a substatus counts too)."""
        return self.is_processing and (self.substatus in PACKING_SUBSTATUSES or not self.substatus)

    @property
    def is_ready_to_ship(self) -> bool:
        return self.substatus == OrderSubstatus.READY_TO_SHIP

    @property
    def is_dbs(self) -> bool:
        """The shop delivers it itself: codes go by PUT identifiers, boxes only as a number of cargo places."""
        return self.campaign.placement_model == PlacementModel.DBS

    @property
    def is_laas(self) -> bool:
        """Delivered by the Market as a logistics service (PlacementType LAAS): updateOrder applies."""
        return self.campaign.placement_model == PlacementModel.LAAS

    @property
    def is_digital(self) -> bool:
        """Digital goods: no boxes, the buyer gets keys by e-mail."""
        return self.delivery_type == DeliveryType.DIGITAL

    @property
    def is_courier_delivery(self) -> bool:
        return self.delivery_type == DeliveryType.DELIVERY

    def digital_deadline(self) -> dt.datetime | None:
        """When the keys are due: 30 minutes after the order reached PROCESSING (earliest estimate)."""
        since = self.processing_at or (self.created_at_market if self.status == OrderStatus.PROCESSING else None)
        return since + DIGITAL_WINDOW if since else None

    def cancellation_deadline(self) -> dt.datetime | None:
        """When the Market cancels the order by itself if nobody answers the buyer's request."""
        since = self.cancel_requested_at or self.updated_at_market
        return since + CANCELLATION_DEADLINE if since else None

    def bump_version(self, *, layout: bool = False, save: tuple[str, ...] = ()) -> None:
        """Count one more change (and one more change of the layout) in one UPDATE with ``F()``,
        so that no concurrent bump is lost; ``save`` names fields of this object the same UPDATE
        writes. With the row locked (``select_for_update``) the new values are known without
        reading them back, so they are set here too."""
        bump = {"version": F("version") + 1, **{name: getattr(self, name) for name in save}}
        if layout:
            bump["layout_version"] = F("layout_version") + 1
        Order.objects.filter(pk=self.pk).update(**bump)
        self.version += 1
        if layout:
            self.layout_version += 1


class OrderItem(models.Model):
    # The unique (order, market_item_id) index serves lookups by order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("order"),
                              db_index=False)
    market_item_id = models.BigIntegerField(_("item id at the Market"))
    offer_id = models.CharField(_("SKU"), max_length=255)
    name = models.CharField(_("name"), max_length=1024)
    count = models.PositiveIntegerField(_("quantity"))
    price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2, default=0)
    buyer_price = models.DecimalField(_("buyer's unit price"), max_digits=14, decimal_places=2, default=0)
    payment_total = models.DecimalField(_("paid for all units"), max_digits=14, decimal_places=2, default=0)
    subsidy_total = models.DecimalField(_("subsidy for all units"), max_digits=14, decimal_places=2, default=0)
    vat = models.CharField(_("VAT"), max_length=32, blank=True)
    required_instance_types = models.JSONField(_("required codes"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    promos = models.JSONField(_("promos"), default=list, blank=True)
    market_instances = models.JSONField(
        _("codes known to the Market"), default=list, blank=True,
        help_text=_("instances as the Market returned them (cis, cisFull, uin, rnpt, gtd, countryCode)"),
    )

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "market_item_id"], name="item_unique_per_order"),
            models.CheckConstraint(condition=Q(count__gte=1), name="item_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} × {self.count}"


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


class AuditEvent(models.Model):
    """Who did what to which order, and when."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("user")
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    # The browser's id for a scan: a resent request is recognised and not applied twice.
    request_id = models.UUIDField(_("request id"), null=True, blank=True, unique=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action}"


class OutboxAction(models.Model):
    """A change for the Market, written in the same transaction as the local change that caused it.

    Delivered by a Celery task; per order strictly in creation order (a layout before its
    ready-to-ship). A newer layout of an order supersedes an older one not yet sent.
    """

    class Kind(models.TextChoices):
        LAYOUT = "LAYOUT", _("box layout")
        STATUS = "STATUS", _("status change")
        BULK_STATUS = "BULK_STATUS", _("status change of several orders")
        IDENTIFIERS = "IDENTIFIERS", _("marking codes (DBS)")
        CANCELLATION = "CANCELLATION", _("cancellation decision")
        ITEMS = "ITEMS", _("item removal (DBS)")
        CARGO_PLACES = "CARGO_PLACES", _("cargo places (DBS)")
        DIGITAL_CODES = "DIGITAL_CODES", _("digital goods keys")
        UPDATE_ORDER = "UPDATE_ORDER", _("recipient or delivery interval")

    class State(models.TextChoices):
        PENDING = "PENDING", _("waiting to be sent")
        SENDING = "SENDING", _("being sent")
        DELIVERED = "DELIVERED", _("delivered")
        FAILED = "FAILED", _("refused by the Market")
        SUPERSEDED = "SUPERSEDED", _("replaced by a newer one")
        CANCELLED = "CANCELLED", _("cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="outbox", verbose_name=_("campaign"))
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    payload = models.JSONField(_("what to send"), default=dict)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    market_errors = models.JSONField(_("the Market's messages"), default=list, blank=True)
    result = models.JSONField(_("the Market's answer"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("action for the Market")
        verbose_name_plural = _("actions for the Market")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["order", "state"], name="outbox_order_state_idx"),
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"


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
