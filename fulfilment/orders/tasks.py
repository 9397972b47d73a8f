"""Celery tasks: thin, idempotent, taking ids and calling the domain functions."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from fulfilment.market.errors import MarketError

from . import catalogue, checks, outbox, sync
from .models import Business

log = logging.getLogger("fulfilment.tasks")


@shared_task(acks_late=True, ignore_result=True)
def deliver_action_task(action_id: int) -> str:
    """Send one outbox action; schedule itself again when the Market asks to wait."""
    state, retry_in = outbox.deliver(action_id)
    if retry_in is not None:
        deliver_action_task.apply_async((action_id,), countdown=retry_in)
    return state


@shared_task(acks_late=True, ignore_result=True)
def sweep_outbox_task() -> int:
    """Re-send what is due: retries whose time has come and sends whose worker died."""
    ids = outbox.due_action_ids()
    for action_id in ids:
        deliver_action_task.delay(action_id)
    return len(ids)


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


@shared_task(acks_late=True, ignore_result=True)
def check_identifiers_task(order_id: int, attempt: int = 0) -> bool:
    """Poll the Market's check of an order's codes until none is in progress (backing off to 30 s)."""
    try:
        pending = checks.check_identifiers(order_id)
    except MarketError as exc:
        if not exc.retryable:
            log.warning("identifier check of order %s failed: %s", order_id, exc)
            return False
        pending = True
    if pending and attempt < 60:
        check_identifiers_task.apply_async((order_id, attempt + 1), countdown=min(2 + 2 * attempt, 30))
    return pending


__all__ = ["check_identifiers_task", "deliver_action_task", "sweep_outbox_task", "sync_all_task", "sync_business_task",
           "sync_catalogue_task"]
