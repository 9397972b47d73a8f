"""Asynchronous documents: all labels of many orders as one PDF (generateMassOrderLabelsReport), the
assembly list (generateShipmentListDocumentReport), their status (getReportInfo) and the file.

The file is made when the report is requested and kept; its status follows the Market's clock:
PENDING for the first third of ``report_seconds`` (default 3), PROCESSING until they have passed,
then DONE with a link under ``/_sandbox/reports/<id>/file`` (no token needed, like the Market's
storage links). Orders not found (or without a box layout, for labels) give subStatus
RESOURCE_NOT_FOUND; none found at all: FAILED.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from . import shipment_rules as rules, shipments
from .acts import header
from .clock import iso_msk
from .doc_pdf import ListLine, render_assembly_list
from .label_pdf import DEFAULT_FORMAT, PAGE_FORMATS, render_many
from .protocol import ApiError, Request, Response, bad
from .state import MarketState

MAX_LABEL_ORDERS = 1_000
DEFAULT_SECONDS = 3.0


def _business_campaign(market: MarketState, req: Request, campaign_id: Any) -> dict[str, Any]:
    campaign = market.store.campaign(campaign_id) if isinstance(campaign_id, int) else None
    if campaign is None or campaign["business_id"] != req.business_id:
        raise ApiError(403, "FORBIDDEN", f"No access to campaign {campaign_id}")
    return dict(campaign)


def _start(market: MarketState, req: Request, kind: str, pdf: bytes | None, missing: bool) -> Response:
    seconds = float(market.store.get_setting("report_seconds", DEFAULT_SECONDS))
    report = {"id": f"{kind}-{market.store.next_id('report', 1):06d}", "businessId": req.business_id,
              "requestedAt": market.now().isoformat(), "seconds": seconds, "missing": missing,
              "file": base64.b64encode(pdf).decode() if pdf is not None else None}
    market.store.save_report(report)
    return Response(body={"status": "OK", "result": {"reportId": report["id"],
                                                     "estimatedGenerationTime": int(seconds * 1000)}})


def mass_labels(market: MarketState, req: Request) -> Response:
    """generateMassOrderLabelsReport: the boxes' labels of up to 1 000 orders, in the order given
    (SORT_BY_GIVEN_ORDER) or by creation date (the default)."""
    body = req.body or {}
    if body.get("businessId") != req.business_id:
        raise ApiError(403, "FORBIDDEN", f"No access to business {body.get('businessId')}")
    order_ids = body.get("orderIds")
    if not isinstance(order_ids, list) or not 1 <= len(order_ids) <= MAX_LABEL_ORDERS:
        raise bad(f"orderIds: 1 to {MAX_LABEL_ORDERS} orders")
    page_format = req.q("format") or DEFAULT_FORMAT
    if page_format not in PAGE_FORMATS:
        raise bad(f"format must be one of {', '.join(PAGE_FORMATS)}")
    found = []
    for order_id in dict.fromkeys(order_ids):
        order = market.store.order(order_id) if isinstance(order_id, int) else None
        if order and order["_sandbox"]["businessId"] == req.business_id and rules.boxes(order):
            found.append(order)
    if body.get("sortingType") != "SORT_BY_GIVEN_ORDER":
        found.sort(key=lambda o: (o["campaignId"], o["_sandbox"]["createdUtc"], o["orderId"]))
    pdf = render_many([(o, rules.boxes(o)) for o in found], page_format,
                      market.store.campaign(found[0]["campaignId"])["domain"] if found else "",
                      title="Labels") if found else None
    return _start(market, req, "labels", pdf, missing=len(found) < len(set(order_ids)))


def shipment_list(market: MarketState, req: Request) -> Response:
    """generateShipmentListDocumentReport: the assembly list of a shipment (or of some orders)."""
    body = req.body or {}
    campaign = _business_campaign(market, req, body.get("campaignId"))
    shipment_id, order_ids = body.get("shipmentId"), body.get("orderIds")
    if not shipment_id and not order_ids:
        raise bad("shipmentId or orderIds is required")
    orders: list[dict[str, Any]]
    shipment = None
    if shipment_id:
        shipment = market.store.shipment(shipment_id) if isinstance(shipment_id, int) else None
        if shipment is None or shipment["campaignId"] != campaign["id"]:
            raise ApiError(404, "SHIPMENT_NOT_FOUND", f"Shipment {shipment_id} not found")
        orders = [o for o in shipments.orders_of(market, shipment) if rules.is_active(o)]
        if order_ids:
            orders = [o for o in orders if o["orderId"] in set(order_ids)]
    else:
        orders = [o for o in (market.store.order(i) for i in order_ids if isinstance(i, int))
                  if o and o["campaignId"] == campaign["id"]]
    wanted = len(set(order_ids)) if order_ids else len(orders)
    if shipment is None and orders:
        shipment = shipments.ensure(market, campaign["id"], orders[0]["delivery"]["shipment"]["shipmentDate"])
    pdf = None
    if orders and shipment is not None:
        lines = [ListLine(o["orderId"], o.get("externalOrderId") or "", it["offerId"], it["offerName"], it["count"],
                          len(rules.boxes(o))) for o in orders for it in o["items"]]
        pdf = render_assembly_list(header(market, shipment), lines, market.now())
    return _start(market, req, "shipment-list", pdf, missing=len(orders) < wanted)


def _status(report: dict[str, Any], now: dt.datetime) -> tuple[str, dt.datetime]:
    requested = dt.datetime.fromisoformat(report["requestedAt"])
    finished = requested + dt.timedelta(seconds=report["seconds"])
    if now >= finished:
        return ("DONE" if report["file"] else "FAILED"), finished
    if now < requested + dt.timedelta(seconds=report["seconds"] / 3):
        return "PENDING", finished
    return "PROCESSING", finished


def report_info(market: MarketState, req: Request) -> Response:
    """getReportInfo: PENDING → PROCESSING → DONE (or FAILED), with the file's link when done."""
    report = market.store.report(str(req.params["reportId"]))
    if report is None or report["businessId"] != req.business_id:
        raise ApiError(404, "REPORT_NOT_FOUND", f"Report {req.params['reportId']} not found")
    status, finished = _status(report, market.now())
    result: dict[str, Any] = {"status": status, "generationRequestedAt": iso_msk(
        dt.datetime.fromisoformat(report["requestedAt"])), "estimatedGenerationTime": int(report["seconds"] * 1000)}
    if status in ("DONE", "FAILED"):
        result["generationFinishedAt"] = iso_msk(finished)
        if report["missing"]:
            result["subStatus"] = "RESOURCE_NOT_FOUND"
    if status == "DONE":
        result["file"] = f"http://{req.headers.get('host', '127.0.0.1')}/_sandbox/reports/{report['id']}/file"
    return Response(body={"status": "OK", "result": result})


def report_file(market: MarketState, report_id: str) -> Response:
    """The finished report's file (the control plane serves it; 404 until DONE)."""
    report = market.store.report(report_id)
    if report is None or not report["file"] or _status(report, market.now())[0] != "DONE":
        return Response(404, {"status": "ERROR", "errors": [{"code": "NOT_FOUND", "message": report_id}]})
    return Response(body=base64.b64decode(report["file"]), content_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{report_id}.pdf"'})
