"""First-mile shipments: grouping a campaign's orders by shipment date, searching and reading
shipments, confirming, transferring orders, the pallets count. Rules and assumptions: ``shipment_rules``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import shipment_rules as rules
from .clock import MSK, iso_msk
from .protocol import ApiError, Request, Response, bad
from .state import MarketState

SORTING_CENTRE = {"id": 100_001, "name": "СЦ Маркета Софьино", "address": "Московская обл., Софьино, 1"}
DELIVERY_SERVICE = {"id": 1006360, "name": "Маркет Доставка"}
PAGE_DEFAULT, PAGE_MAX = 15, 30


def warehouse(campaign_id: int) -> dict[str, Any]:
    """The campaign's one warehouse (see the assumptions)."""
    return {"id": campaign_id * 10 + 1, "name": f"Склад {campaign_id}", "address": "Москва, Складская ул., 1"}


def _ships_first_mile(market: MarketState, order: dict[str, Any]) -> bool:
    return (order.get("programType") == "FBS" and bool(order["delivery"].get("shipment"))
            and market.placement(order) == "FBS")


def ensure(market: MarketState, campaign_id: int, date: str) -> dict[str, Any]:
    """The campaign's shipment of ``date`` (ISO), created on first sight."""
    store = market.store
    wh = warehouse(campaign_id)["id"]
    found = store.shipment_for(campaign_id, wh, date)
    if found:
        return found
    with store.tx() as conn:
        found = store.shipment_for(campaign_id, wh, date, conn=conn)
        if found:
            return found
        campaign_type = store.get_setting(f"shipment_type:{campaign_id}", "IMPORT")
        shipment = {
            "id": store.next_id("first_mile_shipment", 400_000_001), "campaignId": campaign_id, "warehouseId": wh,
            "date": date, "type": campaign_type, "status": rules.CREATED,
            "statusUpdateTime": market.now().isoformat(), "externalId": "", "signatory": "",
            "cutoff": store.get_setting("shipment_cutoff", rules.DEFAULT_CUTOFF),
            "interval": store.get_setting("shipment_interval"),
            "palletsPlanned": None, "palletsFact": None, "factCount": 0, "discrepancies": False,
            "acceptedOrderIds": None,
        }
        store.save_shipment(shipment, conn=conn)
    return shipment


def ensure_range(market: MarketState, campaign_id: int, date_from: dt.date, date_to: dt.date) -> None:
    """Shipments for every date in the range on which the campaign has orders to ship."""
    dates = {o["delivery"]["shipment"]["shipmentDate"]
             for o in market.store.orders_shipping(campaign_id, date_from.isoformat(), date_to.isoformat())
             if _ships_first_mile(market, o)}
    for date in sorted(dates):
        ensure(market, campaign_id, date)


def orders_of(market: MarketState, shipment: dict[str, Any]) -> list[dict[str, Any]]:
    """The shipment's orders, oldest first (cancelled ones included)."""
    return [o for o in market.store.orders_shipping(shipment["campaignId"], shipment["date"], shipment["date"])
            if _ships_first_mile(market, o)]


def load(market: MarketState, req: Request) -> dict[str, Any]:
    """The path's shipment if it belongs to the path's campaign; 404 otherwise."""
    shipment = market.store.shipment(req.params["shipmentId"])
    if shipment is None or shipment["campaignId"] != req.params["campaignId"]:
        raise ApiError(404, "SHIPMENT_NOT_FOUND", f"Shipment {req.params['shipmentId']} not found")
    return shipment


def status_of(market: MarketState, shipment: dict[str, Any]) -> str:
    return rules.current_status(shipment, market.now())[0]


def require_action(market: MarketState, shipment: dict[str, Any], action: str) -> str:
    """The status, if it allows ``action``; 400 otherwise."""
    status = status_of(market, shipment)
    if action not in rules.available_actions(status, shipment):
        raise bad(f"{action} is not available for shipment {shipment['id']} in status {status}",
                  "SHIPMENT_ACTION_NOT_AVAILABLE")
    return status


def to_json(market: MarketState, shipment: dict[str, Any], *, cancelled: bool = True,
            detailed: bool = False) -> dict[str, Any]:
    """``ShipmentInfoDTO`` (search) or, ``detailed``, ``ShipmentDTO`` (getShipment)."""
    status, since = rules.current_status(shipment, market.now())
    orders = orders_of(market, shipment)
    active = [o for o in orders if rules.is_active(o)]
    plan_from, plan_to = rules.plan_interval(shipment)
    out: dict[str, Any] = {
        "id": shipment["id"], "externalId": shipment["externalId"] or str(shipment["id"]),
        "orderIds": [o["orderId"] for o in (orders if cancelled else active)],
        "planIntervalFrom": iso_msk(plan_from), "planIntervalTo": iso_msk(plan_to),
        "draftCount": len(active), "plannedCount": sum(1 for o in active if rules.is_ready(o)),
        "factCount": shipment["factCount"], "signature": {"signed": bool(shipment["signatory"])},
        "shipmentType": shipment["type"], "warehouse": warehouse(shipment["campaignId"]),
        "warehouseTo": SORTING_CENTRE, "deliveryService": DELIVERY_SERVICE,
    }
    pallets = {k: v for k, v in (("planned", shipment["palletsPlanned"]), ("fact", shipment["palletsFact"]))
               if v is not None}
    if pallets:
        out["palletsCount"] = pallets
    if detailed:
        out["availableActions"] = rules.available_actions(status, shipment)
        out["currentStatus"] = {"status": status, "description": rules.DESCRIPTIONS[status],
                                "updateTime": iso_msk(since)}
    else:
        out.update(status=status, statusDescription=rules.DESCRIPTIONS[status], statusUpdateTime=iso_msk(since))
    return out


