"""First-mile shipments (FBS): the Market's daily batches of a campaign's orders, per warehouse.

A shipment is formed at its cutoff; from then it can be confirmed (``availableActions`` holds
``CONFIRM``; earlier the Market answers 400 "Cutoff time for shipments has not been reached yet").
Orders that will not be ready can be moved to the next shipment while more than half an hour is
left before it is formed, at most 500 a call (this lowers the shop's quality index). Every method
here shares the budget of 200 requests an hour per campaign.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .dates import parse_datetime
from .limits import MAX_SHIPMENTS_PAGE, MAX_TRANSFER_ORDERS
from .types import _need, enum_or_str

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient
    from .shipment_changes import ShipmentChange


# confirmShipment's 400 before the shipment is formed, word for word (the spec's description of the method).
CUTOFF_NOT_REACHED = "Cutoff time for shipments has not been reached yet"


class ShipmentStatus(StrEnum):
    OUTBOUND_CREATED = "OUTBOUND_CREATED"
    OUTBOUND_READY_FOR_CONFIRMATION = "OUTBOUND_READY_FOR_CONFIRMATION"
    OUTBOUND_CONFIRMED = "OUTBOUND_CONFIRMED"
    OUTBOUND_SIGNED = "OUTBOUND_SIGNED"
    ACCEPTED = "ACCEPTED"
    ACCEPTED_WITH_DISCREPANCIES = "ACCEPTED_WITH_DISCREPANCIES"
    FINISHED = "FINISHED"
    ERROR = "ERROR"


class ShipmentAction(StrEnum):
    CONFIRM = "CONFIRM"
    DOWNLOAD_ACT = "DOWNLOAD_ACT"
    DOWNLOAD_INBOUND_ACT = "DOWNLOAD_INBOUND_ACT"
    DOWNLOAD_DISCREPANCY_ACT = "DOWNLOAD_DISCREPANCY_ACT"
    DOWNLOAD_TRANSPORTATION_WAYBILL = "DOWNLOAD_TRANSPORTATION_WAYBILL"
    CHANGE_PALLETS_COUNT = "CHANGE_PALLETS_COUNT"


class ShipmentType(StrEnum):
    IMPORT = "IMPORT"  # the seller brings the orders to a sorting centre or reception point
    WITHDRAW = "WITHDRAW"  # the Market's couriers collect them at the seller's warehouse


@dataclass(frozen=True)
class ShipmentWarehouse:
    """``PartnerShipmentWarehouseDTO``."""

    id: int
    name: str
    address: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShipmentWarehouse:
        return cls(int(_need(d, "id", "PartnerShipmentWarehouseDTO")), d.get("name") or "", d.get("address") or "")


@dataclass(frozen=True)
class FirstMileShipment:
    """``ShipmentInfoDTO`` (searchShipments) and ``ShipmentDTO`` (getShipment, which adds
    ``availableActions``; in a search result they are empty)."""

    id: int
    external_id: str
    order_ids: tuple[int, ...]
    plan_from: dt.datetime | None
    plan_to: dt.datetime | None
    draft_count: int
    planned_count: int
    fact_count: int
    signed: bool
    status: ShipmentStatus | str
    status_description: str
    status_updated_at: dt.datetime | None
    shipment_type: ShipmentType | str
    warehouse: ShipmentWarehouse | None
    warehouse_to: ShipmentWarehouse | None
    delivery_service_id: int | None
    delivery_service_name: str
    pallets_planned: int | None
    pallets_fact: int | None
    available_actions: tuple[ShipmentAction | str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FirstMileShipment:
        current = d.get("currentStatus") or {}
        service = d.get("deliveryService") or {}
        pallets = d.get("palletsCount") or {}
        return cls(
            id=int(_need(d, "id", "ShipmentDTO")), external_id=str(d.get("externalId") or ""),
            order_ids=tuple(int(i) for i in _need(d, "orderIds", "ShipmentDTO")),
            plan_from=parse_datetime(d.get("planIntervalFrom")), plan_to=parse_datetime(d.get("planIntervalTo")),
            draft_count=int(d.get("draftCount") or 0), planned_count=int(d.get("plannedCount") or 0),
            fact_count=int(d.get("factCount") or 0), signed=bool((d.get("signature") or {}).get("signed")),
            status=enum_or_str(ShipmentStatus, d.get("status") or current.get("status")),
            status_description=d.get("statusDescription") or current.get("description") or "",
            status_updated_at=parse_datetime(d.get("statusUpdateTime") or current.get("updateTime")),
            shipment_type=enum_or_str(ShipmentType, d.get("shipmentType")),
            warehouse=ShipmentWarehouse.from_json(d["warehouse"]) if d.get("warehouse") else None,
            warehouse_to=ShipmentWarehouse.from_json(d["warehouseTo"]) if d.get("warehouseTo") else None,
            delivery_service_id=service.get("id"), delivery_service_name=service.get("name") or "",
            pallets_planned=pallets.get("planned"), pallets_fact=pallets.get("fact"),
            available_actions=tuple(enum_or_str(ShipmentAction, a) for a in d.get("availableActions") or ()),
            raw=d,
        )

    def can(self, action: ShipmentAction) -> bool:
        """Whether the Market offers ``action`` now (only getShipment's answer says)."""
        return action in self.available_actions


@dataclass(frozen=True)
class ShipmentsFilter:
    """``SearchShipmentsRequest``: shipment dates (inclusive), statuses, orders."""

    date_from: dt.date
    date_to: dt.date
    statuses: tuple[ShipmentStatus | str, ...] = ()
    order_ids: tuple[int, ...] = ()
    cancelled_orders: bool = True

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"dateFrom": self.date_from.isoformat(), "dateTo": self.date_to.isoformat()}
        if self.statuses:
            body["statuses"] = list(dict.fromkeys(str(s) for s in self.statuses))
        if self.order_ids:
            body["orderIds"] = list(dict.fromkeys(self.order_ids))
        if not self.cancelled_orders:
            body["cancelledOrders"] = False
        return body


