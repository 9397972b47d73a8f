"""Returns mirrored from the Market: a periodic pass per business by update date, and a targeted
refresh of named returns after a notification (ORDER_RETURN_CREATED / ORDER_RETURN_STATUS_UPDATED).

Both write through ``upsert_return``: the later ``updateDate`` wins, the return is linked to its
order here when the dashboard has it, and what staff recorded (the units received) is never touched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from fulfilment.market.errors import MarketError, MarketNotFound
from fulfilment.market.returns import Return, ReturnsFilter

from .clients import client_for
from .locks import try_lock
from .models import Business, Campaign, MarketReturn, Order

log = logging.getLogger("fulfilment.returns")
FIRST_PASS = dt.timedelta(days=30)  # how far back the first pass looks
OVERLAP = dt.timedelta(days=1)  # the list filters by date: read the last day again


def upsert_return(campaign: Campaign, ret: Return) -> tuple[MarketReturn, bool]:
    """Write the Market's return unless what is stored is newer; (row, changed)."""
    point = ret.pickup_point
    fields = {
        "order_market_id": ret.order_id, "kind": str(ret.return_type), "refund_status": str(ret.refund_status),
        "shipment_status": str(ret.shipment_status), "pickup_point": point.name if point else "",
        "pickup_address": point.address if point else "", "pickup_instruction": point.instruction if point else "",
        "pickup_till": ret.pickup_till, "created_at_market": ret.created_at, "updated_at_market": ret.updated_at,
        "payload": ret.raw,
        "order": Order.objects.filter(campaign=campaign, market_id=ret.order_id).first(),
    }
    with transaction.atomic():
        row = MarketReturn.objects.select_for_update().filter(campaign=campaign, market_id=ret.id).first()
        if row is None:
            return MarketReturn.objects.create(campaign=campaign, market_id=ret.id, **fields), True
        if row.updated_at_market and ret.updated_at and ret.updated_at < row.updated_at_market:
            return row, False
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
        return row, True


def sync_returns(business: Business) -> int:
    """One pass over the business's active shops: the returns changed since the newest one here
    (less a day), or in the last 30 days the first time. Returns how many were written."""
    if not business.is_active or business.credentials_error:
        return 0
    with try_lock(f"sync-returns:{business.pk}") as held:
        if not held:
            return 0
        client = client_for(business)
        written = 0
        today = timezone.localdate()
        for campaign in business.campaigns.filter(is_active=True):
            newest = campaign.returns.order_by("-updated_at_market").values_list("updated_at_market", flat=True).first()
            since = (newest - OVERLAP).date() if newest else today - FIRST_PASS
            for ret in client.iter_returns(campaign.market_id, ReturnsFilter(updated_from=since)):
                written += upsert_return(campaign, ret)[1]
        return written


def refresh_returns(business_id: int, wanted: Iterable[tuple[int, int, int]]) -> int:
    """getReturn for each (campaign, order, return) named by a notification; a return the Market no
    longer knows is skipped. A transient failure raises (the caller retries)."""
    business = Business.objects.get(pk=business_id)
    if not business.is_active or business.credentials_error:
        return 0
    campaigns = {c.market_id: c for c in business.campaigns.filter(is_active=True)}
    client = client_for(business)
    written = 0
    for campaign_id, order_id, return_id in sorted(set(wanted)):
        if campaign_id not in campaigns:
            continue
        try:
            ret = client.get_return(campaign_id, order_id, return_id)
        except MarketNotFound:
            log.info("return %s of order %s is not at the Market", return_id, order_id)
            continue
        written += upsert_return(campaigns[campaign_id], ret)[1]
    return written


@shared_task(name="fulfilment.orders.tasks.sync_returns_task", acks_late=True, ignore_result=True,
             autoretry_for=(MarketError,), retry_backoff=True, max_retries=5)
def sync_returns_task(business_id: int) -> int:
    return sync_returns(Business.objects.get(pk=business_id))


@shared_task(name="fulfilment.orders.tasks.sync_all_returns_task", ignore_result=True)  # the beat's name
def sync_all_returns_task() -> int:
    """Beat: one returns pass per active business with working credentials."""
    ids = list(Business.objects.filter(is_active=True, credentials_error="").values_list("pk", flat=True))
    for pk in ids:
        sync_returns_task.delay(pk)
    return len(ids)
