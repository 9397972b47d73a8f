"""What the processes last said they were alive: a row per beat task, written by the worker that ran it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The beat schedules ``heartbeat_task`` every 30 s (expiring if not run within the readiness
    limit) and a worker runs it: a fresh ``ran_at`` says both are alive. Which one is down the compose
    healthchecks tell (beat's schedule file, ``celery inspect ping``)."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    ran_at = models.DateTimeField(_("run by a worker at"))
    worker = models.CharField(_("worker"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return self.name
