"""A shipment's documents over the API: the act (and the reception-transfer act that confirms the
closest shipment), the inbound act, the discrepancy act, the waybill and the pallet labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import shipment_rules as rules, shipments
from .doc_pdf import ActLine, ShipmentHeader, render_act, render_pallet_labels
from .protocol import Request, Response, bad
from .state import MarketState
from .xlsx import workbook

XLSX = "application/vnd.ms-excel"


def header(market: MarketState, shipment: dict[str, Any]) -> ShipmentHeader:
    campaign = market.store.campaign(shipment["campaignId"])
    return ShipmentHeader(shipment["id"], dt.date.fromisoformat(shipment["date"]),
                          campaign["business_name"] if campaign else "", shipments.SORTING_CENTRE["name"],
                          shipments.warehouse(shipment["campaignId"])["name"])


def act_lines(orders: list[dict[str, Any]]) -> list[ActLine]:
    return [ActLine(o["orderId"], o.get("externalOrderId") or "", rules.declared_value(o),
                    rules.BOX_WEIGHT_KG * len(rules.boxes(o)), len(rules.boxes(o))) for o in orders]


def ready_orders(market: MarketState, shipment: dict[str, Any]) -> list[dict[str, Any]]:
    """What the act lists: the shipment's collected orders, ready to go."""
    return [o for o in shipments.orders_of(market, shipment) if rules.is_active(o) and rules.is_ready(o)]


def accepted_orders(market: MarketState, shipment: dict[str, Any]) -> list[dict[str, Any]]:
    """What the sorting centre accepted (all ready orders unless the control plane said otherwise)."""
    ready = ready_orders(market, shipment)
    accepted = shipment.get("acceptedOrderIds")
    return ready if accepted is None else [o for o in ready if o["orderId"] in set(accepted)]


def _pdf(body: bytes, name: str) -> Response:
    return Response(body=body, content_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})


def act_pdf(market: MarketState, shipment: dict[str, Any]) -> Response:
    pdf = render_act(header(market, shipment), act_lines(ready_orders(market, shipment)), market.now(),
                     signatory=shipment["signatory"])
    return _pdf(pdf, f"act-{shipment['id']}")


def act(market: MarketState, req: Request) -> Response:
    """downloadShipmentAct: for a confirmed shipment only."""
    shipment = shipments.load(market, req)
    shipments.require_action(market, shipment, "DOWNLOAD_ACT")
    return act_pdf(market, shipment)


def reception_transfer_act(market: MarketState, req: Request) -> Response:
    """downloadShipmentReceptionTransferAct: confirm the closest formed shipment, then its act."""
    campaign_id = req.params["campaignId"]
    warehouse_id = req.q("warehouse_id")
    if warehouse_id and warehouse_id != str(shipments.warehouse(campaign_id)["id"]):
        raise bad(rules.NO_CLOSEST_SHIPMENT, "SHIPMENT_NOT_FOUND")
    today = shipments.today(market)
    shipments.ensure_range(market, campaign_id, today - dt.timedelta(days=7), today + dt.timedelta(days=7))
    candidates = [s for s in market.store.shipments(campaign_id, (today - dt.timedelta(days=7)).isoformat(),
                                                    (today + dt.timedelta(days=7)).isoformat())
                  if shipments.status_of(market, s) in (rules.READY, rules.CONFIRMED, rules.SIGNED)]
    if not candidates:
        raise bad(rules.NO_CLOSEST_SHIPMENT, "SHIPMENT_NOT_FOUND")
    closest = candidates[0]
    if shipments.status_of(market, closest) == rules.READY:
        shipments.confirm(market, closest, signatory=req.q("signatory") or "")
    return act_pdf(market, closest)


def inbound_act(market: MarketState, req: Request) -> Response:
    """downloadShipmentInboundAct: what was accepted, once the shipment is finished."""
    shipment = shipments.load(market, req)
    shipments.require_action(market, shipment, "DOWNLOAD_INBOUND_ACT")
    pdf = render_act(header(market, shipment), act_lines(accepted_orders(market, shipment)), market.now(),
                     inbound=True)
    return _pdf(pdf, f"inbound-act-{shipment['id']}")


def discrepancy_act(market: MarketState, req: Request) -> Response:
    """downloadShipmentDiscrepancyAct (XLSX): the orders handed over on paper but not accepted."""
    shipment = shipments.load(market, req)
    shipments.require_action(market, shipment, "DOWNLOAD_DISCREPANCY_ACT")
    accepted = {o["orderId"] for o in accepted_orders(market, shipment)}
    rows: list[list[Any]] = [["Shipment", shipment["id"]], ["Order", "External id", "Boxes expected", "Boxes accepted"]]
    for o in ready_orders(market, shipment):
        if o["orderId"] not in accepted:
            rows.append([o["orderId"], o.get("externalOrderId") or "", len(rules.boxes(o)), 0])
    return Response(body=workbook("Discrepancies", rows), content_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="discrepancy-act-{shipment["id"]}.xlsx"'})


def waybill(market: MarketState, req: Request) -> Response:
    """downloadShipmentTransportationWaybill (XLSX): when the Market collects from the warehouse."""
    shipment = shipments.load(market, req)
    shipments.require_action(market, shipment, "DOWNLOAD_TRANSPORTATION_WAYBILL")
    orders = ready_orders(market, shipment)
    head = header(market, shipment)
    rows: list[list[Any]] = [["Transportation waybill", shipment["id"], shipment["date"]],
                             ["Shipper", head.sender], ["From", head.warehouse], ["To", head.executor],
                             ["Order", "External id", "Boxes", "Weight, kg"]]
    rows += [[o["orderId"], o.get("externalOrderId") or "", len(rules.boxes(o)),
              float(rules.BOX_WEIGHT_KG * len(rules.boxes(o)))] for o in orders]
    rows.append(["Total", len(orders), sum(len(rules.boxes(o)) for o in orders), shipment["palletsPlanned"] or 0])
    return Response(body=workbook("Waybill", rows), content_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="waybill-{shipment["id"]}.xlsx"'})


def pallet_labels(market: MarketState, req: Request) -> Response:
    """downloadShipmentPalletLabels: one label per declared pallet, A8 (default) or A4."""
    shipment = shipments.load(market, req)
    page_format = req.q("format") or "A8"
    if page_format not in ("A4", "A8"):
        raise bad("format must be A4 or A8")
    count = shipment["palletsPlanned"] or 0
    if count < 1:
        raise bad(f"Set the pallets count of shipment {shipment['id']} first (setShipmentPalletsCount)",
                  "NO_PALLETS_COUNT")
    orders = ready_orders(market, shipment)
    pdf = render_pallet_labels(header(market, shipment), count, len(orders),
                               sum(len(rules.boxes(o)) for o in orders), page_format)
    return _pdf(pdf, f"pallet-labels-{shipment['id']}")
