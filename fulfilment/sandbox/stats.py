"""getOrdersStats (seed 002): orders with their items, payments and commissions, by creation or
update date, paged like the listing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .clock import UTC
from .listing import decode_token, parse_dt, select_page
from .protocol import Request, Response
from .state import MarketState

# The order's status as the statistics name it.
STAT_STATUS = {"PROCESSING": "PROCESSING", "DELIVERY": "DELIVERY", "PICKUP": "PICKUP", "DELIVERED": "DELIVERED",
               "CANCELLED": "CANCELLED_IN_PROCESSING", "RETURNED": "RETURNED",
               "PARTIALLY_RETURNED": "PARTIALLY_RETURNED", "PENDING": "PENDING", "RESERVED": "RESERVED",
               "UNPAID": "PENDING"}


def _stat_order(o: dict[str, Any]) -> dict[str, Any]:
    created = dt.datetime.fromisoformat(o["creationDate"])
    items = []
    for it in o["items"]:
        payment = ((it.get("prices") or {}).get("payment") or {}).get("value", 0)
        items.append({
            "offerName": it["offerName"], "marketSku": 100000 + it["id"] % 1000000, "shopSku": it["offerId"],
            "count": it["count"],
            "prices": [{"type": "BUYER", "costPerItem": round(payment / it["count"], 2),
                        "total": payment}],
            "warehouse": {"id": 1, "name": "Sandbox"},
        })
    stat = STAT_STATUS.get(o["status"], "PROCESSING")
    if stat.startswith("PROCESSING") and o["substatus"] == "READY_TO_SHIP":
        stat = "PROCESSING"
    return {
        "id": o["orderId"], "creationDate": created.date().isoformat(),
        "statusUpdateDate": dt.datetime.fromisoformat(o.get("updateDate") or o["creationDate"])
        .isoformat(timespec="seconds"),
        "status": stat, "fake": o["fake"], "partnerOrderId": str(o["orderId"]),
        "paymentType": "PREPAID" if o["paymentType"] == "PREPAID" else "POSTPAID",
        "deliveryRegion": {"id": 213, "name": "Москва"},
        "items": items, "currency": "RUR",
        "payments": [{"id": f"pay-{o['orderId']}", "date": created.date().isoformat(), "type": "PAYMENT",
                      "source": "BUYER", "total": sum(i["prices"][0]["total"] for i in items)}],
        "commissions": [{"type": "FEE",
                         "actual": round(sum(i["prices"][0]["total"] for i in items) * 0.05, 2)}],
    }


def stats(market: MarketState, req: Request) -> Response:
    """getOrdersStats (seed 002): orders with their items and payments, by creation/update date."""
    body = req.body or {}
    where = ["campaign_id = ?"]
    params: list[Any] = [req.params["campaignId"]]
    for key, column in (("dateFrom", "created_at >="), ("dateTo", "created_at <"),
                        ("updateFrom", "updated_at >="), ("updateTo", "updated_at <")):
        if body.get(key):
            day = parse_dt(body[key], key)
            assert day is not None
            if key.endswith("To"):
                day += dt.timedelta(days=1)
            where.append(f"{column} ?")
            params.append(day.astimezone(UTC).isoformat(timespec="microseconds"))
    if body.get("orders"):
        where.append(f"id IN ({','.join('?' * len(body['orders']))})")
        params += [int(i) for i in body["orders"]]
    token = req.q("pageToken", "page_token")
    raw_limit = req.q("limit")
    limit = min(int(raw_limit), 200) if raw_limit else 200
    orders, next_token = select_page(market, where, params, decode_token(token) if token else None, limit)
    result: dict[str, Any] = {"orders": [_stat_order(o) for o in orders]}
    if next_token:
        result["paging"] = {"nextPageToken": next_token}
    return Response(body={"status": "OK", "result": result})
