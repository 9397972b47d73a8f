"""Unredeemed orders (невыкупы) and buyers' returns: the list, one return, the buyer's application
(PDF) and photos, the decisions the Market allows and the seller's decision.

A return lists its items by SKU; each item's ``decisions`` carry the buyer's claim (reason,
comment, photo hashes, the ``returnItemId`` a decision names) and, once decided, the decision;
its ``instances`` are the units' logistic state with their marking codes (``cis``).
Source: https://yandex.ru/dev/market/partner-api/doc/ru/reference/returns/getReturns
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from .dates import parse_datetime
from .enums import enum_or_str
from .limits import MAX_RETURN_ORDER_IDS, MAX_RETURNS_PAGE
from .notification_values import RefundStatus, ReturnShipmentStatus, ReturnType
from .types import _need

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


class DecisionType(StrEnum):
    FAST_REFUND_MONEY = "FAST_REFUND_MONEY"
    REFUND_MONEY = "REFUND_MONEY"
    REFUND_MONEY_INCLUDING_SHIPMENT = "REFUND_MONEY_INCLUDING_SHIPMENT"
    REPAIR = "REPAIR"
    REPLACE = "REPLACE"
    SEND_TO_EXAMINATION = "SEND_TO_EXAMINATION"
    DECLINE_REFUND = "DECLINE_REFUND"
    PARTIAL_MONEY_REFUND = "PARTIAL_MONEY_REFUND"
    OTHER_DECISION = "OTHER_DECISION"
    UNKNOWN = "UNKNOWN"


# The decisions whose comment the Market asks for (ReturnItemDecisionComment).
COMMENT_REQUIRED = frozenset({DecisionType.REFUND_MONEY_INCLUDING_SHIPMENT, DecisionType.REPAIR,
                              DecisionType.DECLINE_REFUND, DecisionType.OTHER_DECISION})


class DeclineReason(StrEnum):
    ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED = "ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED"
    MECHANICAL_DAMAGE = "MECHANICAL_DAMAGE"
    WARRANTY_PERIOD_HAS_EXPIRED = "WARRANTY_PERIOD_HAS_EXPIRED"
    CONFIGURATION_OR_PACKAGING_COMPROMISED = "CONFIGURATION_OR_PACKAGING_COMPROMISED"
    PRODUCT_APPEARANCE_COMPROMISED = "PRODUCT_APPEARANCE_COMPROMISED"
    WARRANTY_TERMS_VIOLATED = "WARRANTY_TERMS_VIOLATED"
    DEVICE_ACTIVATED = "DEVICE_ACTIVATED"


class ReturnReason(StrEnum):
    BAD_QUALITY = "BAD_QUALITY"
    DOES_NOT_FIT = "DOES_NOT_FIT"
    WRONG_ITEM = "WRONG_ITEM"
    DAMAGE_DELIVERY = "DAMAGE_DELIVERY"
    LOYALTY_FAIL = "LOYALTY_FAIL"
    CONTENT_FAIL = "CONTENT_FAIL"
    DELIVERY_FAIL = "DELIVERY_FAIL"
    UNKNOWN = "UNKNOWN"


def _money(d: dict[str, Any] | None) -> Decimal | None:
    return Decimal(str(d["value"])) if d and d.get("value") is not None else None


@dataclass(frozen=True)
class ClaimedItem:
    """``ReturnDecisionDTO``: the buyer's claim for some units of an item and the decision on it."""

    return_item_id: int | None
    count: int
    comment: str
    reason: ReturnReason | str
    subreason: str
    decision: DecisionType | str
    amount: Decimal | None
    images: tuple[str, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ClaimedItem:
        return cls(d.get("returnItemId"), int(d.get("count") or 0), d.get("comment") or "",
                   enum_or_str(ReturnReason, d.get("reasonType")), d.get("subreasonType") or "",
                   enum_or_str(DecisionType, d.get("decisionType")), _money(d.get("amount")),
                   tuple(d.get("images") or ()))


@dataclass(frozen=True)
class ReturnUnit:
    """``ReturnInstanceDTO``: one unit's stock type, logistic status and codes."""

    stock_type: str
    status: str
    cis: str
    imei: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReturnUnit:
        return cls(d.get("stockType") or "", d.get("status") or "", d.get("cis") or "", d.get("imei") or "")


@dataclass(frozen=True)
class ReturnItem:
    """``ReturnItemDTO``."""

    shop_sku: str
    market_sku: int | None
    count: int
    claims: tuple[ClaimedItem, ...]
    units: tuple[ReturnUnit, ...]
    tracks: tuple[str, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReturnItem:
        where = "ReturnItemDTO"
        return cls(str(_need(d, "shopSku", where)), d.get("marketSku"), int(_need(d, "count", where)),
                   tuple(ClaimedItem.from_json(c) for c in d.get("decisions") or ()),
                   tuple(ReturnUnit.from_json(u) for u in d.get("instances") or ()),
                   tuple(t.get("trackCode") or "" for t in d.get("tracks") or ()))


@dataclass(frozen=True)
class PickupPoint:
    """``LogisticPickupPointDTO``: where the seller collects the return."""

    id: int | None
    name: str
    address: str
    instruction: str
    type: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PickupPoint:
        a = d.get("address") or {}
        address = ", ".join(str(a[k]) for k in ("postcode", "city", "street", "house") if a.get(k))
        return cls(d.get("id"), d.get("name") or "", address, d.get("instruction") or "", d.get("type") or "")


@dataclass(frozen=True)
class Return:
    """``ReturnDTO``: an unredeemed order or a buyer's return."""

    id: int
    order_id: int
    return_type: ReturnType | str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    refund_status: RefundStatus | str
    shipment_status: ReturnShipmentStatus | str
    recipient_type: str
    pickup_point: PickupPoint | None
    pickup_till: dt.datetime | None
    amount: Decimal | None
    fast_return: bool
    items: tuple[ReturnItem, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Return:
        point = d.get("logisticPickupPoint")
        return cls(
            id=int(_need(d, "id", "ReturnDTO")), order_id=int(_need(d, "orderId", "ReturnDTO")),
            return_type=enum_or_str(ReturnType, _need(d, "returnType", "ReturnDTO")),
            created_at=parse_datetime(d.get("creationDate")), updated_at=parse_datetime(d.get("updateDate")),
            refund_status=enum_or_str(RefundStatus, d.get("refundStatus")),
            shipment_status=enum_or_str(ReturnShipmentStatus, d.get("shipmentStatus")),
            recipient_type=d.get("shipmentRecipientType") or "",
            pickup_point=PickupPoint.from_json(point) if point else None,
            pickup_till=parse_datetime(d.get("pickupTillDate")), amount=_money(d.get("amount")),
            fast_return=bool(d.get("fastReturn")),
            items=tuple(ReturnItem.from_json(i) for i in _need(d, "items", "ReturnDTO")), raw=d)


@dataclass(frozen=True)
class ReturnsFilter:
    """getReturns' query: orders (≤ 50), refund and shipment statuses, type, update dates (inclusive)."""

    order_ids: tuple[int, ...] = ()
    refund_statuses: tuple[RefundStatus | str, ...] = ()
    shipment_statuses: tuple[ReturnShipmentStatus | str, ...] = ()
    return_type: ReturnType | None = None
    updated_from: dt.date | None = None
    updated_to: dt.date | None = None

    def to_params(self) -> dict[str, Any]:
        """Lists as repeated parameters (the spec's form style; the Market also reads them joined by commas)."""
        ids = list(dict.fromkeys(self.order_ids))
        if len(ids) > MAX_RETURN_ORDER_IDS:
            raise ValueError(f"at most {MAX_RETURN_ORDER_IDS} orders per call")
        params: dict[str, Any] = {"orderIds": ids,
                                  "statuses": list(dict.fromkeys(str(s) for s in self.refund_statuses)),
                                  "shipmentStatuses": list(dict.fromkeys(str(s) for s in self.shipment_statuses)),
                                  "type": str(self.return_type or ""),
                                  "fromDate": self.updated_from.isoformat() if self.updated_from else "",
                                  "toDate": self.updated_to.isoformat() if self.updated_to else ""}
        return {k: v for k, v in params.items() if v}


@dataclass(frozen=True)
class ReturnsPage:
    returns: tuple[Return, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class CompensationBounds:
    minimum: Decimal
    maximum: Decimal
    max_percent: int


@dataclass(frozen=True)
class AvailableDecision:
    """``ReturnAvailableDecisionDTO``: a decision the Market accepts now, its refusal reasons (for
    DECLINE_REFUND) and the bounds of a partial refund."""

    decision: DecisionType | str
    decline_reasons: tuple[DeclineReason | str, ...]
    bounds: CompensationBounds | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AvailableDecision:
        b = d.get("partialCompensationBounds")
        bounds = CompensationBounds(_money(b["minAmount"]) or Decimal(0), _money(b["maxAmount"]) or Decimal(0),
                                    int(b["maxPercent"])) if b else None
        return cls(enum_or_str(DecisionType, _need(d, "decisionType", "ReturnAvailableDecisionDTO")),
                   tuple(enum_or_str(DeclineReason, r) for r in d.get("decisionReasonTypes") or ()), bounds)


@dataclass(frozen=True)
class ItemDecision:
    """``ReturnItemDecisionDTO``: the seller's decision on one return item."""

    return_item_id: int
    decision: DecisionType
    reason: DeclineReason | None = None
    comment: str = ""
    compensation: Decimal | None = None

    def __post_init__(self) -> None:
        if self.decision == DecisionType.UNKNOWN:
            raise ValueError("UNKNOWN is not a decision")
        if (self.compensation is not None) != (self.decision == DecisionType.PARTIAL_MONEY_REFUND):
            raise ValueError("a compensation goes with PARTIAL_MONEY_REFUND, and only with it")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"returnItemId": self.return_item_id, "decisionType": str(self.decision)}
        if self.reason:
            out["decisionReasonType"] = str(self.reason)
        if self.comment:
            out["comment"] = self.comment
        if self.compensation is not None:
            out["compensation"] = {"value": float(self.compensation), "currencyId": "RUR"}
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ItemDecision:
        comp = d.get("compensation")
        return cls(int(d["returnItemId"]), DecisionType(d["decisionType"]),
                   DeclineReason(d["decisionReasonType"]) if d.get("decisionReasonType") else None,
                   d.get("comment") or "", Decimal(str(comp["value"])) if comp else None)


@dataclass(frozen=True)
class ReturnDecisions:
    """submitReturnDecision as the outbox stores and sends it: the return (and its order, which the
    path names: a return's order need not be mirrored here) and a decision per item."""

    order_id: int
    return_id: int
    decisions: tuple[ItemDecision, ...]

    operation: ClassVar[str] = "submitReturnDecision"

    def __post_init__(self) -> None:
        if not self.decisions:
            raise ValueError("at least one decision")

    def body(self) -> dict[str, Any]:
        return {"returnItemDecisions": [d.to_json() for d in self.decisions]}

    def to_json(self) -> dict[str, Any]:
        return {"orderId": self.order_id, "returnId": self.return_id, **self.body()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReturnDecisions:
        decisions = tuple(ItemDecision.from_json(x) for x in d["returnItemDecisions"])
        return cls(int(d["orderId"]), int(d["returnId"]), decisions)


@dataclass(frozen=True)
class ReturnPhoto:
    content: bytes
    content_type: str


def image_type(content: bytes) -> str:
    """The photo's type from its first bytes (the Market sends JPEG or PNG)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "application/octet-stream"


class ReturnsApi:
    """The returns' methods of ``MarketClient``."""

    def get_returns(self: MarketClient, campaign_id: int, filters: ReturnsFilter | None = None,
                    page_token: str | None = None, limit: int = MAX_RETURNS_PAGE) -> ReturnsPage:
        """getReturns: GET v2/campaigns/{campaignId}/returns — one page (≤ 100)."""
        params: dict[str, Any] = {**(filters or ReturnsFilter()).to_params(),
                                  "limit": max(1, min(limit, MAX_RETURNS_PAGE))}
        if page_token:
            params["pageToken"] = page_token
        data = self._request("getReturns", "GET", f"/v2/campaigns/{campaign_id}/returns", key=campaign_id,
                             params=params)
        result = self._result(data, "getReturns")
        return ReturnsPage(tuple(Return.from_json(r) for r in result.get("returns") or ()),
                           (result.get("paging") or {}).get("nextPageToken"))

    def iter_returns(self: MarketClient, campaign_id: int, filters: ReturnsFilter | None = None) -> Iterator[Return]:
        """Every return the filter finds, page by page."""
        token: str | None = None
        while True:
            page = self.get_returns(campaign_id, filters, token)
            yield from page.returns
            if not page.next_page_token or not page.returns:
                return
            token = page.next_page_token

    def get_return(self: MarketClient, campaign_id: int, order_id: int, return_id: int) -> Return:
        """getReturn: GET v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}."""
        data = self._request("getReturn", "GET", f"/v2/campaigns/{campaign_id}/orders/{order_id}/returns/{return_id}",
                             key=campaign_id)
        return Return.from_json(self._result(data, "getReturn"))

    def get_return_application(self: MarketClient, campaign_id: int, order_id: int, return_id: int) -> bytes:
        """getReturnApplication: the buyer's application for the return, a PDF."""
        return self._request("getReturnApplication", "GET",
                             f"/v2/campaigns/{campaign_id}/orders/{order_id}/returns/{return_id}/application",
                             key=campaign_id, expect="pdf")

    def get_return_photo(self: MarketClient, campaign_id: int, order_id: int, return_id: int, item_id: int,
                         image_hash: str) -> ReturnPhoto:
        """getReturnPhoto: one of the buyer's photos of a return item (``images`` of its claim)."""
        content = self._request(
            "getReturnPhoto", "GET",
            f"/v2/campaigns/{campaign_id}/orders/{order_id}/returns/{return_id}/decision/{item_id}/image/{image_hash}",
            key=campaign_id, expect="image")
        return ReturnPhoto(content, image_type(content))

    def get_return_available_decisions(self: MarketClient, business_id: int, campaign_id: int, return_id: int
                                       ) -> list[AvailableDecision]:
        """getReturnAvailableDecisions: POST v1/businesses/{businessId}/returns/decisions."""
        data = self._request("getReturnAvailableDecisions", "POST", f"/v1/businesses/{business_id}/returns/decisions",
                             key=business_id, body={"campaignId": campaign_id, "returnId": return_id})
        return [AvailableDecision.from_json(d)
                for d in self._result(data, "getReturnAvailableDecisions").get("availableDecisions") or ()]

    def submit_return_decision(self: MarketClient, campaign_id: int, order_id: int, return_id: int,
                               decisions: Sequence[ItemDecision]) -> None:
        """submitReturnDecision: POST .../returns/{returnId}/decision/submit (irreversible)."""
        self._request("submitReturnDecision", "POST",
                      f"/v2/campaigns/{campaign_id}/orders/{order_id}/returns/{return_id}/decision/submit",
                      key=campaign_id, body=ReturnDecisions(order_id, return_id, tuple(decisions)).body())
