"""Box labels of an order with a layout: all boxes as one PDF (generateOrderLabels), one box
(generateOrderLabel), and the labels' data as JSON (getOrderLabelsData)."""

from __future__ import annotations

from typing import Any

from .label_pdf import DEFAULT_FORMAT, PAGE_FORMATS, render_labels
from .protocol import ApiError, Request, Response, bad
from .state import MarketState


def _layout_or_400(order: dict[str, Any]) -> list[dict[str, Any]]:
    layout = order["delivery"].get("boxesLayout") or []
    if not layout:
        raise bad("Labels are available after the box layout is sent", "NO_BOX_LAYOUT")
    return layout


def _page_format(req: Request) -> str:
    fmt = req.q("format") or DEFAULT_FORMAT
    if fmt not in PAGE_FORMATS:
        raise bad(f"format must be one of {', '.join(PAGE_FORMATS)}")
    return fmt


def labels(market: MarketState, req: Request) -> Response:
    """generateOrderLabels: one PDF page per box."""
    order = market.load(req)
    layout = _layout_or_400(order)
    campaign = market.store.campaign(order["campaignId"])
    pdf = render_labels(order, layout, _page_format(req), campaign["domain"] if campaign else "")
    return Response(body=pdf, content_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="labels-{order["orderId"]}.pdf"'})


def label(market: MarketState, req: Request) -> Response:
    """generateOrderLabel: one box's label."""
    order = market.load(req)
    layout = _layout_or_400(order)
    boxes = [b for b in layout if b["boxId"] == req.params["boxId"]]
    if not boxes:
        raise ApiError(404, "BOX_NOT_FOUND", f"Box {req.params['boxId']} not found")
    campaign = market.store.campaign(order["campaignId"])
    pdf = render_labels(order, boxes, _page_format(req), campaign["domain"] if campaign else "")
    return Response(body=pdf, content_type="application/pdf")


def labels_data(market: MarketState, req: Request) -> Response:
    """getOrderLabelsData: what the labels show, per box."""
    order = market.load(req)
    layout = _layout_or_400(order)
    campaign = market.store.campaign(order["campaignId"])
    base = f"/v2/campaigns/{order['campaignId']}/orders/{order['orderId']}/delivery"
    shipment_id = (order["delivery"].get("shipment") or {}).get("id") or 0
    buyer = order["_sandbox"].get("buyer", {})
    boxes = [{
        "url": f"{base}/shipments/{shipment_id}/boxes/{b['boxId']}/label",
        "supplierName": campaign["domain"] if campaign else "",
        "deliveryServiceName": order["delivery"]["serviceName"],
        "orderId": order["orderId"], "orderNum": str(order["orderId"]),
        "recipientName": f"{buyer.get('lastName', '')} {buyer.get('firstName', '')}".strip() or "—",
        "boxId": b["boxId"], "fulfilmentId": b["barcode"], "place": f"{n}/{len(layout)}",
        "weight": "1.0", "deliveryServiceId": str(order["delivery"]["deliveryServiceId"]),
        "shipmentDate": (order["delivery"].get("shipment") or {}).get("shipmentDate", ""),
    } for n, b in enumerate(layout, start=1)]
    return Response(body={"status": "OK", "result": {"orderId": order["orderId"], "placesNumber": len(layout),
                                                     "url": f"{base}/labels", "parcelBoxLabels": boxes}})
