"""The packing calls of ``MarketClient``: box layout, marking codes, item counts, statuses, cargo
places, cancellation decisions and digital keys (the changes the outbox sends for a packer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .changes import (
    BoxLayout,
    CancellationDecision,
    CargoPlaces,
    DigitalCodes,
    Identifiers,
    ItemCount,
    ItemCounts,
    ItemInstances,
    OrderStatusChange,
    StatusChange,
    StatusChanges,
)
from .limits import MAX_STATUS_UPDATES
from .types import (
    BoxLine,
    CancellationReason,
    DigitalItem,
    IdentifierStatus,
    Instance,
    ItemsModificationReason,
    LayoutBox,
    Order,
    ParcelBox,
    StatusUpdateResult,
)

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


class PackingApi:
    """The packing methods of ``MarketClient``."""

    def set_order_box_layout(self: MarketClient, campaign_id: int, order_id: int, boxes: list[list[BoxLine]],
                             allow_remove: bool = False) -> list[LayoutBox]:
        """setOrderBoxLayout: PUT v2/campaigns/{campaignId}/orders/{orderId}/boxes. Returns the box ids."""
        body = BoxLayout(tuple(tuple(box) for box in boxes), allow_remove).body()
        data = self._request("setOrderBoxLayout", "PUT", f"/v2/campaigns/{campaign_id}/orders/{order_id}/boxes",
                             key=campaign_id, body=body)
        return [LayoutBox.from_json(b) for b in self._result(data, "setOrderBoxLayout")["boxes"]]

    def provide_order_item_identifiers(self: MarketClient, campaign_id: int, order_id: int,
                                       items: dict[int, list[Instance]]) -> None:
        """provideOrderItemIdentifiers (DBS): PUT .../orders/{orderId}/identifiers."""
        body = Identifiers(tuple(ItemInstances(item_id, tuple(insts)) for item_id, insts in items.items())).body()
        self._request("provideOrderItemIdentifiers", "PUT",
                      f"/v2/campaigns/{campaign_id}/orders/{order_id}/identifiers", key=campaign_id, body=body)

    def get_order_identifiers_status(self: MarketClient, campaign_id: int, order_id: int) -> list[IdentifierStatus]:
        """getOrderIdentifiersStatus: POST .../orders/{orderId}/identifiers/status."""
        data = self._request("getOrderIdentifiersStatus", "POST",
                             f"/v2/campaigns/{campaign_id}/orders/{order_id}/identifiers/status", key=campaign_id)
        out = []
        for item in self._result(data, "getOrderIdentifiersStatus").get("items") or ():
            for kind in ("cis", "uin"):
                for entry in item.get(kind) or ():
                    out.append(IdentifierStatus(int(item["id"]), kind, entry["value"], entry.get("status", ""),
                                                entry.get("substatus", "")))
        return out

    def update_order_items(self: MarketClient, campaign_id: int, order_id: int, counts: dict[int, int],
                           reason: ItemsModificationReason = ItemsModificationReason.PARTNER_REQUESTED_REMOVE,
                           instances: dict[int, list[Instance]] | None = None) -> None:
        """updateOrderItems (DBS): PUT .../orders/{orderId}/items — remove or reduce, never increase.
        ``counts`` lists every item that stays (with its count) and removed ones with 0."""
        change = ItemCounts(tuple(ItemCount(item_id, count, tuple((instances or {}).get(item_id) or ()))
                                  for item_id, count in counts.items()), reason)
        self._request("updateOrderItems", "PUT", f"/v2/campaigns/{campaign_id}/orders/{order_id}/items",
                      key=campaign_id, body=change.body())

    def update_order_status(self: MarketClient, campaign_id: int, order_id: int, status: str,
                            substatus: str | None = None) -> Order:
        """updateOrderStatus: PUT .../orders/{orderId}/status."""
        data = self._request("updateOrderStatus", "PUT", f"/v2/campaigns/{campaign_id}/orders/{order_id}/status",
                             key=campaign_id, body=StatusChange(status, substatus).body())
        return Order.from_v2(data["order"], campaign_id)

    def update_order_statuses(self: MarketClient, campaign_id: int, changes: list[tuple[int, str, str | None]]
                              ) -> list[StatusUpdateResult]:
        """updateOrderStatuses: POST .../orders/status-update, at most 30 orders per call."""
        if not 1 <= len(changes) <= MAX_STATUS_UPDATES:
            raise ValueError(f"1 to {MAX_STATUS_UPDATES} orders per call")
        body = StatusChanges(tuple(OrderStatusChange(oid, st, sub) for oid, st, sub in changes)).body()
        data = self._request("updateOrderStatuses", "POST", f"/v2/campaigns/{campaign_id}/orders/status-update",
                             key=campaign_id, body=body, cost=len(changes))
        return [StatusUpdateResult(int(r.get("id") or 0), r.get("updateStatus") == "OK", r.get("status", ""),
                                   r.get("substatus", ""), r.get("errorDetails", ""))
                for r in self._result(data, "updateOrderStatuses")["orders"]]

    def set_order_shipment_boxes(self: MarketClient, campaign_id: int, order_id: int, shipment_id: int, places: int
                                 ) -> list[ParcelBox]:
        """setOrderShipmentBoxes (DBS; deprecated, off 2027-04-05): the number of cargo places is the
        length of ``boxes``, an array of empty objects."""
        body = CargoPlaces(shipment_id, places).body()
        data = self._request("setOrderShipmentBoxes", "PUT",
                             f"/v2/campaigns/{campaign_id}/orders/{order_id}/delivery/shipments/{shipment_id}/boxes",
                             key=campaign_id, body=body)
        return [ParcelBox(b.get("id"), b.get("fulfilmentId", ""))
                for b in self._result(data, "setOrderShipmentBoxes")["boxes"]]

    def accept_order_cancellation(self: MarketClient, campaign_id: int, order_id: int, accepted: bool,
                                  reason: CancellationReason | None = None) -> None:
        """acceptOrderCancellation (DBS): PUT .../orders/{orderId}/cancellation/accept (500 per hour)."""
        body = CancellationDecision(accepted, reason).body()
        self._request("acceptOrderCancellation", "PUT",
                      f"/v2/campaigns/{campaign_id}/orders/{order_id}/cancellation/accept", key=campaign_id,
                      body=body)

    def provide_order_digital_codes(self: MarketClient, campaign_id: int, order_id: int,
                                    items: list[DigitalItem]) -> None:
        """provideOrderDigitalCodes: POST .../orders/{orderId}/deliverDigitalGoods (within 30 minutes)."""
        self._request("provideOrderDigitalCodes", "POST",
                      f"/v2/campaigns/{campaign_id}/orders/{order_id}/deliverDigitalGoods", key=campaign_id,
                      body=DigitalCodes(tuple(items)).body())