def _date(body: dict[str, Any], key: str) -> dt.date:
    value = body.get(key)
    try:
        if isinstance(value, str) and len(value) == 10 and value[2] == "-":
            return dt.datetime.strptime(value, "%d-%m-%Y").date()
        return dt.date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise bad(f"{key}: a date (DD-MM-YYYY or YYYY-MM-DD)") from exc


def search_shipments(market: MarketState, req: Request) -> Response:
    """searchShipments: the campaign's shipments by date range, statuses and orders, paged."""
    body = req.body or {}
    date_from, date_to = _date(body, "dateFrom"), _date(body, "dateTo")
    if date_to < date_from:
        raise bad("dateTo is before dateFrom")
    try:
        limit = int(req.q("limit") or PAGE_DEFAULT)
        offset = int(req.q("pageToken", "page_token") or 0)
    except ValueError as exc:
        raise bad("limit and pageToken are numbers") from exc
    if not 1 <= limit <= PAGE_MAX:
        raise bad(f"limit: 1 to {PAGE_MAX}")
    campaign_id = req.params["campaignId"]
    ensure_range(market, campaign_id, date_from, date_to)
    cancelled = body.get("cancelledOrders", True) is not False
    wanted_statuses = set(body.get("statuses") or ())
    wanted_orders = set(body.get("orderIds") or ())
    found = []
    for shipment in market.store.shipments(campaign_id, date_from.isoformat(), date_to.isoformat()):
        dto = to_json(market, shipment, cancelled=cancelled)
        if wanted_statuses and dto["status"] not in wanted_statuses:
            continue
        if wanted_orders and not wanted_orders & set(dto["orderIds"]):
            continue
        found.append(dto)
    page = found[offset:offset + limit]
    result: dict[str, Any] = {"shipments": page}
    if offset + limit < len(found):
        result["paging"] = {"nextPageToken": str(offset + limit)}
    return Response(body={"status": "OK", "result": result})


def get_shipment(market: MarketState, req: Request) -> Response:
    """getShipment: one shipment with its availableActions."""
    shipment = load(market, req)
    cancelled = (req.q("cancelledOrders") or "true").lower() != "false"
    return Response(body={"status": "OK", "result": to_json(market, shipment, cancelled=cancelled, detailed=True)})


def orders_info(market: MarketState, req: Request) -> Response:
    """getShipmentOrdersInfo: orders whose labels can be printed (a box layout, not cancelled) and the others."""
    shipment = load(market, req)
    orders = orders_of(market, shipment)
    printable = [o["orderId"] for o in orders if rules.is_active(o) and rules.boxes(o)]
    others = [o["orderId"] for o in orders if o["orderId"] not in set(printable)]
    return Response(body={"status": "OK", "result": {"orderIdsWithLabels": printable,
                                                     "orderIdsWithoutLabels": others}})


def confirm(market: MarketState, shipment: dict[str, Any], external_id: str = "", signatory: str = "") -> None:
    """Confirm a formed shipment (signed at once with a signatory); 400 before the cutoff."""
    status = status_of(market, shipment)
    if status == rules.CREATED:
        raise bad(rules.CUTOFF_NOT_REACHED, "CUTOFF_NOT_REACHED")
    if status != rules.READY:
        raise bad(f"Shipment {shipment['id']} is already {status}", "SHIPMENT_ACTION_NOT_AVAILABLE")
    shipment.update(status=rules.SIGNED if signatory else rules.CONFIRMED, statusUpdateTime=market.now().isoformat(),
                    signatory=signatory)
    if external_id:
        shipment["externalId"] = external_id
    market.store.save_shipment(shipment)


def confirm_shipment(market: MarketState, req: Request) -> Response:
    """confirmShipment: after the cutoff only."""
    body = req.body or {}
    shipment = load(market, req)
    confirm(market, shipment, str(body.get("externalShipmentId") or ""), str(body.get("signatory") or ""))
    return Response(body={"status": "OK"})


def transfer_orders(market: MarketState, req: Request) -> Response:
    """transferOrdersFromShipment: to the next day's shipment, more than 30 minutes before the cutoff."""
    shipment = load(market, req)
    raw_ids = (req.body or {}).get("orderIds")
    if not isinstance(raw_ids, list) or not all(isinstance(i, int) for i in raw_ids):
        raise bad("orderIds: a list of order ids")
    order_ids = list(dict.fromkeys(raw_ids))
    members = {o["orderId"]: o for o in orders_of(market, shipment)}
    refusal = rules.transfer_refusal(status_of(market, shipment), shipment, market.now(), order_ids, members)
    if refusal:
        raise bad(refusal, "TRANSFER_NOT_ALLOWED")
    next_date = (dt.date.fromisoformat(shipment["date"]) + dt.timedelta(days=1)).isoformat()
    ensure(market, shipment["campaignId"], next_date)
    with market.store.tx() as conn:
        for order_id in order_ids:
            order = members[order_id]
            order["delivery"]["shipment"]["shipmentDate"] = next_date
            order["_sandbox"].setdefault("transferredFrom", []).append(shipment["id"])
            market.touch(order)
            market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK"})


def set_pallets(market: MarketState, req: Request) -> Response:
    """setShipmentPalletsCount: the packages the seller brings (not the orders' boxes)."""
    shipment = load(market, req)
    count = (req.body or {}).get("placesCount")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise bad("placesCount: a whole number, 0 or more")
    require_action(market, shipment, "CHANGE_PALLETS_COUNT")
    shipment["palletsPlanned"] = count
    market.store.save_shipment(shipment)
    return Response(body={"status": "OK"})


def today(market: MarketState) -> dt.date:
    return market.now().astimezone(MSK).date()
