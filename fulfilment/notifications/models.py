"""The notifications the Market pushed, each recorded once, and where its processing stands."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfilment.orders.models import Business


class NotificationEvent(models.Model):
    """One event as the Market sent it. Copies of it (the Market resends, and may send one event
    several times) share its ``key`` and are counted, not stored again. Order events wait for the
    targeted refresh that applies them; the other types are only stored (PING is not stored: it
    only updates the business's health)."""

    class State(models.TextChoices):
        PENDING = "PENDING", _("waiting for the refresh")
        REFRESHING = "REFRESHING", _("being refreshed")
        DONE = "DONE", _("applied")
        STORED = "STORED", _("stored")
        FAILED = "FAILED", _("refresh gave up")

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="notification_events",
                                 verbose_name=_("business"))
    notification_type = models.CharField(_("type"), max_length=64)
    key = models.CharField(_("content key"), max_length=64, help_text=_("Hash of the type, the ids and the time."))
    event_time = models.DateTimeField(_("event time"), null=True, blank=True)
    campaign_market_id = models.BigIntegerField(_("Market campaign id"), null=True, blank=True)
    order_market_id = models.BigIntegerField(_("Market order id"), null=True, blank=True)
    payload = models.JSONField(_("as received"), default=dict)
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    copies = models.PositiveIntegerField(_("times received"), default=1)
    attempts = models.PositiveIntegerField(_("refresh attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claim = models.CharField(_("claimed by"), max_length=32, blank=True)
    claimed_at = models.DateTimeField(_("refreshing since"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("notification from the Market")
        verbose_name_plural = _("notifications from the Market")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["business", "key"], name="notification_once_per_key")]
        indexes = [
            models.Index(fields=["business", "state"], name="notification_state_idx"),
            models.Index(fields=["business", "received_at"], name="notification_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_type} {self.order_market_id or ''} ({self.get_state_display()})".strip()
