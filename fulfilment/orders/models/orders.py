"""Orders and their items as the Market has them, with what the packing team did to them; the
queue's and the start page's one definition of "to pack" and "needs attention"."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import flags
from .accounts import Campaign
from .vocabulary import (
    CANCELLATION_DEADLINE,
    DIGITAL_WINDOW,
    PACKING_SUBSTATUSES,
    DeliveryType,
    OrderStatus,
    OrderSubstatus,
    OutboxState,
    PlacementModel,
    Problem,
)


class OrderQuerySet(models.QuerySet["Order"]):
    def to_pack(self) -> OrderQuerySet:
        """Orders in the packing queue: being packed at the Market, no problem reported, an active shop."""
        return self.filter(to_pack_condition(), campaign__is_active=True)

    def needing_attention(self) -> OrderQuerySet:
        """Orders someone must look at: flagged by sync, a problem reported, or an action the Market refused.

        ``attention_condition`` as the union of three small indexed sets (refused actions by
        ``outbox_due_idx``, ``order_problem_idx``, ``order_flagged_idx``): no join of every order
        with its actions, no DISTINCT, whatever the history."""
        return self.filter(pk__in=attention_ids())


def to_pack_condition(prefix: str = "") -> Q:
    """"To pack" as a condition, for counting through a relation (``prefix`` like ``"orders__"``)."""
    return Q(**{f"{prefix}status": OrderStatus.PROCESSING, f"{prefix}substatus__in": PACKING_SUBSTATUSES,
                f"{prefix}problem": ""})


def attention_ids() -> models.QuerySet:
    """The ids of the orders ``attention_condition`` holds for, one indexed set per part."""
    outbox = Order.outbox.rel.related_model  # records.py imports this module: no import back
    return (outbox.objects.filter(state=OutboxState.FAILED).order_by().values("order_id")
            .union(Order.objects.exclude(flag_reason="").order_by().values("pk"),
                   Order.objects.exclude(problem="").order_by().values("pk")))


def attention_condition(prefix: str = "") -> Q:
    """"Needs attention" as a condition; through a relation, count it with ``distinct=True``
    (an order can have several refused actions)."""
    return (Q(**{f"{prefix}outbox__state": OutboxState.FAILED}) | ~Q(**{f"{prefix}flag_reason": ""})
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
            # A scanned order number and the admin's search by number (the unique pair starts with the shop).
            models.Index(fields=["market_id"], name="order_market_id_idx"),
            # The start page: flagged orders and each shop's orders to pack, not its history (on the
            # queue's exact condition: the planner takes it; on PROCESSING alone it read the shop's
            # whole history in the unique pair instead).
            models.Index(fields=["shipment_date"], condition=~Q(flag_reason=""), name="order_flagged_idx"),
            models.Index(fields=["campaign"], condition=to_pack_condition(), name="order_to_pack_campaign_idx"),
            # The queue's page in its order, and its counts by shipment date, from today's work only: on
            # the plain shipment_date index the sort walked two years of shipped orders first.
            models.Index(fields=["shipment_date", "market_id"], condition=to_pack_condition(),
                         name="order_to_pack_sort_idx"),
            # The same for any PROCESSING order (the queue's status filter, the admin's): today's work.
            models.Index(fields=["shipment_date", "market_id"], condition=Q(status=OrderStatus.PROCESSING),
                         name="order_processing_sort_idx"),
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
        indexes = [
            # The queue's "needs codes": the items that need any code, a fifth of them (issue 17: the
            # EXISTS read every item, or probed every order's items, at each request).
            models.Index(fields=["order"], condition=~Q(required_instance_types=[]), name="item_needs_codes_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} × {self.count}"
