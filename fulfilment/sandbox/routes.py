"""The route table: each Partner API path and method, its operation name (as in the spec and
``market.limits``) and the handler that answers it; and how a path finds its route."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import (
    acts,
    campaigns,
    cancellation,
    catalogue,
    chats,
    dbs,
    digital,
    external_id,
    identifiers,
    labels,
    layout,
    listing,
    order_update,
    reports,
    returns,
    shipments,
    stats,
    status,
)
from .protocol import Request, Response
from .state import MarketState

Handler = Callable[[MarketState, Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


def _route(method: str, pattern: str, operation: str, handler: Handler) -> Route:
    return Route(method, re.compile(pattern + r"/?$"), operation, handler)


_C = r"/v2/campaigns/(?P<campaignId>\d+)"
_O = _C + r"/orders/(?P<orderId>\d+)"
_S = _C + r"/first-mile/shipments/(?P<shipmentId>\d+)"
_R = _O + r"/returns/(?P<returnId>\d+)"
_B = r"/v2/businesses/(?P<businessId>\d+)"
ROUTES: tuple[Route, ...] = (
    _route("GET", r"/v2/campaigns", "getCampaigns", campaigns.get_campaigns),
    _route("GET", _C, "getCampaign", campaigns.get_campaign),
    _route("POST", r"/v1/businesses/(?P<businessId>\d+)/orders", "getBusinessOrders", listing.get_business_orders),
    _route("GET", _C + r"/orders", "getOrders", listing.get_orders),
    _route("POST", _C + r"/orders/status-update", "updateOrderStatuses", status.update_order_statuses),
    _route("GET", _O, "getOrder", listing.get_order),
    _route("PUT", _O + r"/boxes", "setOrderBoxLayout", layout.set_box_layout),
    _route("PUT", _O + r"/identifiers", "provideOrderItemIdentifiers", identifiers.provide_identifiers),
    _route("POST", _O + r"/identifiers/status", "getOrderIdentifiersStatus", identifiers.identifiers_status),
    _route("PUT", _O + r"/items", "updateOrderItems", dbs.update_items),
    _route("PUT", _O + r"/status", "updateOrderStatus", status.update_status),
    _route("PUT", _O + r"/delivery/shipments/(?P<shipmentId>\d+)/boxes", "setOrderShipmentBoxes",
           dbs.set_shipment_boxes),
    _route("PUT", _O + r"/cancellation/accept", "acceptOrderCancellation", cancellation.accept_cancellation),
    _route("POST", _O + r"/deliverDigitalGoods", "provideOrderDigitalCodes", digital.digital_codes),
    _route("GET", _O + r"/delivery/labels", "generateOrderLabels", labels.labels),
    _route("GET", _O + r"/delivery/labels/data", "getOrderLabelsData", labels.labels_data),
    _route("GET", _O + r"/delivery/shipments/(?P<shipmentId>\d+)/boxes/(?P<boxId>\d+)/label", "generateOrderLabel",
           labels.label),
    _route("GET", _O + r"/buyer", "getOrderBuyerInfo", listing.buyer),
    _route("POST", _C + r"/stats/orders", "getOrdersStats", stats.stats),
    _route("POST", r"/v1/campaigns/(?P<campaignId>\d+)/orders/update", "updateOrder", order_update.update_order),
    _route("POST", r"/v2/businesses/(?P<businessId>\d+)/offer-mappings", "getOfferMappings",
           catalogue.get_offer_mappings),
    _route("POST", _O + r"/external-id", "updateExternalOrderId", external_id.update_external_id),
    # First-mile shipments and their documents.
    _route("PUT", _C + r"/first-mile/shipments", "searchShipments", shipments.search_shipments),
    _route("GET", _S, "getShipment", shipments.get_shipment),
    _route("GET", _S + r"/orders/info", "getShipmentOrdersInfo", shipments.orders_info),
    _route("POST", _S + r"/orders/transfer", "transferOrdersFromShipment", shipments.transfer_orders),
    _route("POST", _S + r"/confirm", "confirmShipment", shipments.confirm_shipment),
    _route("PUT", _S + r"/pallets", "setShipmentPalletsCount", shipments.set_pallets),
    _route("GET", _S + r"/act", "downloadShipmentAct", acts.act),
    _route("GET", _S + r"/inbound-act", "downloadShipmentInboundAct", acts.inbound_act),
    _route("GET", _S + r"/discrepancy-act", "downloadShipmentDiscrepancyAct", acts.discrepancy_act),
    _route("GET", _S + r"/transportation-waybill", "downloadShipmentTransportationWaybill", acts.waybill),
    _route("GET", _S + r"/pallet/labels", "downloadShipmentPalletLabels", acts.pallet_labels),
    _route("GET", _C + r"/shipments/reception-transfer-act", "downloadShipmentReceptionTransferAct",
           acts.reception_transfer_act),
    _route("POST", r"/v2/reports/documents/labels/generate", "generateMassOrderLabelsReport", reports.mass_labels),
    _route("POST", r"/v2/reports/documents/shipment-list/generate", "generateShipmentListDocumentReport",
           reports.shipment_list),
    _route("GET", r"/v2/reports/info/(?P<reportId>[^/]+)", "getReportInfo", reports.report_info),
    # Returns and unredeemed orders; chats with buyers.
    _route("GET", _C + r"/returns", "getReturns", returns.get_returns),
    _route("GET", _R, "getReturn", returns.get_return),
    _route("GET", _R + r"/application", "getReturnApplication", returns.get_application),
    _route("GET", _R + r"/decision/(?P<itemId>\d+)/image/(?P<imageHash>[^/]+)", "getReturnPhoto",
           returns.get_photo),
    _route("POST", _R + r"/decision/submit", "submitReturnDecision", returns.submit_decision),
    _route("POST", r"/v1/businesses/(?P<businessId>\d+)/returns/decisions", "getReturnAvailableDecisions",
           returns.available_decisions),
    _route("POST", _B + r"/chats", "getChats", chats.get_chats),
    _route("POST", _B + r"/chats/new", "createChat", chats.create_chat),
    _route("POST", _B + r"/chats/message", "sendMessageToChat", chats.send_message),
    _route("POST", _B + r"/chats/file/send", "sendFileToChat", chats.send_file),
    _route("POST", _B + r"/chats/history", "getChatHistory", chats.history),
)


def resolve(method: str, path: str) -> tuple[str, Route | None, dict[str, int]]:
    """The operation the path names ("unknown" for none), its route for this method (None: 405 or
    404), and the path's ids (numbers; a report's id may be text and stays so)."""
    operation = "unknown"
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            operation = route.operation
            if route.method == method:
                return operation, route, {k: int(v) if v.isdigit() else v  # type: ignore[misc]
                                          for k, v in match.groupdict().items()}
    return operation, None, {}
