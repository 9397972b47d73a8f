"""The changes the dashboard asks the Market to make, one type per mutating operation.

Each change is what the outbox stores (``to_json`` / ``from_json``) and what the client sends
(``body``): the Market's JSON for these requests is built here and nowhere else, so a stored
action is sent exactly as it was recorded, and reading it back yields the same typed object.
``body()`` is the request body the spec documents; ``to_json()`` is the same plus any path
parameter the campaign and order ids do not cover (only the DBS shipment id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from .returns import ReturnDecisions
from .shipment_changes import SHIPMENT_CHANGES, ShipmentChange
from .types import BoxLine, CancellationReason, DigitalItem, Instance, ItemsModificationReason


def _instances(items: Any) -> tuple[Instance, ...]:
    return tuple(Instance.from_json(i) for i in items or ())


@dataclass(frozen=True)
class BoxLayout:
    """setOrderBoxLayout (FBS/Express): every box with its lines; ``allow_remove`` when the layout
    holds fewer units than the order, which removes them (seed 001)."""

    boxes: tuple[tuple[BoxLine, ...], ...]
    allow_remove: bool = False

    operation: ClassVar[str] = "setOrderBoxLayout"

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"boxes": [{"items": [line.to_json() for line in box]} for box in self.boxes]}
        if self.allow_remove:
            out["allowRemove"] = True
        return out

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BoxLayout:
        return cls(tuple(tuple(BoxLine.from_json(line) for line in box.get("items") or ()) for box in d["boxes"]),
                   bool(d.get("allowRemove")))

    def has_checked_codes(self) -> bool:
        """Whether the Market will check codes of this layout asynchronously (CIS and UIN)."""
        return any(i.cis or i.uin for i in self.instances())

    def instances(self) -> tuple[Instance, ...]:
        """Every code the layout carries: once it is accepted, the Market holds each of them."""
        return tuple(i for box in self.boxes for line in box for i in line.instances)


@dataclass(frozen=True)
class StatusChange:
    """updateOrderStatus."""

    status: str
    substatus: str | None = None

    operation: ClassVar[str] = "updateOrderStatus"

    def body(self) -> dict[str, Any]:
        order: dict[str, Any] = {"status": self.status}
        if self.substatus:
            order["substatus"] = self.substatus
        return {"order": order}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StatusChange:
        order = d["order"]
        return cls(order["status"], order.get("substatus"))


@dataclass(frozen=True)
class OrderStatusChange:
    order_id: int
    status: str
    substatus: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.order_id, "status": self.status}
        if self.substatus:
            out["substatus"] = self.substatus
        return out


@dataclass(frozen=True)
class StatusChanges:
    """updateOrderStatuses: several orders of one campaign (at most 30 a call)."""

    orders: tuple[OrderStatusChange, ...]

    operation: ClassVar[str] = "updateOrderStatuses"

    def body(self) -> dict[str, Any]:
        return {"orders": [o.to_json() for o in self.orders]}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StatusChanges:
        return cls(tuple(OrderStatusChange(int(o["id"]), o["status"], o.get("substatus")) for o in d["orders"]))


@dataclass(frozen=True)
class ItemInstances:
    item_id: int
    instances: tuple[Instance, ...]


@dataclass(frozen=True)
class Identifiers:
    """provideOrderItemIdentifiers (DBS): the codes of each item."""

    items: tuple[ItemInstances, ...]

    operation: ClassVar[str] = "provideOrderItemIdentifiers"

    def body(self) -> dict[str, Any]:
        return {"items": [{"id": i.item_id, "instances": [inst.to_json() for inst in i.instances]}
                          for i in self.items]}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Identifiers:
        return cls(tuple(ItemInstances(int(i["id"]), _instances(i.get("instances"))) for i in d["items"]))

    def instances(self) -> tuple[Instance, ...]:
        return tuple(inst for i in self.items for inst in i.instances)


@dataclass(frozen=True)
class ItemCount:
    item_id: int
    count: int
    instances: tuple[Instance, ...] = ()


@dataclass(frozen=True)
class ItemCounts:
    """updateOrderItems (DBS): every item that stays with its count, a removed one with 0."""

    items: tuple[ItemCount, ...]
    reason: ItemsModificationReason | str = ItemsModificationReason.PARTNER_REQUESTED_REMOVE

    operation: ClassVar[str] = "updateOrderItems"

    def body(self) -> dict[str, Any]:
        items = []
        for i in self.items:
            entry: dict[str, Any] = {"id": i.item_id, "count": i.count}
            if i.instances:
                entry["instances"] = [inst.to_json() for inst in i.instances]
            items.append(entry)
        return {"items": items, "reason": str(self.reason)}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ItemCounts:
        return cls(tuple(ItemCount(int(i["id"]), int(i["count"]), _instances(i.get("instances")))
                         for i in d["items"]), d.get("reason") or ItemsModificationReason.PARTNER_REQUESTED_REMOVE)

    def instances(self) -> tuple[Instance, ...]:
        return tuple(inst for i in self.items for inst in i.instances)


@dataclass(frozen=True)
class CargoPlaces:
    """setOrderShipmentBoxes (DBS): the number of cargo places is the length of ``boxes``, an array
    of empty objects; the shipment id is a path parameter, so it is stored beside the body."""

    shipment_id: int
    places: int

    operation: ClassVar[str] = "setOrderShipmentBoxes"

    def __post_init__(self) -> None:
        if self.places < 1:
            raise ValueError("at least one cargo place")

    def body(self) -> dict[str, Any]:
        return {"boxes": [{} for _ in range(self.places)]}

    def to_json(self) -> dict[str, Any]:
        return {"shipmentId": self.shipment_id, **self.body()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CargoPlaces:
        return cls(int(d["shipmentId"]), len(d["boxes"]))


@dataclass(frozen=True)
class CancellationDecision:
    """acceptOrderCancellation (DBS): accept the buyer's request, or reject it with a reason."""

    accepted: bool
    reason: CancellationReason | str | None = None

    operation: ClassVar[str] = "acceptOrderCancellation"

    def __post_init__(self) -> None:
        if not self.accepted and not self.reason:
            raise ValueError("a rejection needs a reason")

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": self.accepted}
        if self.reason:
            out["reason"] = str(self.reason)
        return out

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CancellationDecision:
        return cls(bool(d["accepted"]), d.get("reason"))


