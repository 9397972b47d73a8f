"""Celery tasks: thin, idempotent, taking ids and calling the domain functions.

The sync's tasks are here; the outbox's and the code check's live beside the code that schedules
them (``outbox.py``, ``verification.py``), so that imports run one way. All are listed here, where
Celery's autodiscovery looks, under the names they always had.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from fulfilment.market.errors import MarketError

from . import catalogue, pictures, readiness, sync
from .evidence import prune_photos_task
from .models import Business
from .outbox import deliver_action_task, sweep_outbox_task
from .pictures import keep_picture_task
from .returns_mirror import sync_all_returns_task, sync_returns_task
from .shipment_reports import build_report_task
from .shipments import refresh_shipment_task, sync_shipments_task
from .verification import check_identifiers_task


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(MarketError,), retry_backoff=True,
             retry_backoff_max=300, max_retries=5)
def sync_business_task(business_id: int) -> dict:
    result = sync.sync_business(business_id)
    if result.ran and not result.error:
        sync_catalogue_task.delay(business_id)
    return {"ran": result.ran, "orders": result.orders, "pages": result.pages, "error": result.error}


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(MarketError,), retry_backoff=True,
             retry_backoff_max=300, max_retries=5)
def sync_catalogue_task(business_id: int) -> dict:
    """After an order sync: the barcodes of SKUs not read in the last day (nothing to do: no call)."""
    result = catalogue.sync_catalogue(business_id)
    pictures.queue_pictures(business_id)  # the pictures of SKUs new or changed in the catalogue
    return {"asked": result.asked, "found": result.found, "linked": result.linked, "ambiguous": result.ambiguous}


@shared_task(ignore_result=True)
def sync_all_task() -> int:
    """Beat: start a sync of every active business that is due (each is single-flight on its own):
    every minute, or a reconciliation pass now and then while the Market's notifications arrive."""
    now = timezone.now()
    candidates = Business.objects.filter(is_active=True, credentials_error="").only(
        "last_sync_success_at", "last_notification_at", "last_notification_failure_at")
    ids = [b.pk for b in candidates if b.sync_due(now)]
    for business_id in ids:
        sync_business_task.delay(business_id)
    return len(ids)


@shared_task(bind=True, ignore_result=True)
def heartbeat_task(self: Any) -> None:
    """Beat, every 30 s: proof for /readyz that the beat schedules and a worker runs."""
    readiness.beat_heartbeat(self.request.hostname or "")


__all__ = [
    "build_report_task",
    "check_identifiers_task",
    "deliver_action_task",
    "heartbeat_task",
    "keep_picture_task",
    "prune_photos_task",
    "refresh_shipment_task",
    "sweep_outbox_task",
    "sync_all_returns_task",
    "sync_all_task",
    "sync_business_task",
    "sync_catalogue_task",
    "sync_returns_task",
    "sync_shipments_task",
]
