"""The Market's push notifications (POST ``<seller URL>/notification``): typed events and the answers.

Source: https://yandex.ru/dev/market/partner-api/doc/ru/push-notifications/reference/sendNotification
A body that breaks the documented schema (a required field missing, a wrong type, a time that is
not ISO 8601) raises ``NotificationFormatError``, answered 400 WRONG_EVENT_FORMAT, which the Market
does not retry. A notification type the Market added later is kept raw (``UnknownNotification``)
and an enum value it added later is kept as a plain string, never refused. The Market may send one
event several times; ``Notification.key`` is the same for every copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from .notification_values import (
    NotificationErrorType,
    NotificationType,
    OrderUpdateType,
    RefundStatus,
    ReturnShipmentStatus,
    ReturnType,
)
from .types import OrderStatus, OrderSubstatus, enum_or_str

E = TypeVar("E", bound=StrEnum)
INT64 = range(-(2**63), 2**63)


class NotificationFormatError(ValueError):
    """The body is not a notification as documented; answered 400 WRONG_EVENT_FORMAT."""


# --- reading the body ----------------------------------------------------------------------------
def parse_time(value: Any, where: str) -> dt.datetime:
    """ISO 8601 (``2017-11-21T00:00:00.213Z``, any fraction, with an offset) → aware datetime. The
    documentation promises an offset; one without it is read as UTC, as the Market's times are."""
    if not isinstance(value, str) or not value:
        raise NotificationFormatError(f"{where}: expected an ISO 8601 date-time, got {value!r}")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise NotificationFormatError(f"{where}: not an ISO 8601 date-time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class _Fields:
    """Required and optional fields of one JSON object, each error naming the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise NotificationFormatError(f"{where}: expected an object")
        self.data, self.where = data, where

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise NotificationFormatError(f"{self.where}.{key} is required")
        return value

    def need(self, key: str) -> Any:
        return self._get(key, True)

    def int(self, key: str) -> int:
        """integer<int64>; a quoted number is read too (int64 often travels as a string)."""
        value = self._get(key, True)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value not in INT64:
            raise NotificationFormatError(f"{self.where}.{key}: expected an integer, got {value!r}")
        return value

    def str(self, key: str, *, required: bool = True) -> str:
        value = self._get(key, required)
        if value is None:
            return ""
        if not isinstance(value, str) or (required and not value):
            raise NotificationFormatError(f"{self.where}.{key}: expected a non-empty string, got {value!r}")
        return value

    def time(self, key: str, *, required: bool = True) -> dt.datetime | None:
        value = self._get(key, required)
        return None if value is None else parse_time(value, f"{self.where}.{key}")

    def enum(self, kind: type[E], key: str, *, required: bool = True) -> E | str:
        return enum_or_str(kind, self.str(key, required=required) or None)

    def items(self, key: str) -> tuple[NotificationItem, ...]:
        value = self._get(key, True)
        if not isinstance(value, list):
            raise NotificationFormatError(f"{self.where}.{key}: expected a list")
        out = []
        for n, raw in enumerate(value):
            item = _Fields(raw, f"{self.where}.{key}[{n}]")
            out.append(NotificationItem(offer_id=item.str("offerId"), count=item.int("count")))
        return tuple(out)


# --- the notifications ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NotificationItem:
    """``NotificationOrderItemDTO`` / ``NotificationReturnItemDTO``."""

    offer_id: str
    count: int


Read = Callable[[_Fields, str], Any]


def _enum(kind: type[E], *, required: bool = True) -> Read:
    return lambda f, key: f.enum(kind, key, required=required)


_INT: Read = _Fields.int
_TEXT: Read = _Fields.str
_TIME: Read = _Fields.time
_ITEMS: Read = _Fields.items
_BUSINESS = ("businessId", "business_id", _INT)
_ORDER = (("campaignId", "campaign_id", _INT), ("orderId", "order_id", _INT))


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One event as the Market sent it; ``raw`` keeps the whole body. Each type declares its
    documented fields (JSON name, attribute, how it is read; every one is required unless said)."""

    TYPE: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[tuple[str, str, Read], ...]] = ()
    TIME: ClassVar[str] = ""  # the attribute with the event's time (createdAt, updatedAt, cancelledAt…)
    IDENTITY: ClassVar[tuple[str, ...]] = ()  # what tells two events of a type apart, besides the time
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def type(self) -> str:
        return self.TYPE

    @property
    def time(self) -> dt.datetime | None:
        """When the event happened at the Market."""
        return getattr(self, self.TIME) if self.TIME else None

    @property
    def key(self) -> str:
        """The same for every copy of one event: a hash of its type, identity and time."""
        time = self.time.astimezone(dt.UTC).isoformat() if self.time else None
        identity = [str(getattr(self, attr)) for attr in self.IDENTITY]
        text = json.dumps([self.type, *identity, time], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Notification:
        f = _Fields(data, cls.TYPE)
        return cls(raw=dict(data), **{attr: read(f, key) for key, attr, read in cls.FIELDS})


@dataclass(frozen=True, kw_only=True)
class Ping(Notification):
    """A check that the seller's server answers; ``time`` is optional in the documentation."""

    TYPE: ClassVar[str] = NotificationType.PING
    FIELDS = (("time", "sent_at", lambda f, key: f.time(key, required=False)),)
    TIME = "sent_at"
    sent_at: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class OrderNotification(Notification):
    """An event about one order of one campaign."""

    IDENTITY = ("campaign_id", "order_id")
    campaign_id: int
    order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderNotification):
    TYPE: ClassVar[str] = NotificationType.ORDER_CREATED
    FIELDS = (*_ORDER, ("createdAt", "created_at", _TIME), ("items", "items", _ITEMS))
    TIME = "created_at"
    created_at: dt.datetime
    items: tuple[NotificationItem, ...]


