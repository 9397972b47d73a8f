"""Celery tasks of the notifications: thin, taking ids, calling ``refreshing``."""

from __future__ import annotations

from celery import shared_task

from fulfilment.orders import scheduling

from . import refreshing


@shared_task(acks_late=True, ignore_result=True)
def refresh_from_notifications_task(business_id: int) -> int:
    """Refresh the orders the business's waiting events name; again later when the Market failed."""
    outcome = refreshing.refresh_pending(business_id)
    if outcome.retry_in is not None:
        refresh_from_notifications_task.apply_async((business_id,), countdown=scheduling.countdown(outcome.retry_in))
    return outcome.events


@shared_task(acks_late=True, ignore_result=True)
def sweep_notifications_task() -> int:
    """Beat: a run for every business whose events wait longer than they should."""
    ids = refreshing.overdue_business_ids()
    for business_id in ids:
        refresh_from_notifications_task.delay(business_id)
    return len(ids)