@dataclass(frozen=True)
class ShipmentsPage:
    shipments: tuple[FirstMileShipment, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class ShipmentOrdersInfo:
    """``OrdersShipmentInfoDTO``: the shipment's orders whose labels can and cannot be printed."""

    with_labels: tuple[int, ...]
    without_labels: tuple[int, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShipmentOrdersInfo:
        return cls(tuple(int(i) for i in d.get("orderIdsWithLabels") or ()),
                   tuple(int(i) for i in d.get("orderIdsWithoutLabels") or ()))


@dataclass(frozen=True)
class ShipmentConfirmation:
    """``ConfirmShipmentRequest``: the seller's own shipment id and, for an electronically signed act,
    the signatory's Yandex ID login (without ``@yandex.ru``)."""

    external_shipment_id: str | None = None
    signatory: str | None = None

    def to_json(self) -> dict[str, str]:
        if self.signatory and "@" in self.signatory:
            raise ValueError("the signatory is a Yandex ID login without @yandex.ru")
        body = {"externalShipmentId": self.external_shipment_id, "signatory": self.signatory}
        return {k: v for k, v in body.items() if v}


class ShipmentsApi:
    """The first-mile shipment methods of ``MarketClient``."""

    def search_shipments(self: MarketClient, campaign_id: int, filters: ShipmentsFilter,
                         page_token: str | None = None, limit: int = MAX_SHIPMENTS_PAGE) -> ShipmentsPage:
        """searchShipments: PUT v2/campaigns/{campaignId}/first-mile/shipments — one page (≤ 30)."""
        params: dict[str, Any] = {"limit": max(1, min(limit, MAX_SHIPMENTS_PAGE))}
        if page_token:
            params["pageToken"] = page_token
        data = self._request("searchShipments", "PUT", f"/v2/campaigns/{campaign_id}/first-mile/shipments",
                             key=campaign_id, params=params, body=filters.to_json())
        result = self._result(data, "searchShipments")
        return ShipmentsPage(tuple(FirstMileShipment.from_json(s) for s in result.get("shipments") or ()),
                             (result.get("paging") or {}).get("nextPageToken"))

    def iter_shipments(self: MarketClient, campaign_id: int, filters: ShipmentsFilter) -> Iterator[FirstMileShipment]:
        """Every shipment the filter finds, page by page."""
        token: str | None = None
        while True:
            page = self.search_shipments(campaign_id, filters, token)
            yield from page.shipments
            if not page.next_page_token or not page.shipments:
                return
            token = page.next_page_token

    def get_shipment(self: MarketClient, campaign_id: int, shipment_id: int, cancelled_orders: bool = True
                     ) -> FirstMileShipment:
        """getShipment: GET .../first-mile/shipments/{shipmentId}, with ``availableActions``."""
        data = self._request("getShipment", "GET", f"/v2/campaigns/{campaign_id}/first-mile/shipments/{shipment_id}",
                             key=campaign_id, params={"cancelledOrders": str(cancelled_orders).lower()})
        return FirstMileShipment.from_json(self._result(data, "getShipment"))

    def get_shipment_orders_info(self: MarketClient, campaign_id: int, shipment_id: int) -> ShipmentOrdersInfo:
        """getShipmentOrdersInfo: GET .../shipments/{shipmentId}/orders/info — whose labels can be printed."""
        data = self._request("getShipmentOrdersInfo", "GET",
                             f"/v2/campaigns/{campaign_id}/first-mile/shipments/{shipment_id}/orders/info",
                             key=campaign_id)
        return ShipmentOrdersInfo.from_json(self._result(data, "getShipmentOrdersInfo"))

    def confirm_shipment(self: MarketClient, campaign_id: int, shipment_id: int,
                         confirmation: ShipmentConfirmation | None = None) -> None:
        """confirmShipment: POST .../shipments/{shipmentId}/confirm (400 before the cutoff)."""
        self._request("confirmShipment", "POST",
                      f"/v2/campaigns/{campaign_id}/first-mile/shipments/{shipment_id}/confirm", key=campaign_id,
                      body=(confirmation or ShipmentConfirmation()).to_json())

    def transfer_orders_from_shipment(self: MarketClient, campaign_id: int, shipment_id: int,
                                      order_ids: Sequence[int]) -> None:
        """transferOrdersFromShipment: POST .../shipments/{shipmentId}/orders/transfer — to the next
        shipment, 1 to 500 orders, refused within 30 minutes of the cutoff; lowers the quality index."""
        ids = list(dict.fromkeys(order_ids))
        if not 1 <= len(ids) <= MAX_TRANSFER_ORDERS:
            raise ValueError(f"1 to {MAX_TRANSFER_ORDERS} orders per transfer")
        self._request("transferOrdersFromShipment", "POST",
                      f"/v2/campaigns/{campaign_id}/first-mile/shipments/{shipment_id}/orders/transfer",
                      key=campaign_id, body={"orderIds": ids})

    def set_shipment_pallets_count(self: MarketClient, campaign_id: int, shipment_id: int, count: int) -> None:
        """setShipmentPalletsCount: PUT .../shipments/{shipmentId}/pallets — the packages carried (not
        the orders' boxes): 2 pallets of 5 orders each is 2."""
        if count < 0:
            raise ValueError("the pallets count cannot be negative")
        self._request("setShipmentPalletsCount", "PUT",
                      f"/v2/campaigns/{campaign_id}/first-mile/shipments/{shipment_id}/pallets", key=campaign_id,
                      body={"placesCount": count})

    def send_shipment_change(self: MarketClient, campaign_id: int, order_id: int, change: ShipmentChange) -> None:
        """Send a shipment change recorded by the outbox (``send_change`` hands them here)."""
        # Function-local: shipment_changes imports this module (ShipmentConfirmation).
        from .shipment_changes import PalletsCount, ShipmentConfirm, ShipmentTransfer

        match change:
            case ShipmentTransfer():
                self.transfer_orders_from_shipment(campaign_id, change.shipment_id, change.order_ids)
            case PalletsCount():
                self.set_shipment_pallets_count(campaign_id, change.shipment_id, change.count)
            case ShipmentConfirm():
                self.confirm_shipment(campaign_id, change.shipment_id, change.confirmation())
            case _:
                self.update_external_order_id(campaign_id, order_id, change.external_id)
