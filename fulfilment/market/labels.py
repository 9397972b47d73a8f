"""Box labels and the buyer: the PDFs the Market renders, their data, and who the buyer is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .types import BoxLabel, BuyerInfo, LabelsData, PageFormat

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


class LabelsApi:
    """The label and buyer methods of ``MarketClient``."""

    def generate_order_labels(self: MarketClient, campaign_id: int, order_id: int,
                              page_format: PageFormat = PageFormat.A7) -> bytes:
        """generateOrderLabels: GET .../orders/{orderId}/delivery/labels — a PDF, one label per box."""
        return self._request("generateOrderLabels", "GET",
                             f"/v2/campaigns/{campaign_id}/orders/{order_id}/delivery/labels", key=campaign_id,
                             params={"format": str(page_format)}, expect="pdf")

    def generate_order_label(self: MarketClient, campaign_id: int, order_id: int, shipment_id: int, box_id: int,
                             page_format: PageFormat = PageFormat.A7) -> bytes:
        """generateOrderLabel: GET .../delivery/shipments/{shipmentId}/boxes/{boxId}/label — one box."""
        return self._request("generateOrderLabel", "GET",
                             f"/v2/campaigns/{campaign_id}/orders/{order_id}/delivery/shipments/{shipment_id}"
                             f"/boxes/{box_id}/label", key=campaign_id, params={"format": str(page_format)},
                             expect="pdf")

    def get_order_labels_data(self: MarketClient, campaign_id: int, order_id: int) -> LabelsData:
        """getOrderLabelsData: GET .../orders/{orderId}/delivery/labels/data."""
        data = self._request("getOrderLabelsData", "GET",
                             f"/v2/campaigns/{campaign_id}/orders/{order_id}/delivery/labels/data", key=campaign_id)
        r = self._result(data, "getOrderLabelsData")
        return LabelsData(int(r["orderId"]), int(r["placesNumber"]), r["url"], tuple(
            BoxLabel(int(b["boxId"]), b["fulfilmentId"], b["place"], b["url"], b["deliveryServiceName"],
                     b["recipientName"]) for b in r.get("parcelBoxLabels") or ()))

    def get_order_buyer_info(self: MarketClient, campaign_id: int, order_id: int) -> BuyerInfo:
        """getOrderBuyerInfo: GET .../orders/{orderId}/buyer."""
        data = self._request("getOrderBuyerInfo", "GET", f"/v2/campaigns/{campaign_id}/orders/{order_id}/buyer",
                             key=campaign_id)
        r = self._result(data, "getOrderBuyerInfo")
        return BuyerInfo(r.get("type", ""), r.get("firstName", ""), r.get("lastName", ""), r.get("middleName", ""),
                         r.get("phone", ""))
