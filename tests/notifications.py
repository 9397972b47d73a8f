"""Builders for the Market's notifications in tests: the bodies it sends and the request it makes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.urls import reverse

from fulfilment.orders.models import Business
from fulfilment.sandbox import seed

MARKET_ADDRESS = "5.45.207.10"  # inside the Market's published 5.45.207.0/25


def at(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def order_event(kind: str, order_id: int, moment: dt.datetime | None = None,
                campaign_id: int = seed.FBS_CAMPAIGN_ID, **extra: Any) -> dict[str, Any]:
    """A body of one of the five order notifications, with the fields its type requires."""
    body: dict[str, Any] = {"notificationType": kind, "campaignId": campaign_id, "orderId": order_id}
    when = at(moment)
    body.update({
        "ORDER_CREATED": {"createdAt": when, "items": [{"offerId": "MUG-001", "count": 1}]},
        "ORDER_STATUS_UPDATED": {"status": "PROCESSING", "substatus": "STARTED", "updatedAt": when},
        "ORDER_CANCELLED": {"cancelledAt": when, "items": [{"offerId": "MUG-001", "count": 1}]},
        "ORDER_CANCELLATION_REQUEST": {"requestedAt": when},
        "ORDER_UPDATED": {"updateType": "SHIPMENT_DATE_UPDATED", "updatedAt": when},
    }[kind])
    body.update(extra)
    return body


def url(business: Business) -> str:
    return reverse("market-notification", args=[business.notification_secret])


def push(client: Client, business: Business, body: Any, address: str = MARKET_ADDRESS, **headers: str):
    """POST a notification as the Market does (JSON, from one of its addresses)."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(url(business), data=data, content_type="application/json", REMOTE_ADDR=address, **headers)
