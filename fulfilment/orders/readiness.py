"""Is this deployment ready to work, and if not, what is wrong: what ``/readyz`` reports.

Each check answers ok or not with the figure behind it: the database, the broker, the beat and a
worker together (the heartbeat task), each active business's last successful sync, and the outbox's backlog
with its oldest pending action. Thresholds come from settings (``READY_*``), so an operator's alert
and this page agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from kombu import Connection

from .models import Business, Heartbeat, OutboxAction

HEARTBEAT = "beat"


@dataclass
class Report:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks.values())

    def add(self, name: str, ok: bool, **facts: Any) -> None:
        self.checks[name] = {"ok": ok, **facts}


def _age(moment: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 1)


def readiness(now: dt.datetime | None = None) -> Report:
    """Every check; a failing one does not stop the others (the page shows all that is wrong)."""
    now = now or timezone.now()
    report = Report()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # the database is down: nothing else can be read
        report.add("database", False, error=exc.__class__.__name__)
        return report
    report.add("database", True)
    try:
        with Connection(settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                        transport=getattr(settings, "CELERY_BROKER_TRANSPORT", None), connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        report.add("broker", True)
    except Exception as exc:
        report.add("broker", False, error=exc.__class__.__name__)
    beat = Heartbeat.objects.filter(name=HEARTBEAT).first()
    limit = settings.READY_HEARTBEAT_SECONDS
    report.add("beat_and_worker", beat is not None and _age(beat.ran_at, now) <= limit,
               age_seconds=_age(beat.ran_at, now) if beat else None, limit_seconds=limit,
               worker=beat.worker if beat else "")
    lag = settings.READY_SYNC_LAG_SECONDS
    syncs = {}
    for b in Business.objects.filter(is_active=True).only("market_id", "last_sync_success_at", "credentials_error"):
        age = _age(b.last_sync_success_at, now)
        syncs[str(b.market_id)] = {"ok": age is not None and age <= lag and not b.credentials_error,
                                   "age_seconds": age, "credentials_problem": bool(b.credentials_error)}
    report.add("sync", all(s["ok"] for s in syncs.values()), limit_seconds=lag, businesses=syncs)
    pending = OutboxAction.objects.filter(state__in=(OutboxAction.State.PENDING, OutboxAction.State.SENDING)).aggregate(
        n=Count("id"), oldest=Min("created_at"))
    oldest = _age(pending["oldest"], now)
    report.add("outbox", oldest is None or oldest <= settings.READY_OUTBOX_AGE_SECONDS, backlog=pending["n"],
               oldest_pending_seconds=oldest, limit_seconds=settings.READY_OUTBOX_AGE_SECONDS)
    return report


def beat_heartbeat(worker: str) -> None:
    """The heartbeat task's work: when a worker last ran what the beat scheduled."""
    Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"ran_at": timezone.now(), "worker": worker[:255]})
