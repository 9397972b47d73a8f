"""A shipment's documents: acts, the waybill, pallet labels, the asynchronous reports (all labels of
many orders as one PDF, the assembly list) and the seller's own order number they print.

Acts come as PDF, except the discrepancy act and the waybill (XLSX). A report is started by a
``generate…`` call, polled with getReportInfo (100 a minute) until DONE, then its ``file`` link is
downloaded (valid for 60 minutes, a new one on every poll; no token is sent to it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import requests

from .dates import parse_datetime
from .errors import MarketError, MarketUnavailable
from .limits import MAX_LABEL_ORDERS
from .types import PageFormat, _need, enum_or_str

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


class PalletLabelFormat(StrEnum):
    A4 = "A4"  # 16 labels a page
    A8 = "A8"  # one label a page (the Market's default)


class LabelsSorting(StrEnum):
    SORT_BY_GIVEN_ORDER = "SORT_BY_GIVEN_ORDER"
    SORT_BY_ORDER_CREATED_AT = "SORT_BY_ORDER_CREATED_AT"  # the Market's default


class ReportStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    FAILED = "FAILED"
    DONE = "DONE"


class ReportSubStatus(StrEnum):
    NO_DATA = "NO_DATA"
    TOO_LARGE = "TOO_LARGE"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"  # some orders were not found; the file has the others


@dataclass(frozen=True)
class ReportStarted:
    """``GenerateReportDTO``: the id to poll and the expected generation time."""

    report_id: str
    estimated_ms: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReportStarted:
        return cls(str(_need(d, "reportId", "GenerateReportDTO")), int(d.get("estimatedGenerationTime") or 0))


@dataclass(frozen=True)
class ReportInfo:
    """``ReportInfoDTO``: the generation's status and, once DONE, the file's link."""

    status: ReportStatus | str
    sub_status: ReportSubStatus | str
    file_url: str
    requested_at: dt.datetime | None
    finished_at: dt.datetime | None
    estimated_ms: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReportInfo:
        return cls(enum_or_str(ReportStatus, _need(d, "status", "ReportInfoDTO")),
                   enum_or_str(ReportSubStatus, d.get("subStatus")), d.get("file") or "",
                   parse_datetime(d.get("generationRequestedAt")), parse_datetime(d.get("generationFinishedAt")),
                   int(d.get("estimatedGenerationTime") or 0))

    @property
    def finished(self) -> bool:
        """DONE or FAILED: polling again will not change it."""
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)


def checked_external_id(value: str) -> str:
    """The seller's order number as the Market can print it in a barcode: printable ASCII only
    (otherwise the label's barcode silently shows the Market's order id instead)."""
    value = value.strip()
    if not value:
        raise ValueError("the external order id is empty")
    if not (value.isascii() and value.isprintable()):
        raise ValueError("the external order id must be printable ASCII to appear in the labels' barcode")
    return value


class DocumentsApi:
    """The document and report methods of ``MarketClient``."""

    def _shipment_file(self: MarketClient, operation: str, campaign_id: int, shipment_id: int, tail: str,
                       expect: str = "pdf", params: dict[str, Any] | None = None) -> bytes:
        return self._request(operation, "GET", f"/v2/campaigns/{campaign_id}/first-mile/shipments/{shipment_id}/{tail}",
                             key=campaign_id, params=params, expect=expect)

    def download_shipment_reception_transfer_act(self: MarketClient, campaign_id: int, warehouse_id: int | None = None,
                                                 signatory: str | None = None) -> bytes:
        """downloadShipmentReceptionTransferAct: GET .../shipments/reception-transfer-act — confirms the
        closest formed shipment and returns its act (PDF); with ``signatory`` the act is signed electronically."""
        params: dict[str, Any] = {}
        if warehouse_id:
            params["warehouse_id"] = warehouse_id
        if signatory:
            params["signatory"] = signatory
        return self._request("downloadShipmentReceptionTransferAct", "GET",
                             f"/v2/campaigns/{campaign_id}/shipments/reception-transfer-act", key=campaign_id,
                             params=params, expect="pdf")

    def download_shipment_act(self: MarketClient, campaign_id: int, shipment_id: int) -> bytes:
        """downloadShipmentAct: the act of a confirmed shipment (PDF: the ready orders, their boxes)."""
        return self._shipment_file("downloadShipmentAct", campaign_id, shipment_id, "act")

    def download_shipment_inbound_act(self: MarketClient, campaign_id: int, shipment_id: int) -> bytes:
        """downloadShipmentInboundAct: what the sorting centre actually accepted (PDF), hours after the end."""
        return self._shipment_file("downloadShipmentInboundAct", campaign_id, shipment_id, "inbound-act")

    def download_shipment_discrepancy_act(self: MarketClient, campaign_id: int, shipment_id: int) -> bytes:
        """downloadShipmentDiscrepancyAct: the discrepancies found at acceptance (XLSX)."""
        return self._shipment_file("downloadShipmentDiscrepancyAct", campaign_id, shipment_id, "discrepancy-act",
                                   expect="xlsx")

    def download_shipment_transportation_waybill(self: MarketClient, campaign_id: int, shipment_id: int) -> bytes:
        """downloadShipmentTransportationWaybill: the waybill when the Market collects (WITHDRAW; XLSX)."""
        return self._shipment_file("downloadShipmentTransportationWaybill", campaign_id, shipment_id,
                                   "transportation-waybill", expect="xlsx")

    def download_shipment_pallet_labels(self: MarketClient, campaign_id: int, shipment_id: int,
                                        page_format: PalletLabelFormat = PalletLabelFormat.A8) -> bytes:
        """downloadShipmentPalletLabels: one label per declared pallet (PDF; stick two on each)."""
        return self._shipment_file("downloadShipmentPalletLabels", campaign_id, shipment_id, "pallet/labels",
                                   params={"format": str(page_format)})

    def generate_mass_order_labels_report(self: MarketClient, business_id: int, order_ids: Sequence[int],
                                          page_format: PageFormat = PageFormat.A7,
                                          sorting: LabelsSorting = LabelsSorting.SORT_BY_GIVEN_ORDER
                                          ) -> ReportStarted:
        """generateMassOrderLabelsReport: POST v2/reports/documents/labels/generate — all boxes' labels
        of up to 1 000 orders as one PDF (in the order given, unless ``sorting`` says otherwise)."""
        ids = list(dict.fromkeys(order_ids))
        if not 1 <= len(ids) <= MAX_LABEL_ORDERS:
            raise ValueError(f"1 to {MAX_LABEL_ORDERS} orders per labels file")
        data = self._request("generateMassOrderLabelsReport", "POST", "/v2/reports/documents/labels/generate",
                             key=business_id, params={"format": str(page_format)},
                             body={"businessId": business_id, "orderIds": ids, "sortingType": str(sorting)})
        return ReportStarted.from_json(self._result(data, "generateMassOrderLabelsReport"))

    def generate_shipment_list_document_report(self: MarketClient, campaign_id: int, shipment_id: int | None = None,
                                               order_ids: Sequence[int] = ()) -> ReportStarted:
        """generateShipmentListDocumentReport: POST v2/reports/documents/shipment-list/generate — the
        assembly list of a shipment, or of some of its orders."""
        if not shipment_id and not order_ids:
            raise ValueError("a shipment or some orders")
        body: dict[str, Any] = {"campaignId": campaign_id}
        if shipment_id:
            body["shipmentId"] = shipment_id
        if order_ids:
            body["orderIds"] = list(dict.fromkeys(order_ids))
        data = self._request("generateShipmentListDocumentReport", "POST",
                             "/v2/reports/documents/shipment-list/generate", key=campaign_id, body=body)
        return ReportStarted.from_json(self._result(data, "generateShipmentListDocumentReport"))

    def get_report_info(self: MarketClient, report_id: str) -> ReportInfo:
        """getReportInfo: GET v2/reports/info/{reportId} (100 a minute)."""
        data = self._request("getReportInfo", "GET", f"/v2/reports/info/{requests.utils.quote(report_id, safe='')}",
                             key=0)
        return ReportInfo.from_json(self._result(data, "getReportInfo"))

    def download_report_file(self: MarketClient, info: ReportInfo) -> bytes:
        """The finished report's file: its link is not the Partner API, so no token goes with it."""
        if info.status != ReportStatus.DONE or not info.file_url:
            raise ValueError(f"the report is {info.status}, not DONE with a file")
        try:
            resp = self.session.get(info.file_url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise MarketUnavailable(f"report file: cannot download ({exc.__class__.__name__})",
                                    operation="downloadReportFile") from exc
        self.calls += 1
        if resp.status_code >= 500:
            raise MarketUnavailable(f"report file: HTTP {resp.status_code}", status=resp.status_code,
                                    operation="downloadReportFile")
        if resp.status_code != 200:  # an expired link: poll getReportInfo for a new one
            raise MarketError(f"report file: HTTP {resp.status_code}", status=resp.status_code,
                              operation="downloadReportFile")
        return resp.content

    def update_external_order_id(self: MarketClient, campaign_id: int, order_id: int, external_id: str) -> None:
        """updateExternalOrderId: POST .../orders/{orderId}/external-id — the seller's number, printed on
        the act, the assembly list and the labels; once per order and only before READY_TO_SHIP."""
        self._request("updateExternalOrderId", "POST", f"/v2/campaigns/{campaign_id}/orders/{order_id}/external-id",
                      key=campaign_id, body={"externalOrderId": checked_external_id(external_id)})
