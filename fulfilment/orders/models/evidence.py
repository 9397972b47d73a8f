"""Evidence at packing: a photo of an open box with its contents, taken by the workstation's camera at
Finish or on the photo command, kept with the order and box for a configurable number of days. The
file lives in Django's default storage (files on disk in the embedded default)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .orders import Order


class PhotoReason(models.TextChoices):
    FINISH = "FINISH", _("at Finish")
    COMMAND = "COMMAND", _("on the photo command")


class PackingPhoto(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="photos", verbose_name=_("order"))
    box_number = models.PositiveIntegerField(_("box number"), null=True, blank=True)
    image = models.FileField(_("photo"), upload_to="evidence/%Y/%m/%d/")
    content_type = models.CharField(_("type"), max_length=32)
    reason = models.CharField(_("taken"), max_length=16, choices=PhotoReason.choices)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("taken by"))
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now, db_index=True)
    # Sent to the order's chat with the buyer (the last time): a second send is asked for, not silent.
    sent_to_chat_at = models.DateTimeField(_("sent to the chat at"), null=True, blank=True)
    sent_to_chat_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+", verbose_name=_("sent to the chat by"))

    class Meta:
        verbose_name = _("packing photo")
        verbose_name_plural = _("packing photos")
        ordering = ["order", "taken_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} #{self.box_number or '-'} {self.taken_at:%Y-%m-%d %H:%M}"
