"""Typed requests and responses of the order methods.

Enumerations are ``StrEnum``s of the documented values; a value the Market adds later is kept as a
plain ``str`` ("other values may be returned"), never an error. Money is ``Decimal``. Every parsed
order keeps its ``raw`` JSON so nothing the Market sent is lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .dates import parse_date, parse_datetime, parse_time
from .enums import (  # re-exported: types is where callers look for the Market's vocabulary
    BuyerType as BuyerType,
    CancellationReason as CancellationReason,
    E as E,
    InstanceType as InstanceType,
    ItemsModificationReason as ItemsModificationReason,
    OrderStatus as OrderStatus,
    OrderSubstatus as OrderSubstatus,
    PageFormat as PageFormat,
    PlacementType as PlacementType,
    enum_or_str as enum_or_str,
)
from .errors import MarketProtocolError


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _money(obj: dict[str, Any] | None, key: str) -> Decimal:
    return _dec(((obj or {}).get(key) or {}).get("value"))


def _need(d: dict[str, Any], key: str, where: str) -> Any:
    try:
        return d[key]
    except (KeyError, TypeError) as exc:
        raise MarketProtocolError(f"{where}: '{key}' is missing in the Market's answer") from exc


# --- codes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instance:
    """``BriefOrderItemInstanceDTO`` (sent) / ``OrderItemInstanceDTO`` (received): one unit's code."""

    cis: str | None = None
    uin: str | None = None
    rnpt: str | None = None
    gtd: str | None = None
    country_code: str | None = None
    cis_full: str | None = None  # received only

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Instance:
        return cls(d.get("cis"), d.get("uin"), d.get("rnpt"), d.get("gtd"), d.get("countryCode"), d.get("cisFull"))

    def to_json(self) -> dict[str, str]:
        """Exactly one code field (plus countryCode); json.dumps turns chr(29) into ``\\u001d``."""
        out = {k: v for k, v in (("cis", self.cis), ("uin", self.uin), ("rnpt", self.rnpt), ("gtd", self.gtd)) if v}
        if len(out) != 1:
            raise ValueError("an instance carries exactly one of cis, uin, rnpt, gtd")
        if self.country_code:
            out["countryCode"] = self.country_code
        return out


# --- campaigns -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Campaign:
    id: int
    domain: str
    placement_type: PlacementType | str
    business_id: int | None
    business_name: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Campaign:
        business = d.get("business") or {}
        return cls(int(_need(d, "id", "CampaignDTO")), d.get("domain", ""),
                   enum_or_str(PlacementType, d.get("placementType")), business.get("id"), business.get("name", ""))


# --- orders --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderItem:
    id: int
    offer_id: str
    offer_name: str
    count: int
    payment: Decimal  # for all units
    subsidy: Decimal
    unit_price: Decimal
    buyer_unit_price: Decimal
    vat: str
    required_instance_types: tuple[InstanceType | str, ...]
    tags: tuple[str, ...]
    promos: tuple[dict[str, Any], ...]
    instances: tuple[Instance, ...]

    @classmethod
    def from_business(cls, d: dict[str, Any]) -> OrderItem:
        prices = d.get("prices") or {}
        count = int(_need(d, "count", "BusinessOrderItemDTO"))
        payment, subsidy = _money(prices, "payment"), _money(prices, "subsidy")
        return cls(
            id=int(_need(d, "id", "BusinessOrderItemDTO")), offer_id=d["offerId"], offer_name=d.get("offerName", ""),
            count=count, payment=payment, subsidy=subsidy,
            unit_price=((payment + subsidy) / count).quantize(Decimal("0.01")) if count else Decimal(0),
            buyer_unit_price=(payment / count).quantize(Decimal("0.01")) if count else Decimal(0),
            vat=prices.get("vat", ""),
            required_instance_types=tuple(enum_or_str(InstanceType, t) for t in d.get("requiredInstanceTypes") or ()),
            tags=tuple(d.get("tags") or ()), promos=(),
            instances=tuple(Instance.from_json(i) for i in d.get("instances") or ()),
        )

    @classmethod
    def from_v2(cls, d: dict[str, Any]) -> OrderItem:
        count = int(_need(d, "count", "OrderItemDTO"))
        price, buyer_price = _dec(d.get("price")), _dec(d.get("buyerPrice"))
        return cls(
            id=int(_need(d, "id", "OrderItemDTO")), offer_id=d["offerId"], offer_name=d.get("offerName", ""),
            count=count, payment=buyer_price * count, subsidy=(price - buyer_price) * count, unit_price=price,
            buyer_unit_price=buyer_price, vat=d.get("vat", ""),
            required_instance_types=tuple(enum_or_str(InstanceType, t) for t in d.get("requiredInstanceTypes") or ()),
            tags=tuple(d.get("tags") or ()), promos=tuple(d.get("promos") or ()),
            instances=tuple(Instance.from_json(i) for i in d.get("instances") or ()),
        )


@dataclass(frozen=True)
class PartialCount:
    current: int
    total: int


