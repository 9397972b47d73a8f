"""A shipment's documents: the assembly list and all its labels (asked of the Market, ready a few
seconds later), and the acts, the waybill and the pallet labels (downloaded when asked for, once
the Market offers them in the shipment's ``availableActions``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.market.documents import PalletLabelFormat
from fulfilment.market.errors import MarketError
from fulfilment.orders.clients import client_for
from fulfilment.orders.models import ShipmentReport
from fulfilment.orders.shipment_reports import request_report

from .. import shipping
from ..access import packer_required, supervisor_required
from ..http import HtmxHttpRequest
from .shipments import get_shipment

# document → (the action the Market must offer, the client's method, file type, file name)
DOCUMENTS = {
    "act": ("DOWNLOAD_ACT", "download_shipment_act", "pdf", "act"),
    "inbound-act": ("DOWNLOAD_INBOUND_ACT", "download_shipment_inbound_act", "pdf", "inbound-act"),
    "discrepancy-act": ("DOWNLOAD_DISCREPANCY_ACT", "download_shipment_discrepancy_act", "xlsx", "discrepancy-act"),
    "waybill": ("DOWNLOAD_TRANSPORTATION_WAYBILL", "download_shipment_transportation_waybill", "xlsx", "waybill"),
}
TYPES = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@require_POST
@packer_required
def report_request(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    """Ask the Market for the assembly list or all the labels of the shipment as one PDF."""
    shipment = get_shipment(shipment_id)
    kind = request.POST.get("kind", "")
    if kind not in ShipmentReport.Kind.values:
        messages.error(request, _("Unknown document."))
    else:
        request_report(shipment, kind, request.user)
        messages.success(request, _("The Market is preparing the document; it appears below in a few seconds."))
    return redirect("shipment", shipment_id=shipment.pk)


@require_GET
@packer_required
def report_file(request: HtmxHttpRequest, shipment_id: int, report_id: int) -> HttpResponse:
    """A finished document; downloading the labels counts as printing them."""
    shipment = get_shipment(shipment_id)
    report = get_object_or_404(ShipmentReport, pk=report_id, shipment=shipment, state=ShipmentReport.State.DONE)
    if report.kind == ShipmentReport.Kind.LABELS:
        shipping.mark_labels_printed(shipment, report.order_ids, request.user)
    name = "labels" if report.kind == ShipmentReport.Kind.LABELS else "assembly-list"
    response = HttpResponse(bytes(report.file or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}-{int(shipment.market_id)}.pdf"'
    return response


def _file(data: bytes, kind: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=TYPES[kind])
    response["Content-Disposition"] = f'{"inline" if kind == "pdf" else "attachment"}; filename="{name}.{kind}"'
    return response


@require_GET
@supervisor_required
def document(request: HtmxHttpRequest, shipment_id: int, name: str) -> HttpResponse:
    """An act or the waybill, as the Market gives it."""
    shipment = get_shipment(shipment_id)
    if name not in DOCUMENTS:
        raise Http404
    action, method, kind, filename = DOCUMENTS[name]
    if not shipment.allows(action):
        messages.error(request, _("The Market does not offer this document for the shipment yet."))
        return redirect("shipment", shipment_id=shipment.pk)
    client = client_for(shipment.campaign.business)
    try:
        data = getattr(client, method)(shipment.campaign.market_id, shipment.market_id)
    except MarketError as exc:
        messages.error(request, _("The Market did not give the document: %(error)s") % {
            "error": "; ".join(exc.messages)})
        return redirect("shipment", shipment_id=shipment.pk)
    return _file(data, kind, f"{filename}-{int(shipment.market_id)}")


@require_GET
@supervisor_required
def pallet_labels(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    """One label per declared pallet (A8: one a page; A4: 16 a page)."""
    shipment = get_shipment(shipment_id)
    fmt = request.GET.get("format", PalletLabelFormat.A8)
    if fmt not in PalletLabelFormat.__members__:
        fmt = PalletLabelFormat.A8
    if not shipment.pallets_planned:
        messages.error(request, _("Declare the pallets count first: the Market prints one label per pallet."))
        return redirect("shipment", shipment_id=shipment.pk)
    try:
        data = client_for(shipment.campaign.business).download_shipment_pallet_labels(
            shipment.campaign.market_id, shipment.market_id, PalletLabelFormat(fmt))
    except MarketError as exc:
        messages.error(request, _("The Market did not give the pallet labels: %(error)s") % {
            "error": "; ".join(exc.messages)})
        return redirect("shipment", shipment_id=shipment.pk)
    return _file(data, "pdf", f"pallet-labels-{int(shipment.market_id)}")
