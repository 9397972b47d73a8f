"""The shipment changes the dashboard asks of the Market, typed like ``changes`` (which lists them
with the others): what the outbox stores and what the client sends. Each carries the shipment id,
a path parameter the campaign and order ids do not cover."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .documents import checked_external_id
from .limits import MAX_TRANSFER_ORDERS
from .shipments import ShipmentConfirmation


@dataclass(frozen=True)
class ShipmentTransfer:
    """transferOrdersFromShipment: these orders go to the next shipment (1 to 500)."""

    shipment_id: int
    order_ids: tuple[int, ...]

    operation: ClassVar[str] = "transferOrdersFromShipment"

    def __post_init__(self) -> None:
        if not 1 <= len(set(self.order_ids)) <= MAX_TRANSFER_ORDERS:
            raise ValueError(f"1 to {MAX_TRANSFER_ORDERS} orders per transfer")

    def body(self) -> dict[str, Any]:
        return {"orderIds": list(dict.fromkeys(self.order_ids))}

    def to_json(self) -> dict[str, Any]:
        return {"shipmentId": self.shipment_id, **self.body()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShipmentTransfer:
        return cls(int(d["shipmentId"]), tuple(int(i) for i in d["orderIds"]))


@dataclass(frozen=True)
class PalletsCount:
    """setShipmentPalletsCount: the packages carried (pallets), not the orders' boxes."""

    shipment_id: int
    count: int

    operation: ClassVar[str] = "setShipmentPalletsCount"

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("the pallets count cannot be negative")

    def body(self) -> dict[str, Any]:
        return {"placesCount": self.count}

    def to_json(self) -> dict[str, Any]:
        return {"shipmentId": self.shipment_id, **self.body()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PalletsCount:
        return cls(int(d["shipmentId"]), int(d["placesCount"]))


@dataclass(frozen=True)
class ShipmentConfirm:
    """confirmShipment: with the seller's shipment id and the signatory for an e-signed act."""

    shipment_id: int
    external_shipment_id: str = ""
    signatory: str = ""

    operation: ClassVar[str] = "confirmShipment"

    def __post_init__(self) -> None:
        self.confirmation().to_json()  # refuses a signatory with @

    def confirmation(self) -> ShipmentConfirmation:
        return ShipmentConfirmation(self.external_shipment_id or None, self.signatory or None)

    def body(self) -> dict[str, Any]:
        return self.confirmation().to_json()

    def to_json(self) -> dict[str, Any]:
        return {"shipmentId": self.shipment_id, **self.body()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShipmentConfirm:
        return cls(int(d["shipmentId"]), d.get("externalShipmentId") or "", d.get("signatory") or "")


@dataclass(frozen=True)
class ExternalOrderId:
    """updateExternalOrderId: the seller's own order number (printable ASCII, once, before READY_TO_SHIP)."""

    external_id: str

    operation: ClassVar[str] = "updateExternalOrderId"

    def __post_init__(self) -> None:
        if checked_external_id(self.external_id) != self.external_id:
            raise ValueError("the external order id has spaces around it")

    def body(self) -> dict[str, Any]:
        return {"externalOrderId": self.external_id}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExternalOrderId:
        return cls(d["externalOrderId"])


ShipmentChange = ShipmentTransfer | PalletsCount | ShipmentConfirm | ExternalOrderId
SHIPMENT_CHANGES = (ShipmentTransfer, PalletsCount, ShipmentConfirm, ExternalOrderId)
