"""The Market's enumerations, as documented; ``enum_or_str`` keeps a value the spec does not list."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)


def enum_or_str(kind: type[E], value: Any) -> E | str:
    """The enum member for a documented value, else the value itself (kept, not refused)."""
    if value is None:
        return ""
    try:
        return kind(value)
    except ValueError:
        return str(value)


class OrderStatus(StrEnum):
    PLACING = "PLACING"
    RESERVED = "RESERVED"
    UNPAID = "UNPAID"
    PROCESSING = "PROCESSING"
    DELIVERY = "DELIVERY"
    PICKUP = "PICKUP"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    PENDING = "PENDING"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"
    UNKNOWN = "UNKNOWN"


class OrderSubstatus(StrEnum):
    """The substatuses the dashboard acts on; the Market has over a hundred more (kept as str)."""

    STARTED = "STARTED"
    PACKAGING = "PACKAGING"
    READY_TO_SHIP = "READY_TO_SHIP"
    SHIPPED = "SHIPPED"
    SHOP_FAILED = "SHOP_FAILED"
    USER_CHANGED_MIND = "USER_CHANGED_MIND"


class InstanceType(StrEnum):
    CIS = "CIS"
    CIS_OPTIONAL = "CIS_OPTIONAL"
    UIN = "UIN"
    RNPT = "RNPT"
    GTD = "GTD"


class PlacementType(StrEnum):
    FBS = "FBS"
    FBY = "FBY"
    DBS = "DBS"
    LAAS = "LAAS"


class BuyerType(StrEnum):
    PERSON = "PERSON"
    BUSINESS = "BUSINESS"


class PageFormat(StrEnum):
    A9_HORIZONTALLY = "A9_HORIZONTALLY"
    A9 = "A9"
    A7 = "A7"
    A4 = "A4"


class CancellationReason(StrEnum):
    ORDER_DELIVERED = "ORDER_DELIVERED"
    ORDER_IN_DELIVERY = "ORDER_IN_DELIVERY"


class ItemsModificationReason(StrEnum):
    PARTNER_REQUESTED_REMOVE = "PARTNER_REQUESTED_REMOVE"
    USER_REQUESTED_REMOVE = "USER_REQUESTED_REMOVE"
