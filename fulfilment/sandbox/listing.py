"""Reading orders: getBusinessOrders (the sync's method), the deprecated getOrders and getOrder, and
getOrderBuyerInfo. Filters become SQL over the store's indexed columns; pages follow a token of the
last (updated_at, id) seen, so a page never skips or repeats an order."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

from fulfilment.market.limits import MAX_DATE_RANGE_DAYS, MAX_PAGE_SIZE

from .cancellation import expire_unanswered
from .clock import MSK, UTC, now_utc
from .protocol import ApiError, Request, Response, bad
from .render import to_v1, to_v2
from .state import MarketState


def encode_token(updated: str, order_id: int) -> str:
    """The next page's token: the last (updated_at, id) of this page."""
    return base64.urlsafe_b64encode(json.dumps([updated, order_id]).encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, int]:
    """A page token back to (updated_at, id); 400 when it is not one of ours."""
    try:
        updated, order_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return str(updated), int(order_id)
    except (ValueError, TypeError) as exc:
        raise bad("pageToken is not valid", "INVALID_PAGE_TOKEN") from exc


def page_limit(req: Request) -> int:
    """The page size asked for, at most the Market's maximum."""
    raw = req.q("limit")
    if raw is None:
        return MAX_PAGE_SIZE
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad("limit must be a number") from exc
    if value < 1:
        raise bad("limit must be at least 1")
    return min(value, MAX_PAGE_SIZE)  # the Market truncates larger values


def _check_range(frm: dt.datetime | None, to: dt.datetime | None, name: str) -> None:
    if frm and to:
        if to < frm:
            raise bad(f"{name}: the end is before the start", "INVALID_DATE_RANGE")
        if to - frm > dt.timedelta(days=MAX_DATE_RANGE_DAYS):
            raise bad(f"{name}: at most {MAX_DATE_RANGE_DAYS} days per request", "INVALID_DATE_RANGE")


def parse_dt(value: str | None, name: str) -> dt.datetime | None:
    """A date (DD-MM-YYYY) or an ISO moment; without an offset it is Moscow time."""
    if not value:
        return None
    try:
        if re.match(r"^\d{2}-\d{2}-\d{4}$", value):
            return dt.datetime.strptime(value, "%d-%m-%Y").replace(tzinfo=MSK)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad(f"{name}: {value!r} is not a date", "INVALID_DATE") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=MSK)


