"""The Market's order statistics (getOrdersStats, seed 002): every order line of a period, streamed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .dates import parse_date
from .types import _dec

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


@dataclass(frozen=True)
class StatsItem:
    offer_name: str
    shop_sku: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class StatsOrder:
    id: int
    created: dt.date | None
    status: str
    fake: bool
    items: tuple[StatsItem, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StatsOrder:
        items = []
        for it in d.get("items") or ():
            total = sum((_dec(p.get("total")) for p in it.get("prices") or () if p.get("type") == "BUYER"), Decimal(0))
            items.append(StatsItem(it.get("offerName", ""), it.get("shopSku", ""), int(it.get("count", 0)), total))
        return cls(int(d["id"]), parse_date(d.get("creationDate")), d.get("status", ""), bool(d.get("fake")),
                   tuple(items), d)


class StatsApi:
    """The statistics method of ``MarketClient``."""

    def iter_orders_stats(self: MarketClient, campaign_id: int, date_from: dt.date, date_to: dt.date, limit: int = 200
                          ) -> Iterator[StatsOrder]:
        """getOrdersStats (seed 002): POST v2/campaigns/{campaignId}/stats/orders, streamed."""
        token: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit}
            if token:
                params["page_token"] = token
            data = self._request("getOrdersStats", "POST", f"/v2/campaigns/{campaign_id}/stats/orders",
                                 key=campaign_id, params=params,
                                 body={"dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat()})
            result = self._result(data, "getOrdersStats")
            for o in result.get("orders") or ():
                yield StatsOrder.from_json(o)
            token = (result.get("paging") or {}).get("nextPageToken")
            if not token or not result.get("orders"):
                return
