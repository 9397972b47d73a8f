"""Celery tasks: thin, idempotent, taking ids and calling the domain functions.

The sync's tasks are here; the outbox's and the code check's live beside the code that schedules
them (``outbox.py``, ``verification.py``), so that imports run one way. All are listed here, where
Celery's autodiscovery looks, under the names they always had.
"""

from __future__ import annotations

from celery import shared_task

from fulfilment.market.errors import MarketError

from . import sync
from .models import Business
from .outbox import deliver_action_task, sweep_outbox_task
from .verification import check_identifiers_task


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(MarketError,), retry_backoff=True,
             retry_backoff_max=300, max_retries=5)
def sync_business_task(business_id: int) -> dict:
    result = sync.sync_business(business_id)
    return {"ran": result.ran, "orders": result.orders, "pages": result.pages, "error": result.error}


@shared_task(ignore_result=True)
def sync_all_task() -> int:
    """Beat: start a sync of every active business (each is single-flight on its own)."""
    ids = list(Business.objects.filter(is_active=True, credentials_error="").values_list("pk", flat=True))
    for business_id in ids:
        sync_business_task.delay(business_id)
    return len(ids)


__all__ = ["check_identifiers_task", "deliver_action_task", "sweep_outbox_task", "sync_all_task", "sync_business_task"]
