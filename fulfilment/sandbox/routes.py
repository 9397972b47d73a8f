"""The route table: each Partner API path and method, its operation name (as in the spec and
``market.limits``) and the handler that answers it; and how a path finds its route."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import (
    campaigns,
    cancellation,
    catalogue,
    dbs,
    digital,
    identifiers,
    labels,
    layout,
    listing,
    order_update,
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
)


def resolve(method: str, path: str) -> tuple[str, Route | None, dict[str, int]]:
    """The operation the path names ("unknown" for none), its route for this method (None: 405 or
    404), and the path's ids."""
    operation = "unknown"
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            operation = route.operation
            if route.method == method:
                return operation, route, {k: int(v) for k, v in match.groupdict().items()}
    return operation, None, {}
