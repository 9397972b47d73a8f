"""What the Market notifies the seller of when one of its orders changes: the bodies of POST
``<seller URL>/notification``, derived from the order before and after the change.

Source: https://yandex.ru/dev/market/partner-api/doc/ru/push-notifications/reference/sendNotification
A new order → ORDER_CREATED; a status or substatus change → ORDER_STATUS_UPDATED, and when it is
CANCELLED also ORDER_CANCELLED; a buyer's cancellation request (DBS, in delivery) →
ORDER_CANCELLATION_REQUEST; a new shipment or delivery date → ORDER_UPDATED. Assumption where the
documentation is silent: a cancellation sends both the status event and ORDER_CANCELLED (the Market
documents both types and not which it sends).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fulfilment.market.notification_values import NotificationType, OrderUpdateType
from fulfilment.market.notifications import format_time

from .clock import now_utc


def _time(iso: str | None) -> str:
    """A stored UTC moment (or now) as the notifications write it: ``…T18:02:01.123Z``."""
    moment = dt.datetime.fromisoformat(iso) if iso else now_utc()
    return format_time(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


def _items(order: dict[str, Any]) -> list[dict[str, Any]]:
    """``NotificationOrderItemDTO``: the offer and its count."""
    return [{"offerId": item["offerId"], "count": item["count"]} for item in order.get("items", [])]


def _shipment_date(order: dict[str, Any]) -> Any:
    return ((order.get("delivery") or {}).get("shipment") or {}).get("shipmentDate")


def _delivery_dates(order: dict[str, Any]) -> Any:
    return (order.get("delivery") or {}).get("dates")


def _about(kind: NotificationType, order: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"notificationType": str(kind), "campaignId": order["campaignId"], "orderId": order["orderId"], **fields}


def order_events(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """The notifications one saved change of an order makes (none for a change nobody is told of)."""
    extra = after.get("_sandbox", {})
    changed_at = _time(extra.get("updatedUtc"))
    if before is None:
        return [_about(NotificationType.ORDER_CREATED, after, createdAt=_time(extra.get("createdUtc")),
                       items=_items(after))]
    events = []
    if (before["status"], before["substatus"]) != (after["status"], after["substatus"]):
        # The notification requires a substatus; the Market's own placeholder when there is none.
        events.append(_about(NotificationType.ORDER_STATUS_UPDATED, after, status=after["status"],
                             substatus=after["substatus"] or "UNKNOWN", updatedAt=changed_at))
        if after["status"] == "CANCELLED":
            events.append(_about(NotificationType.ORDER_CANCELLED, after, cancelledAt=changed_at,
                                 items=_items(after)))
    for update_type, date in ((OrderUpdateType.SHIPMENT_DATE_UPDATED, _shipment_date),
                              (OrderUpdateType.DELIVERY_DATE_UPDATED, _delivery_dates)):
        if date(before) != date(after):
            events.append(_about(NotificationType.ORDER_UPDATED, after, updateType=str(update_type),
                                 updatedAt=changed_at))
    if after.get("cancelRequested") and not before.get("cancelRequested"):
        events.append(_about(NotificationType.ORDER_CANCELLATION_REQUEST, after,
                             requestedAt=_time(extra.get("cancelRequestedAt") or extra.get("updatedUtc"))))
    return events


def ping() -> dict[str, Any]:
    """A check that the seller's server answers."""
    return {"notificationType": str(NotificationType.PING), "time": _time(None)}
