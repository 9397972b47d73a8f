"""Apply the order events: claim what waits, refresh those orders once, settle the events.

Events of one business that arrive close together are coalesced: each order event schedules a run
a little later (MARKET_NOTIFICATION_COALESCE_SECONDS), and the first run claims every event of the
business waiting by then, so a burst costs one getBusinessOrders per 50 orders. A claim is a
conditional UPDATE, so two runs never refresh one event twice; a claim whose worker died is taken
again after ``STALE_CLAIM``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from fulfilment.market.errors import MarketError, MarketRateLimited
from fulfilment.market.notifications import RETURN_REFRESH_TYPES
from fulfilment.orders.models import Business, Campaign
from fulfilment.orders.refresh import refresh_orders
from fulfilment.orders.returns_mirror import refresh_returns

from .models import NotificationEvent

log = logging.getLogger("fulfilment.notifications")
State = NotificationEvent.State
STALE_CLAIM = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 12  # backoff 2 s doubling to 5 min: about 25 minutes, then the periodic sync is the net
OVERDUE = dt.timedelta(minutes=1)


@dataclass
class Outcome:
    events: int = 0
    calls: int = 0
    retry_in: float | None = None  # seconds until the events released for a retry are due


def _claimable(now: dt.datetime) -> Q:
    waiting = Q(state=State.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return waiting | Q(state=State.REFRESHING, claimed_at__lt=now - STALE_CLAIM)


def refresh_pending(business_id: int) -> Outcome:
    """Claim the business's order events that wait, fetch their orders again and settle them."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = NotificationEvent.objects.filter(_claimable(now), business_id=business_id).update(
        state=State.REFRESHING, claim=token, claimed_at=now, attempts=F("attempts") + 1)
    outcome = Outcome(events=claimed)
    if not claimed:
        return outcome
    mine = NotificationEvent.objects.filter(claim=token, state=State.REFRESHING)
    shops = set(Campaign.objects.filter(business_id=business_id, is_active=True).values_list("market_id", flat=True))
    elsewhere = mine.exclude(campaign_market_id__in=shops)
    elsewhere.update(state=State.DONE, processed_at=now, claim="", last_error="not a shop mirrored here")
    order_ids = set(mine.values_list("order_market_id", flat=True))
    returns = [(e.campaign_market_id, e.order_market_id, int(e.payload["returnId"]))
               for e in mine.filter(notification_type__in=RETURN_REFRESH_TYPES)]
    try:
        result = refresh_orders(business_id, order_ids)
        if returns:  # after the orders, so that a new return finds its order here
            refresh_returns(business_id, returns)
    except MarketError as exc:
        return _failed(business_id, token, exc, outcome)
    outcome.calls = result.calls
    mine.update(state=State.DONE, processed_at=timezone.now(), claim="", next_attempt_at=None,
                last_error=result.skipped)
    return outcome


def _failed(business_id: int, token: str, exc: MarketError, outcome: Outcome) -> Outcome:
    """A transient failure releases the events for a later attempt (backing off); anything else,
    or too many attempts, gives up and counts against the business's notification health."""
    now = timezone.now()
    message = "; ".join(exc.messages)[:2000]
    mine = NotificationEvent.objects.filter(claim=token, state=State.REFRESHING)
    retry = mine.filter(attempts__lt=MAX_ATTEMPTS) if exc.retryable else mine.none()
    attempts = max(retry.values_list("attempts", flat=True), default=0)
    if attempts:
        wait = exc.retry_after if isinstance(exc, MarketRateLimited) else min(300.0, 2.0 ** attempts)
        retry.update(state=State.PENDING, claim="", next_attempt_at=now + dt.timedelta(seconds=wait),
                     last_error=message)
        outcome.retry_in = wait
        log.info("refresh of business %s failed (%s), again in %.0f s", business_id, message, wait)
    if mine.update(state=State.FAILED, claim="", processed_at=now, last_error=message):
        log.warning("refresh of business %s gave up: %s", business_id, message)
        record_failure(business_id, f"refresh: {message}")
    return outcome


def retry_failed(event_ids: list[int]) -> dict[int, int]:
    """Staff ask again for the events whose refresh gave up (after fixing the cause): they wait
    again with fresh attempts. Returns how many per business, whose refresh is then to be queued."""
    failed = NotificationEvent.objects.filter(pk__in=event_ids, state=State.FAILED)
    per_business: dict[int, int] = {}
    for business_id in failed.values_list("business_id", flat=True):
        per_business[business_id] = per_business.get(business_id, 0) + 1
    failed.update(state=State.PENDING, attempts=0, next_attempt_at=None, processed_at=None, claim="")
    return per_business


def record_failure(business_id: int, message: str) -> None:
    """Count a failure in the business's notification health (the beat then polls at full rate)."""
    Business.objects.filter(pk=business_id).update(
        notification_failures=F("notification_failures") + 1, last_notification_failure=message[:2000],
        last_notification_failure_at=timezone.now())


def overdue_business_ids() -> list[int]:
    """Businesses with events nobody is taking care of: a lost task, a dead worker, a broker that was
    down when the event was recorded. The sweep schedules a run for each."""
    now = timezone.now()
    forgotten = Q(state=State.PENDING) & (
        Q(next_attempt_at__isnull=True, received_at__lt=now - OVERDUE) | Q(next_attempt_at__lt=now - OVERDUE))
    stale = Q(state=State.REFRESHING, claimed_at__lt=now - STALE_CLAIM)
    return sorted(set(NotificationEvent.objects.filter(forgotten | stale).values_list("business_id", flat=True)))