@dataclass(frozen=True)
class BoxLine:
    """``OrderBoxLayoutItemDTO``: whole units (``full_count``) or one part of a unit."""

    item_id: int
    full_count: int | None = None
    partial: PartialCount | None = None
    instances: tuple[Instance, ...] = ()

    def __post_init__(self) -> None:
        if (self.full_count is None) == (self.partial is None):
            raise ValueError("a box line has either full_count or partial")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BoxLine:
        part = d.get("partialCount")
        return cls(int(d["id"]), d.get("fullCount"),
                   PartialCount(int(part["current"]), int(part["total"])) if part else None,
                   tuple(Instance.from_json(i) for i in d.get("instances") or ()))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.item_id}
        if self.full_count is not None:
            out["fullCount"] = self.full_count
        else:
            assert self.partial is not None
            out["partialCount"] = {"current": self.partial.current, "total": self.partial.total}
        if self.instances:
            out["instances"] = [i.to_json() for i in self.instances]
        return out


@dataclass(frozen=True)
class LayoutBox:
    """A box of the layout as the Market knows it (``boxId`` and, from the business method, ``barcode``)."""

    box_id: int | None
    barcode: str
    lines: tuple[BoxLine, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LayoutBox:
        return cls(d.get("boxId"), d.get("barcode", ""), tuple(BoxLine.from_json(i) for i in d.get("items") or ()))


@dataclass(frozen=True)
class Shipment:
    id: int | None
    date: dt.date | None
    time: str


@dataclass(frozen=True)
class DeliveryDates:
    """``BusinessOrderDeliveryDatesDTO`` / ``OrderDeliveryDatesDTO``: when the order is delivered.
    Times are 24-hour ``HH:MM`` as the descriptions say (see ``dates.parse_time``)."""

    from_date: dt.date | None
    to_date: dt.date | None
    from_time: dt.time | None = None
    to_time: dt.time | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> DeliveryDates | None:
        if not d:
            return None
        return cls(parse_date(d.get("fromDate")), parse_date(d.get("toDate") or d.get("fromDate")),
                   parse_time(d.get("fromTime")), parse_time(d.get("toTime")))


@dataclass(frozen=True)
class Order:
    id: int
    campaign_id: int
    status: OrderStatus | str
    substatus: OrderSubstatus | str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    program_type: str
    external_order_id: str
    payment_type: str
    payment_method: str
    fake: bool
    buyer_type: BuyerType | str
    notes: str
    cancel_requested: bool
    delivery_type: str
    delivery_service_name: str
    dispatch_type: str
    shipment: Shipment | None
    boxes_layout: tuple[LayoutBox, ...]
    items: tuple[OrderItem, ...]
    items_total: Decimal
    delivery_total: Decimal
    subsidy_total: Decimal
    currency: str
    expiry_date: dt.datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    delivery_dates: DeliveryDates | None = None

    @classmethod
    def from_business(cls, d: dict[str, Any]) -> Order:
        """From ``BusinessOrderDTO`` (POST v1/businesses/{id}/orders)."""
        delivery = _need(d, "delivery", "BusinessOrderDTO")
        ship = delivery.get("shipment")
        prices = d.get("prices") or {}
        items = tuple(OrderItem.from_business(i) for i in _need(d, "items", "BusinessOrderDTO"))
        return cls(
            id=int(_need(d, "orderId", "BusinessOrderDTO")),
            campaign_id=int(_need(d, "campaignId", "BusinessOrderDTO")),
            status=enum_or_str(OrderStatus, d.get("status")), substatus=enum_or_str(OrderSubstatus, d.get("substatus")),
            created_at=parse_datetime(d.get("creationDate")), updated_at=parse_datetime(d.get("updateDate")),
            program_type=d.get("programType", ""), external_order_id=d.get("externalOrderId", ""),
            payment_type=d.get("paymentType", ""), payment_method=d.get("paymentMethod", ""),
            fake=bool(d.get("fake")), buyer_type=enum_or_str(BuyerType, d.get("buyerType") or "PERSON"),
            notes=d.get("notes", ""), cancel_requested=bool(d.get("cancelRequested")),
            delivery_type=delivery.get("type", ""), delivery_service_name=delivery.get("serviceName", ""),
            dispatch_type=delivery.get("dispatchType", ""),
            shipment=Shipment(ship.get("id"), parse_date(ship.get("shipmentDate")), ship.get("shipmentTime") or "")
            if ship else None,
            boxes_layout=tuple(LayoutBox.from_json(b) for b in delivery.get("boxesLayout") or ()),
            items=items,
            items_total=sum((i.payment + i.subsidy for i in items), Decimal(0)),
            delivery_total=_money((prices.get("delivery") or {}), "payment"),
            subsidy_total=_money(prices, "subsidy"),
            currency=((prices.get("payment") or {}).get("currencyId") or "RUR"),
            expiry_date=None, raw=d, delivery_dates=DeliveryDates.from_json(delivery.get("dates")),
        )

    @classmethod
    def from_v2(cls, d: dict[str, Any], campaign_id: int) -> Order:
        """From the deprecated ``OrderDTO`` (GET v2 campaigns/{id}/orders[/{orderId}])."""
        delivery = _need(d, "delivery", "OrderDTO")
        shipments = delivery.get("shipments") or []
        ship = shipments[0] if shipments else None
        boxes = tuple(LayoutBox(b.get("id"), b.get("fulfilmentId", ""), ()) for b in (ship or {}).get("boxes") or ())
        return cls(
            id=int(_need(d, "id", "OrderDTO")), campaign_id=campaign_id,
            status=enum_or_str(OrderStatus, d.get("status")), substatus=enum_or_str(OrderSubstatus, d.get("substatus")),
            created_at=parse_datetime(d.get("creationDate")), updated_at=parse_datetime(d.get("updatedAt")),
            program_type="", external_order_id=d.get("externalOrderId", ""),
            payment_type=d.get("paymentType", ""), payment_method=d.get("paymentMethod", ""),
            fake=bool(d.get("fake")), buyer_type=enum_or_str(BuyerType, (d.get("buyer") or {}).get("type") or "PERSON"),
            notes=d.get("notes", ""), cancel_requested=bool(d.get("cancelRequested")),
            delivery_type=delivery.get("type", ""), delivery_service_name=delivery.get("serviceName", ""),
            dispatch_type=delivery.get("dispatchType", ""),
            shipment=Shipment(ship.get("id"), parse_date(ship.get("shipmentDate")), ship.get("shipmentTime") or "")
            if ship else None,
            boxes_layout=boxes,
            items=tuple(OrderItem.from_v2(i) for i in _need(d, "items", "OrderDTO")),
            items_total=_dec(d.get("itemsTotal")), delivery_total=_dec(d.get("deliveryTotal")),
            subsidy_total=sum((_dec(s.get("amount")) for s in d.get("subsidies") or ()), Decimal(0)),
            currency=d.get("currency", "RUR"), expiry_date=parse_datetime(d.get("expiryDate")), raw=d,
            delivery_dates=DeliveryDates.from_json(delivery.get("dates")),
        )


@dataclass(frozen=True)
class OrdersPage:
    orders: tuple[Order, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class OrdersFilter:
    """``GetBusinessOrdersRequest``. Dates: creation/shipment are dates, update is an aware datetime."""

    order_ids: tuple[int, ...] = ()
    campaign_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    substatuses: tuple[str, ...] = ()
    creation_from: dt.date | None = None
    creation_to: dt.date | None = None
    shipment_from: dt.date | None = None
    shipment_to: dt.date | None = None
    updated_from: dt.datetime | None = None
    updated_to: dt.datetime | None = None
    fake: bool | None = None
    waiting_for_cancellation_approve: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.order_ids:
            out["orderIds"] = list(self.order_ids)
        if self.campaign_ids:
            out["campaignIds"] = list(self.campaign_ids)
        if self.statuses:
            out["statuses"] = list(self.statuses)
        if self.substatuses:
            out["substatuses"] = list(self.substatuses)
        dates: dict[str, str] = {}
        for key, value in (("creationDateFrom", self.creation_from), ("creationDateTo", self.creation_to),
                           ("shipmentDateFrom", self.shipment_from), ("shipmentDateTo", self.shipment_to)):
            if value:
                dates[key] = value.isoformat()
        for key, moment in (("updateDateFrom", self.updated_from), ("updateDateTo", self.updated_to)):
            if moment:
                if moment.tzinfo is None:
                    raise ValueError("update dates need a time zone")
                dates[key] = moment.isoformat(timespec="seconds")
        if dates:
            out["dates"] = dates
        if self.fake is not None:
            out["fake"] = self.fake
        if self.waiting_for_cancellation_approve is not None:
            out["waitingForCancellationApprove"] = self.waiting_for_cancellation_approve
        return out


# --- results of mutating calls -------------------------------------------------------------------
@dataclass(frozen=True)
class IdentifierStatus:
    """One code's check at the Market (``CisDTO`` / ``UinDTO``)."""

    item_id: int
    kind: str  # "cis" | "uin"
    value: str
    status: str  # OK, IN_PROGRESS, FAILED, INVALID, NOT_ON_VALIDATION, or a newer value
    substatus: str


@dataclass(frozen=True)
class StatusUpdateResult:
    order_id: int
    ok: bool
    status: str
    substatus: str
    error: str


@dataclass(frozen=True)
class ParcelBox:
    id: int | None
    fulfilment_id: str


@dataclass(frozen=True)
class BoxLabel:
    box_id: int
    fulfilment_id: str
    place: str
    url: str
    delivery_service_name: str
    recipient_name: str


@dataclass(frozen=True)
class LabelsData:
    order_id: int
    places: int
    url: str
    boxes: tuple[BoxLabel, ...]


@dataclass(frozen=True)
class BuyerInfo:
    type: str
    first_name: str
    last_name: str
    middle_name: str
    phone: str


@dataclass(frozen=True)
class Operation:
    id: str
    type: str


@dataclass(frozen=True)
class DigitalItem:
    item_id: int
    codes: tuple[str, ...]
    slip: str
    activate_till: dt.date

    def to_json(self) -> dict[str, Any]:
        return {"id": self.item_id, "codes": list(self.codes), "slip": self.slip,
                "activate_till": self.activate_till.isoformat()}
