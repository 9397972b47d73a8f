"""The dock hand-over screen: a packer scans each box label; the page shows what is still missing.

Scans come as JSON batches from static/js/dock.js (each with the browser's id, kept in the browser
until this view's answer, marked ``X-Dock-Update``, says they were received) or one by one from the
plain form without JavaScript."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import dock
from ..access import packer_required
from ..http import HtmxHttpRequest
from ..shipment_board import board
from .shipments import get_shipment

MAX_SCANS_PER_REQUEST = 100


def _render(request: HtmxHttpRequest, shipment_id: int, results: list[dock.DockResult], template: str) -> HttpResponse:
    shipment = get_shipment(shipment_id)
    return render(request, template, {"shipment": shipment, "b": board(shipment), "results": results,
                                      "last": results[-1] if results else None,
                                      "loud": any(r.loud for r in results)})


@require_GET
@packer_required
def dock_screen(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    return _render(request, shipment_id, [], "packing/dock.html")


@require_POST
@packer_required
def dock_scan(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    """A batch of box scans in the order made; answered with the hand-over panel."""
    shipment = get_shipment(shipment_id)
    if request.content_type != "application/json":
        result = dock.scan(shipment, request.POST.get("code", ""), request.user)
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect("dock", shipment_id=shipment.pk)
    try:
        scans = json.loads(request.body or b"{}")["scans"]
        if not isinstance(scans, list) or len(scans) > MAX_SCANS_PER_REQUEST:
            raise ValueError
        batch = [(uuid.UUID(str(s["id"])), str(s["code"])) for s in scans]
    except (ValueError, KeyError, TypeError, AttributeError):
        return HttpResponseBadRequest(_("Scans must be sent as JSON: {\"scans\": [{\"id\": uuid, \"code\": text}]}"))
    index = dock.BoxIndex(shipment)
    results = [dock.scan(shipment, code, request.user, request_id, index) for request_id, code in batch]
    response = _render(request, shipment.pk, results, "packing/dock.html#dock-panel")
    response["X-Dock-Update"] = "full"
    return response


@require_POST
@packer_required
def dock_take_off(request: HtmxHttpRequest, shipment_id: int, scan_id: int) -> HttpResponse:
    """The box of an order cancelled after READY_TO_SHIP was taken off the pallet (by the packer at the
    dock or the supervisor; who and when go to the audit trail)."""
    shipment = get_shipment(shipment_id)
    result = dock.take_off(shipment, scan_id, request.user)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("dock", shipment_id=shipment.pk)