@dataclass(frozen=True, kw_only=True)
class OrderStatusUpdated(OrderNotification):
    TYPE: ClassVar[str] = NotificationType.ORDER_STATUS_UPDATED
    FIELDS = (*_ORDER, ("status", "status", _enum(OrderStatus)), ("substatus", "substatus", _enum(OrderSubstatus)),
              ("updatedAt", "updated_at", _TIME))
    TIME = "updated_at"
    IDENTITY = (*OrderNotification.IDENTITY, "status", "substatus")
    status: OrderStatus | str
    substatus: OrderSubstatus | str
    updated_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderNotification):
    TYPE: ClassVar[str] = NotificationType.ORDER_CANCELLED
    FIELDS = (*_ORDER, ("cancelledAt", "cancelled_at", _TIME), ("items", "items", _ITEMS))
    TIME = "cancelled_at"
    cancelled_at: dt.datetime
    items: tuple[NotificationItem, ...]


@dataclass(frozen=True, kw_only=True)
class OrderCancellationRequest(OrderNotification):
    """A DBS buyer asked to cancel an order in delivery; the shop decides within 48 hours."""

    TYPE: ClassVar[str] = NotificationType.ORDER_CANCELLATION_REQUEST
    FIELDS = (*_ORDER, ("requestedAt", "requested_at", _TIME))
    TIME = "requested_at"
    requested_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class OrderUpdated(OrderNotification):
    TYPE: ClassVar[str] = NotificationType.ORDER_UPDATED
    FIELDS = (*_ORDER, ("updateType", "update_type", _enum(OrderUpdateType)), ("updatedAt", "updated_at", _TIME))
    TIME = "updated_at"
    IDENTITY = (*OrderNotification.IDENTITY, "update_type")
    update_type: OrderUpdateType | str
    updated_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class OrderReturnCreated(OrderNotification):
    TYPE: ClassVar[str] = NotificationType.ORDER_RETURN_CREATED
    FIELDS = (*_ORDER, ("returnId", "return_id", _INT), ("returnType", "return_type", _enum(ReturnType)),
              ("createdAt", "created_at", _TIME), ("items", "items", _ITEMS))
    TIME = "created_at"
    IDENTITY = (*OrderNotification.IDENTITY, "return_id")
    return_id: int
    return_type: ReturnType | str
    created_at: dt.datetime
    items: tuple[NotificationItem, ...]


def _return_statuses(f: _Fields, key: str) -> tuple[RefundStatus | str, ReturnShipmentStatus | str]:
    """``NotificationUpdatedReturnStatusesDTO``: only the status that changed is sent."""
    statuses = _Fields(f.need(key), f"{f.where}.{key}")
    return (statuses.enum(RefundStatus, "refundStatus", required=False),
            statuses.enum(ReturnShipmentStatus, "shipmentStatus", required=False))


@dataclass(frozen=True, kw_only=True)
class OrderReturnStatusUpdated(OrderNotification):
    TYPE: ClassVar[str] = NotificationType.ORDER_RETURN_STATUS_UPDATED
    FIELDS = (*_ORDER, ("returnId", "return_id", _INT), ("statuses", "statuses", _return_statuses),
              ("updatedAt", "updated_at", _TIME))
    TIME = "updated_at"
    IDENTITY = (*OrderNotification.IDENTITY, "return_id", "statuses")
    return_id: int
    statuses: tuple[RefundStatus | str, ReturnShipmentStatus | str]  # (refund, shipment); "" when not sent
    updated_at: dt.datetime

    @property
    def refund_status(self) -> RefundStatus | str:
        return self.statuses[0]

    @property
    def shipment_status(self) -> ReturnShipmentStatus | str:
        return self.statuses[1]


@dataclass(frozen=True, kw_only=True)
class BusinessNotification(Notification):
    """An event of the cabinet (reviews, chats): stored; nothing in the dashboard acts on it yet."""

    business_id: int


