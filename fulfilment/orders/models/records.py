"""What happened and what goes to the Market: the audit trail and the outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext_lazy as _

from .accounts import Campaign
from .orders import Order
from .vocabulary import OutboxState


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
        # The shift view reads one kind of event within a day; "at" alone would read every kind.
        indexes = [models.Index(fields=["action", "at"], name="audit_action_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action}"


# The kinds whose payload names a shipment ({"shipmentId": ...}; tests/test_pages_queries.py checks
# it against the changes' classes): a shipment's actions are read among these only.
SHIPMENT_KINDS = ("CARGO_PLACES", "TRANSFER", "PALLETS", "CONFIRM_SHIPMENT")


class OutboxAction(models.Model):
    """A change for the Market, written in the same transaction as the local change that caused it.

    Delivered by a Celery task; per order strictly in creation order (a layout before its
    ready-to-ship). A newer layout of an order supersedes an older one not yet sent. The payload is
    a ``market.changes`` change of the kind's type (``outbox.KIND_OF``), encoded and read by it.
    """

    class Kind(models.TextChoices):
        LAYOUT = "LAYOUT", _("box layout")
        STATUS = "STATUS", _("status change")
        BULK_STATUS = "BULK_STATUS", _("status change of several orders")
        IDENTIFIERS = "IDENTIFIERS", _("marking codes (DBS)")
        CANCELLATION = "CANCELLATION", _("cancellation decision")
        ITEMS = "ITEMS", _("item quantities (DBS)")
        CARGO_PLACES = "CARGO_PLACES", _("cargo places (DBS)")
        DIGITAL_CODES = "DIGITAL_CODES", _("digital goods keys")
        UPDATE_ORDER = "UPDATE_ORDER", _("recipient or delivery interval")
        REMOVAL = "REMOVAL", _("item removed or reduced")
        RETURN_DECISION = "RETURN_DECISION", _("decision on a return")
        TRANSFER = "TRANSFER", _("orders moved to the next shipment")
        PALLETS = "PALLETS", _("pallets count of a shipment")
        CONFIRM_SHIPMENT = "CONFIRM_SHIPMENT", _("shipment confirmed")
        EXTERNAL_ID = "EXTERNAL_ID", _("seller's order number")

    State = OutboxState  # defined with the vocabulary: the queue's "needs attention" counts refused ones

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
            # The supervisor's hour of cancellation decisions and its last bulk changes: a range of one
            # kind, never all actions ever sent.
            models.Index(fields=["kind", "created_at"], name="outbox_kind_created_idx"),
            # A shipment's actions by its id in the payload: the Shipments screen asked for them by
            # the shop's index, every action of the shop ever sent with its payload read (issue 17).
            models.Index(KeyTransform("shipmentId", "payload"), condition=Q(kind__in=SHIPMENT_KINDS),
                         name="outbox_shipment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"
