"""Record what the Market pushed: fast, once per event, nothing asked of the Market meanwhile.

The answer must leave within 10 seconds (PING at once), so the request only writes: the event
(unique on its content key), the business's health, and, on commit, a coalesced refresh task.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F

from fulfilment.market.notifications import ORDER_REFRESH_TYPES, Notification, OrderNotification, Ping
from fulfilment.orders.models import Business

from .models import NotificationEvent
from .refreshing import record_failure
from .tasks import refresh_from_notifications_task


def business_for(secret: str) -> int | None:
    """The business whose notification URL carries ``secret``."""
    return Business.objects.filter(notification_secret=secret).values_list("pk", flat=True).first()


def receive(business_id: int, event: Notification, now: dt.datetime) -> bool:
    """Record one event; True when it is new (a copy of a recorded one is only counted)."""
    health: dict[str, object] = {"last_notification_at": now}
    if isinstance(event, Ping):
        health["last_ping_at"] = now
    with transaction.atomic():
        Business.objects.filter(pk=business_id).update(**health)
        if isinstance(event, Ping):
            return True
        refresh = event.type in ORDER_REFRESH_TYPES
        about = event if isinstance(event, OrderNotification) else None
        row, created = NotificationEvent.objects.get_or_create(business_id=business_id, key=event.key, defaults={
            "notification_type": event.type, "event_time": event.time, "payload": event.raw, "received_at": now,
            "campaign_market_id": about.campaign_id if about else None,
            "order_market_id": about.order_id if about else None,
            "state": NotificationEvent.State.PENDING if refresh else NotificationEvent.State.STORED})
        if not created:
            NotificationEvent.objects.filter(pk=row.pk).update(copies=F("copies") + 1)
        elif refresh:
            # robust: the event is recorded whatever the broker says; the sweep schedules what was lost.
            transaction.on_commit(lambda: refresh_from_notifications_task.apply_async(
                (business_id,), countdown=settings.MARKET_NOTIFICATION_COALESCE_SECONDS), robust=True)
    return created


def refuse(business_id: int, reason: str, now: dt.datetime) -> None:
    """A malformed body: counted in the business's health (something the Market sent is lost)."""
    Business.objects.filter(pk=business_id).update(last_notification_at=now)
    record_failure(business_id, f"WRONG_EVENT_FORMAT: {reason}")