@dataclass(frozen=True, kw_only=True)
class GoodsFeedbackCreated(BusinessNotification):
    TYPE: ClassVar[str] = NotificationType.GOODS_FEEDBACK_CREATED
    FIELDS = (_BUSINESS, ("feedbackId", "feedback_id", _INT), ("publishedAt", "published_at", _TIME),
              ("createdAt", "created_at", _TIME))
    TIME = "created_at"
    IDENTITY = ("business_id", "feedback_id")
    feedback_id: int
    published_at: dt.datetime
    created_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class GoodsFeedbackCommentCreated(BusinessNotification):
    TYPE: ClassVar[str] = NotificationType.GOODS_FEEDBACK_COMMENT_CREATED
    FIELDS = (_BUSINESS, ("commentId", "comment_id", _INT), ("createdAt", "created_at", _TIME))
    TIME = "created_at"
    IDENTITY = ("business_id", "comment_id")
    comment_id: int
    created_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ChatCreated(BusinessNotification):
    TYPE: ClassVar[str] = NotificationType.CHAT_CREATED
    FIELDS = (_BUSINESS, ("chatId", "chat_id", _INT), ("createdAt", "created_at", _TIME))
    TIME = "created_at"
    IDENTITY = ("business_id", "chat_id")
    chat_id: int
    created_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ChatMessageSent(BusinessNotification):
    TYPE: ClassVar[str] = NotificationType.CHAT_MESSAGE_SENT
    FIELDS = (_BUSINESS, ("chatId", "chat_id", _INT), ("messageId", "message_id", _TEXT),
              ("sentAt", "sent_at", _TIME))
    TIME = "sent_at"
    IDENTITY = ("business_id", "chat_id", "message_id")
    chat_id: int
    message_id: str
    sent_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ChatArbitrageStarted(BusinessNotification):
    TYPE: ClassVar[str] = NotificationType.CHAT_ARBITRAGE_STARTED
    FIELDS = (_BUSINESS, ("chatId", "chat_id", _INT), ("startedAt", "started_at", _TIME))
    TIME = "started_at"
    IDENTITY = ("business_id", "chat_id")
    chat_id: int
    started_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ChatArbitrageFinished(BusinessNotification):
    TYPE: ClassVar[str] = NotificationType.CHAT_ARBITRAGE_FINISHED
    FIELDS = (_BUSINESS, ("chatId", "chat_id", _INT), ("finishedAt", "finished_at", _TIME))
    TIME = "finished_at"
    IDENTITY = ("business_id", "chat_id")
    chat_id: int
    finished_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class UnknownNotification(Notification):
    """A type this code does not know: kept as received and acknowledged."""

    IDENTITY = ("body",)
    notification_type: str

    @property
    def type(self) -> str:
        return self.notification_type

    @property
    def body(self) -> str:
        return json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)


TYPES: dict[str, type[Notification]] = {cls.TYPE: cls for cls in (
    Ping, OrderCreated, OrderStatusUpdated, OrderCancelled, OrderCancellationRequest, OrderUpdated,
    OrderReturnCreated, OrderReturnStatusUpdated, GoodsFeedbackCreated, GoodsFeedbackCommentCreated, ChatCreated,
    ChatMessageSent, ChatArbitrageStarted, ChatArbitrageFinished)}
# The events after which the dashboard fetches the order again (and, for a return's, the return);
# the rest are only stored.
RETURN_REFRESH_TYPES = frozenset({NotificationType.ORDER_RETURN_CREATED, NotificationType.ORDER_RETURN_STATUS_UPDATED})
ORDER_REFRESH_TYPES = frozenset({
    NotificationType.ORDER_CREATED, NotificationType.ORDER_STATUS_UPDATED, NotificationType.ORDER_CANCELLED,
    NotificationType.ORDER_CANCELLATION_REQUEST, NotificationType.ORDER_UPDATED, *RETURN_REFRESH_TYPES})


def parse_notification(body: bytes | str | Mapping[str, Any]) -> Notification:
    """The request body (UTF-8 JSON) → one typed notification; NotificationFormatError if malformed."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NotificationFormatError(f"the body is not UTF-8 JSON: {exc}") from exc
        except RecursionError:  # deeper than the parser's recursion limit: not a notification
            raise NotificationFormatError("the body is nested too deeply") from None
    if not isinstance(data, Mapping):
        raise NotificationFormatError("the body is not a JSON object")
    kind = data.get("notificationType")
    if not isinstance(kind, str) or not kind:
        raise NotificationFormatError("notificationType is required")
    cls = TYPES.get(kind)
    if cls is None:
        return UnknownNotification(raw=dict(data), notification_type=kind)
    return cls.parse(data)


# --- the answers ---------------------------------------------------------------------------------
def format_time(moment: dt.datetime) -> str:
    """aware datetime → ``2022-12-29T18:02:01.123Z`` (UTC, as the answer's ``time`` is documented)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the Market needs a time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def accepted(name: str, version: str, started_at: dt.datetime) -> dict[str, str]:
    """The 200 body: the integration's name and version, and when processing started."""
    for what, value in (("name", name), ("version", version)):
        if not 1 <= len(value) <= 100:
            raise ValueError(f"{what} must be 1 to 100 characters")
    return {"version": version, "name": name, "time": format_time(started_at)}


def refused(kind: NotificationErrorType, message: str) -> dict[str, dict[str, str]]:
    """The 400 (and 500) body: ``{"error": {"type", "message"}}``."""
    return {"error": {"type": str(kind), "message": message}}
