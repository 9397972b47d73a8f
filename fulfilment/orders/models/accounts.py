"""The seller's Market accounts: businesses (with the API token and the notification secret) and shops."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..encryption import EncryptedTextField
from .vocabulary import PlacementModel


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
    shipment_cutoff = models.TimeField(
        _("shipment cutoff"), default=dt.time(10, 0),
        help_text=_("When the Market forms the day's shipment (the shop's schedule in the Market's cabinet; "
                    "the API does not give it)."),
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.market_id})"