def select_page(market: MarketState, where: list[str], params: list[Any], after: tuple[str, int] | None,
                limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of orders matching ``where``, oldest change first, and the token of the next page."""
    if after:
        where.append("(updated_at > ? OR (updated_at = ? AND id > ?))")
        params += [after[0], after[0], after[1]]
    sql = ("SELECT id, updated_at FROM market_order WHERE " + " AND ".join(where or ["1=1"])
           + " ORDER BY updated_at, id LIMIT ?")
    rows = market.store.query(sql, [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    orders = []
    for row in rows:
        order = market.store.order(row["id"])
        assert order is not None
        if expire_unanswered(market, order):
            market.store.save_order(order)
        orders.append(order)
    token = encode_token(rows[-1]["updated_at"], rows[-1]["id"]) if more and rows else None
    return orders, token


def _common_filters(body: dict[str, Any]) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if body.get("orderIds"):
        ids = [int(i) for i in body["orderIds"]]
        where.append(f"id IN ({','.join('?' * len(ids))})")
        params += ids
    for key, column in (("statuses", "status"), ("substatuses", "substatus")):
        values = body.get(key) or []
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params += values
    if body.get("fake") is not None:
        where.append("fake = ?")
        params.append(int(bool(body["fake"])))
    if body.get("waitingForCancellationApprove"):
        where.append("cancel_requested = 1 AND status IN ('DELIVERY', 'PICKUP')")
    return where, params


def _date_filters(where: list[str], params: list[Any], created: tuple[Any, Any], updated: tuple[Any, Any],
                  shipment: tuple[Any, Any], has_ids: bool) -> None:
    c_from, c_to = created
    u_from, u_to = updated
    s_from, s_to = shipment
    _check_range(c_from, c_to, "creation date")
    _check_range(u_from, u_to, "update date")
    _check_range(s_from, s_to, "shipment date")
    if not any((c_from, c_to, u_from, u_to, s_from, s_to)) and not has_ids:
        c_from = now_utc() - dt.timedelta(days=MAX_DATE_RANGE_DAYS)  # the documented default window
    if c_from:
        where.append("created_at >= ?")
        params.append(c_from.astimezone(UTC).isoformat(timespec="microseconds"))
    if c_to:
        if c_from and c_to - c_from < dt.timedelta(days=1):
            c_to = c_from + dt.timedelta(days=1)
        where.append("created_at < ?")
        params.append(c_to.astimezone(UTC).isoformat(timespec="microseconds"))
    if u_from:
        where.append("updated_at >= ?")
        params.append(u_from.astimezone(UTC).isoformat(timespec="microseconds"))
    if u_to:
        where.append("updated_at < ?")
        params.append(u_to.astimezone(UTC).isoformat(timespec="microseconds"))
    if s_from:
        where.append("shipment_date >= ?")
        params.append(s_from.date().isoformat())
    if s_to:
        where.append("shipment_date <= ?")
        params.append(s_to.date().isoformat())


def get_business_orders(market: MarketState, req: Request) -> Response:
    """POST v1 businesses/{id}/orders: the business's orders as BusinessOrderDTO."""
    body = req.body or {}
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    where, params = _common_filters(body)
    where.insert(0, "business_id = ?")
    params.insert(0, req.params["businessId"])
    if body.get("campaignIds"):
        ids = [int(i) for i in body["campaignIds"]]
        for cid in ids:
            campaign = market.store.campaign(cid)
            if campaign is None or campaign["business_id"] != req.business_id:
                raise ApiError(403, "FORBIDDEN", f"No access to campaign {cid}")
        where.append(f"campaign_id IN ({','.join('?' * len(ids))})")
        params += ids
    dates = body.get("dates") or {}

    def d(name: str) -> dt.datetime | None:
        return parse_dt(dates.get(name), name)

    _date_filters(where, params, (d("creationDateFrom"), d("creationDateTo")),
                  (d("updateDateFrom"), d("updateDateTo")), (d("shipmentDateFrom"), d("shipmentDateTo")),
                  bool(body.get("orderIds")))
    token = req.q("pageToken", "page_token")
    orders, next_token = select_page(market, where, params, decode_token(token) if token else None,
                                     page_limit(req))
    result: dict[str, Any] = {"orders": [to_v1(o) for o in orders]}
    if next_token:
        result["paging"] = {"nextPageToken": next_token}
    return Response(body=result)


def get_orders(market: MarketState, req: Request) -> Response:
    """Deprecated GET v2 campaigns/{id}/orders (retired 2027-04-12), same data as OrderDTO."""
    body = {
        "orderIds": req.qlist("orderIds") or None,
        "statuses": req.qlist("status") or None,
        "substatuses": req.qlist("substatus") or None,
        "fake": None if req.q("fake") is None else req.q("fake") == "true",
        "waitingForCancellationApprove": req.q("onlyWaitingForCancellationApprove") == "true",
    }
    where, params = _common_filters(body)
    where.insert(0, "campaign_id = ?")
    params.insert(0, req.params["campaignId"])

    def d(name: str) -> dt.datetime | None:
        return parse_dt(req.q(name), name)

    _date_filters(where, params, (d("fromDate"), d("toDate")), (d("updatedAtFrom"), d("updatedAtTo")),
                  (d("supplierShipmentDateFrom"), d("supplierShipmentDateTo")), bool(body["orderIds"]))
    buyer_type = req.q("buyerType")
    token = req.q("pageToken", "page_token")
    orders, next_token = select_page(market, where, params, decode_token(token) if token else None,
                                     page_limit(req))
    if buyer_type:
        orders = [o for o in orders if o.get("buyerType", "PERSON") == buyer_type]
    result: dict[str, Any] = {"orders": [to_v2(o) for o in orders],
                              "pager": {"from": 1 if orders else 0, "to": len(orders),
                                        "pageSize": page_limit(req)}}
    if next_token:
        result["paging"] = {"nextPageToken": next_token}
    return Response(body=result)


def get_order(market: MarketState, req: Request) -> Response:
    """Deprecated GET v2 .../orders/{id}: one order as OrderDTO."""
    return Response(body={"order": to_v2(market.load(req))})


def buyer(market: MarketState, req: Request) -> Response:
    """getOrderBuyerInfo: the buyer's name, phone and type."""
    order = market.load(req)
    info = dict(order["_sandbox"].get("buyer", {}))
    info["type"] = order.get("buyerType", "PERSON")
    return Response(body={"status": "OK", "result": info})
