"""The local mirror of the Market (businesses, campaigns, orders, items) and staff's packing work.

Field names follow the Partner API (see ../shared/market-api/orders-openapi.yaml). Status-like
fields are free text with known choices for display: the Market says other values may be returned,
and an unknown one must be kept, not refused.
"""

from .accounts import Business, Campaign, NotificationState, SyncState, new_notification_secret
from .evidence import PackingPhoto, PhotoReason
from .health import Heartbeat
from .orders import Order, OrderItem, OrderQuerySet, attention_condition, to_pack_condition
from .packing import Box, BoxLine, CatalogueOffer, Instance, ProductBarcode
from .records import SHIPMENT_KINDS, AuditEvent, OutboxAction
from .returns import Grade, MarketReturn, Match, ReturnKind, ReturnShipment, ReturnUnit
from .shipments import CONFIRMED_STATUSES, HandoverScan, Shipment, ShipmentReport, ShipmentStatus
from .vocabulary import (
    CANCELLATION_DEADLINE,
    DIGITAL_WINDOW,
    PACKING_SUBSTATUSES,
    DeliveryType,
    InstanceKind,
    InstanceType,
    OrderStatus,
    OrderSubstatus,
    OutboxState,
    PlacementModel,
    Problem,
    Verification,
)

__all__ = [
    "CANCELLATION_DEADLINE",
    "CONFIRMED_STATUSES",
    "DIGITAL_WINDOW",
    "PACKING_SUBSTATUSES",
    "SHIPMENT_KINDS",
    "AuditEvent",
    "Box",
    "BoxLine",
    "Business",
    "Campaign",
    "CatalogueOffer",
    "DeliveryType",
    "Grade",
    "HandoverScan",
    "Heartbeat",
    "Instance",
    "InstanceKind",
    "InstanceType",
    "MarketReturn",
    "Match",
    "NotificationState",
    "Order",
    "OrderItem",
    "OrderQuerySet",
    "OrderStatus",
    "OrderSubstatus",
    "OutboxAction",
    "OutboxState",
    "PackingPhoto",
    "PhotoReason",
    "PlacementModel",
    "Problem",
    "ProductBarcode",
    "ReturnKind",
    "ReturnShipment",
    "ReturnUnit",
    "Shipment",
    "ShipmentReport",
    "ShipmentStatus",
    "SyncState",
    "Verification",
    "attention_condition",
    "new_notification_secret",
    "to_pack_condition",
]
