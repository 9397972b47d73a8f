"""The returns' methods: getReturns (filters, pages by update date), getReturn, the buyer's
application (PDF) and photos, the decisions available now and the seller's decision. The rules are
in ``return_rules``; a change to a return notifies the seller (ORDER_RETURN_STATUS_UPDATED)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import return_rules as rules
from .clock import MSK
from .events import _time as notification_time  # the notifications' time format, as the orders' events
from .listing import decode_token, encode_token
from .protocol import ApiError, Request, Response, bad
from .return_data import campaign_returns, load_return, save_return
from .return_files import application_pdf, photo_png
from .state import MarketState
from .store import Store

RETURNS_PAGE = 100


def to_json(ret: dict[str, Any]) -> dict[str, Any]:
    """``ReturnDTO``: the stored return without the sandbox's extras; no pickup point before it ships."""
    out = {k: v for k, v in ret.items() if not k.startswith("_")}
    if out.get("shipmentStatus") in ("CREATED", "RECEIVED", "CANCELLED", "EXPIRED"):
        out.pop("logisticPickupPoint", None)
    return out


def notify_status(store: Store, ret: dict[str, Any], **statuses: str) -> None:
    """ORDER_RETURN_STATUS_UPDATED with the statuses that changed (when the business wants them)."""
    store.queue_notification(ret["_sandbox"]["businessId"], {
        "notificationType": "ORDER_RETURN_STATUS_UPDATED", "campaignId": ret["_sandbox"]["campaignId"],
        "orderId": ret["orderId"], "returnId": ret["id"], "statuses": statuses,
        "updatedAt": notification_time(ret["_sandbox"]["updatedUtc"])})


def _load(market: MarketState, req: Request) -> dict[str, Any]:
    ret = load_return(market.store, req.params["returnId"])
    if ret is None or ret["orderId"] != req.params.get("orderId", ret["orderId"]) \
            or ret["_sandbox"]["campaignId"] != req.params["campaignId"]:
        raise ApiError(404, "RETURN_NOT_FOUND", f"Return {req.params['returnId']} not found")
    return ret


def _date(req: Request, name: str, alias: str) -> dt.date | None:
    value = req.q(name, alias)
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise bad(f"{name} is a date: YYYY-MM-DD") from exc


def get_returns(market: MarketState, req: Request) -> Response:
    """getReturns: the campaign's returns, filtered, oldest change first, in pages."""
    try:
        limit = min(int(req.q("limit") or 50), RETURNS_PAGE)  # a larger limit is truncated, as documented
        order_ids = {int(i) for i in req.qlist("orderIds")}
    except ValueError as exc:
        raise bad("limit and orderIds are numbers") from exc
    if limit < 1 or len(order_ids) > 50:
        raise bad("limit is at least 1; at most 50 orderIds")
    since, till = _date(req, "fromDate", "from_date"), _date(req, "toDate", "to_date")
    statuses, shipment, kind = set(req.qlist("statuses")), set(req.qlist("shipmentStatuses")), req.q("type")
    after = decode_token(token) if (token := req.q("pageToken", "page_token")) else None
    found = []
    for ret in campaign_returns(market.store, req.params["campaignId"]):
        changed = dt.datetime.fromisoformat(ret["_sandbox"]["updatedUtc"])
        day = changed.astimezone(MSK).date()
        if (order_ids and ret["orderId"] not in order_ids) or (statuses and ret.get("refundStatus") not in statuses) \
                or (shipment and ret.get("shipmentStatus") not in shipment) or (kind and ret["returnType"] != kind) \
                or (since and day < since) or (till and day > till):
            continue
        if after and (ret["_sandbox"]["updatedUtc"], ret["id"]) <= after:
            continue
        found.append(ret)
    page = found[:limit]
    result: dict[str, Any] = {"returns": [to_json(r) for r in page]}
    if len(found) > limit:
        result["paging"] = {"nextPageToken": encode_token(page[-1]["_sandbox"]["updatedUtc"], page[-1]["id"])}
    return Response(body={"status": "OK", "result": result})


def get_return(market: MarketState, req: Request) -> Response:
    return Response(body={"status": "OK", "result": to_json(_load(market, req))})


def get_application(market: MarketState, req: Request) -> Response:
    """getReturnApplication: the buyer's application (a buyer's return only; an unredeemed order has none)."""
    ret = _load(market, req)
    if ret["returnType"] != "RETURN":
        raise ApiError(404, "APPLICATION_NOT_FOUND", f"Return {ret['id']} is an unredeemed order: no application")
    order = market.load(req)
    return Response(body=application_pdf(ret, order), content_type="application/pdf")


def get_photo(market: MarketState, req: Request) -> Response:
    """getReturnPhoto: one of the images of the item's claim."""
    ret = _load(market, req)
    claim = next((c for item in ret["items"] for c in item.get("decisions") or ()
                  if c.get("returnItemId") == req.params["itemId"]), None)
    image_hash = str(req.params["imageHash"])  # a hash of digits only came back as a number
    if claim is None or image_hash not in (claim.get("images") or ()):
        raise ApiError(404, "IMAGE_NOT_FOUND", "No such photo in this return item")
    return Response(body=photo_png(image_hash), content_type="image/png")


def available_decisions(market: MarketState, req: Request) -> Response:
    """getReturnAvailableDecisions: what the seller may decide on the return now."""
    body = req.body if isinstance(req.body, dict) else {}
    campaign_id, return_id = body.get("campaignId"), body.get("returnId")
    if not isinstance(campaign_id, int) or not isinstance(return_id, int):
        raise bad("campaignId and returnId are required")
    campaign = market.store.campaign(campaign_id)
    ret = load_return(market.store, return_id)
    if campaign is None or campaign["business_id"] != req.business_id or ret is None \
            or ret["_sandbox"]["campaignId"] != campaign_id:
        raise ApiError(404, "RETURN_NOT_FOUND", f"Return {return_id} not found")
    return Response(body={"status": "OK", "result": {"availableDecisions": rules.available(market, ret)}})


def submit_decision(market: MarketState, req: Request) -> Response:
    """submitReturnDecision: every waiting item decided at once, within the time; refused whole otherwise."""
    body = req.body if isinstance(req.body, dict) else {}
    with market.store.tx() as conn:
        ret = _load(market, req)
        rules.decide(market, ret, body.get("returnItemDecisions"))
        save_return(market.store, ret, conn)
        notify_status(market.store, ret, refundStatus=ret["refundStatus"])
    return Response(body={"status": "OK"})
