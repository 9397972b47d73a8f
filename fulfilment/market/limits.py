"""Request limits of the Partner API, per operation (``x-resource-limit-config`` in the spec).

``amount`` counts requests per campaign (per business for business methods) in a sliding
window of ``period`` seconds (an hour for most, a minute for the catalogue and report status);
``parallel`` is how many may be in flight at once. updateOrderStatuses counts orders, not
requests (its limit path is ``resp.result.orders``). A contract test checks this table against
the spec, so a change at the Market shows up as a failing test, not as 420s in production.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600.0
MINUTE = 60.0


@dataclass(frozen=True)
class Limit:
    amount: int
    parallel: int | None = None
    counts_orders: bool = False
    period: float = HOUR


LIMITS: dict[str, Limit] = {
    "getCampaigns": Limit(1_000),
    "getCampaign": Limit(5_000),
    "getBusinessOrders": Limit(10_000, parallel=6),
    "getOrders": Limit(10_000, parallel=6),
    "getOrder": Limit(10_000, parallel=6),
    "setOrderBoxLayout": Limit(10_000),
    "provideOrderItemIdentifiers": Limit(10_000),
    "getOrderIdentifiersStatus": Limit(1_000),
    "updateOrderItems": Limit(10_000, parallel=6),
    "updateOrderStatus": Limit(10_000),
    "updateOrderStatuses": Limit(10_000, counts_orders=True),
    "setOrderShipmentBoxes": Limit(10_000),
    "acceptOrderCancellation": Limit(500),
    "provideOrderDigitalCodes": Limit(10_000, parallel=6),
    "generateOrderLabels": Limit(10_000),
    "getOrderLabelsData": Limit(10_000),
    "generateOrderLabel": Limit(10_000),
    "getOrderBuyerInfo": Limit(3_000),
    "getOrdersStats": Limit(10_000),
    "updateOrder": Limit(10_000),
    "getOfferMappings": Limit(100, period=MINUTE),
    # First-mile shipments and their documents (200 an hour per campaign, shared by none: each its own).
    "searchShipments": Limit(200),
    "getShipment": Limit(200),
    "getShipmentOrdersInfo": Limit(200),
    "confirmShipment": Limit(200),
    "transferOrdersFromShipment": Limit(200),
    "setShipmentPalletsCount": Limit(200),
    "downloadShipmentAct": Limit(200),
    "downloadShipmentInboundAct": Limit(200),
    "downloadShipmentDiscrepancyAct": Limit(200),
    "downloadShipmentTransportationWaybill": Limit(200),
    "downloadShipmentPalletLabels": Limit(200),
    "downloadShipmentReceptionTransferAct": Limit(200),
    "generateMassOrderLabelsReport": Limit(1_000),
    "generateShipmentListDocumentReport": Limit(200),
    "getReportInfo": Limit(100, period=MINUTE),
    "updateExternalOrderId": Limit(1_000),
    # Returns (per campaign; the available decisions per business) and chats (per business).
    "getReturns": Limit(5_000),
    "getReturn": Limit(7_000),
    "getReturnApplication": Limit(5_000),
    "getReturnPhoto": Limit(5_000),
    "getReturnAvailableDecisions": Limit(5_000),
    "submitReturnDecision": Limit(5_000),
    "getChats": Limit(5_000),
    "createChat": Limit(1_000),
    "sendMessageToChat": Limit(1_000),
    "sendFileToChat": Limit(1_000),
    "getChatHistory": Limit(10_000),
}

# Other documented maxima.
MAX_PAGE_SIZE = 50
MAX_STATUS_UPDATES = 30
MAX_DATE_RANGE_DAYS = 30
MAX_OFFER_IDS = 100  # getOfferMappings: offerIds maxItems
MAX_SHIPMENTS_PAGE = 30  # searchShipments: limit
MAX_TRANSFER_ORDERS = 500  # transferOrdersFromShipment: orderIds maxItems
MAX_LABEL_ORDERS = 1_000  # generateMassOrderLabelsReport: orderIds maxItems
MAX_RETURNS_PAGE = 100  # getReturns: limit
MAX_RETURN_ORDER_IDS = 50  # getReturns: orderIds maxItems
MAX_CHATS_PAGE = 20  # getChats: limit
MAX_HISTORY_PAGE = 100  # getChatHistory: limit
MAX_CHAT_MESSAGE = 4096  # sendMessageToChat: message maxLength
MAX_CHAT_FILE_BYTES = 5 * 1024 * 1024  # sendFileToChat: 5 MB