@dataclass(frozen=True)
class DigitalCodes:
    """provideOrderDigitalCodes: the keys of each digital item."""

    items: tuple[DigitalItem, ...]

    operation: ClassVar[str] = "provideOrderDigitalCodes"

    def body(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.items]}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DigitalCodes:
        return cls(tuple(DigitalItem(int(i["id"]), tuple(i["codes"]), i["slip"],
                                     dt.date.fromisoformat(i["activate_till"])) for i in d["items"]))


@dataclass(frozen=True)
class Recipient:
    """``CustomerDTO``: the new recipient of a DBS order (seed 003)."""

    first_name: str
    last_name: str
    phone: str
    middle_name: str = ""

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The fields as ``OrderUpdate.customer`` holds them (sorted by name)."""
        out = [("firstName", self.first_name), ("lastName", self.last_name), ("phone", self.phone)]
        if self.middle_name:
            out.append(("middleName", self.middle_name))
        return tuple(sorted(out))


@dataclass(frozen=True)
class OrderUpdate:
    """updateOrder (seed 003): a new recipient and/or a new delivery interval."""

    order_id: int
    customer: tuple[tuple[str, str], ...] = ()  # CustomerDTO's fields, sorted by name (jsonb reorders keys)
    delivery_dates: tuple[dt.date, dt.date] | None = None
    delivery_times: tuple[str, str] | None = None

    operation: ClassVar[str] = "updateOrder"

    def body(self) -> dict[str, Any]:
        order: dict[str, Any] = {"id": self.order_id}
        if self.customer:
            order["customer"] = dict(self.customer)
        if self.delivery_dates and self.delivery_times:
            order["deliveryInterval"] = {
                "deliveryDateInterval": {"fromDate": self.delivery_dates[0].isoformat(),
                                         "toDate": self.delivery_dates[1].isoformat()},
                "deliveryTimeInterval": {"fromTime": self.delivery_times[0], "toTime": self.delivery_times[1]},
            }
        return {"order": order}

    def to_json(self) -> dict[str, Any]:
        return self.body()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OrderUpdate:
        order = d["order"]
        interval = order.get("deliveryInterval") or {}
        dates, times = interval.get("deliveryDateInterval"), interval.get("deliveryTimeInterval")
        return cls(int(order["id"]), tuple(sorted((order.get("customer") or {}).items())),
                   (dt.date.fromisoformat(dates["fromDate"]), dt.date.fromisoformat(dates["toDate"]))
                   if dates else None,
                   (times["fromTime"], times["toTime"]) if times else None)


@dataclass(frozen=True)
class ItemRemoval:
    """An item removed (``count`` 0) or reduced: the change that does it at the Market (a layout with
    ``allow_remove`` for FBS/Express, the item counts for DBS) and which item ends with what count,
    so that the order here can follow once the Market accepts."""

    change: BoxLayout | ItemCounts
    item_id: int
    count: int

    def __post_init__(self) -> None:
        if isinstance(self.change, BoxLayout) and not self.change.allow_remove:
            raise ValueError("a layout removes units only with allow_remove")
        if not isinstance(self.change, BoxLayout | ItemCounts):
            raise ValueError("an item is removed by a box layout or by item counts")
        if self.count < 0:
            raise ValueError("a count cannot be negative")

    @property
    def operation(self) -> str:
        return self.change.operation

    def body(self) -> dict[str, Any]:
        return self.change.body()

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.change.operation, "change": self.change.to_json(),
                "item": self.item_id, "count": self.count}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ItemRemoval:
        inner = {BoxLayout.operation: BoxLayout, ItemCounts.operation: ItemCounts}[d["operation"]]
        return cls(inner.from_json(d["change"]), int(d["item"]), int(d["count"]))


Change = (BoxLayout | StatusChange | StatusChanges | Identifiers | ItemCounts | CargoPlaces | CancellationDecision
          | DigitalCodes | OrderUpdate | ItemRemoval | ReturnDecisions | ShipmentChange)
CHANGES: dict[str, type[Change]] = {c.operation: c for c in (  # type: ignore[misc]
    BoxLayout, StatusChange, StatusChanges, Identifiers, ItemCounts, CargoPlaces, CancellationDecision, DigitalCodes,
    OrderUpdate, ReturnDecisions, *SHIPMENT_CHANGES)}
