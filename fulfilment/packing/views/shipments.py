"""The Shipments screen: today's and the next shipments of each shop, and one shipment's page with
its counts, blockers, actions (supervisors) and the dock hand-over (packers too). Plain forms that
post and come back with a message; the Market's refusals are on the page as received."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.accounts.roles import is_supervisor
from fulfilment.market.errors import MarketError
from fulfilment.orders.models import Order, Shipment, ShipmentReport
from fulfilment.orders.shipments import local_today, refresh_shipment, sync_shipments_task

from .. import shipping
from ..access import packer_required, supervisor_required
from ..http import HtmxHttpRequest
from ..kernel import Feedback
from ..shipment_board import TAKEN_IN, board, box_labels, day_counts


def get_shipment(shipment_id: int) -> Shipment:
    return get_object_or_404(Shipment.objects.select_related("campaign__business"), pk=shipment_id)


def say(request: HtmxHttpRequest, fb: Feedback) -> None:
    (messages.success if fb.ok else messages.error)(request, fb.message)


@require_GET
@packer_required
def shipments(request: HtmxHttpRequest) -> HttpResponse:
    """Today's and the next shipments, shop by shop."""
    return render(request, "packing/shipments.html", list_context())


def list_context() -> dict:
    return {"boards": day_counts(local_today()), "now": timezone.now(), "live_every": settings.LIVE_LIST_SECONDS}


@require_POST
@packer_required
def shipments_refresh(request: HtmxHttpRequest) -> HttpResponse:
    """Ask the Market for every shop's shipments again (in the background: they share a small budget)."""
    sync_shipments_task.delay()
    messages.success(request, _("The shipments are being read from the Market; this page shows them by itself "
                                "as they come, within a minute."))
    return redirect("shipments")


def _page(request: HtmxHttpRequest, shipment: Shipment, template: str = "packing/shipment.html",
          kept: dict | None = None) -> HttpResponse:
    """The shipment's page; ``kept``: what a refused form had, shown again as typed."""
    b = board(shipment)
    kept = kept or {}
    pallets = kept.get("pallets")
    if pallets is None:
        pallets = shipping.pending_pallets(shipment)
    if pallets is None:
        pallets = shipment.pallets_planned
    pending = shipping.pending_external_ids(b.orders)
    for o in b.orders:
        o.pending_external_id = pending.get(o.pk, "")  # type: ignore[attr-defined]
        o.hand_boxes = box_labels(o)  # type: ignore[attr-defined]
    reports = list(shipment.reports.defer("file").select_related("requested_by")[:6])
    now = timezone.now()
    supervisor = is_supervisor(request.user)
    can_transfer = shipment.status == "OUTBOUND_CREATED" and now < b.transfer_closes()
    return render(request, template, {
        "b": b, "shipment": shipment, "now": now, "reports": reports,
        "documents": _documents(shipment) if supervisor else [],
        "waiting": any(r.state == ShipmentReport.State.WAITING for r in reports) or bool(b.sending),
        "can_transfer": can_transfer, "ticks": supervisor and can_transfer,
        "is_supervisor": supervisor, "kept": kept, "pallets_value": "" if pallets is None else pallets,
        "live_every": settings.LIVE_LIST_SECONDS, "taken_in": TAKEN_IN,
    }, status=400 if kept else 200)


def _documents(shipment: Shipment) -> list[tuple[str, str, str]]:
    """The documents the Market offers for the shipment now: (link, name, element id)."""
    out = []
    if shipment.pallets_planned:
        url = reverse("shipment-pallet-labels", args=[shipment.pk])
        out += [(f"{url}?format={fmt}", _("Pallet labels %(format)s") % {"format": fmt}, f"pallet-labels-{fmt}")
                for fmt in ("A8", "A4")]
    for name, action, label in (("act", "DOWNLOAD_ACT", _("Acceptance act")),
                                ("inbound-act", "DOWNLOAD_INBOUND_ACT", _("Inbound act")),
                                ("discrepancy-act", "DOWNLOAD_DISCREPANCY_ACT", _("Discrepancy act")),
                                ("waybill", "DOWNLOAD_TRANSPORTATION_WAYBILL", _("Waybill"))):
        if shipment.allows(action):
            out.append((reverse("shipment-document", args=[shipment.pk, name]), label, f"{name}-link"))
    return out


@require_GET
@packer_required
def shipment_page(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    return _page(request, get_shipment(shipment_id))


def refused(request: HtmxHttpRequest, shipment: Shipment, fb: Feedback, kept: dict) -> HttpResponse:
    """Done: back to the page with the message. Refused: the page again with everything as typed."""
    say(request, fb)
    if fb.ok:
        return redirect("shipment", shipment_id=shipment.pk)
    return _page(request, shipment, kept=kept)


@require_POST
@packer_required
def shipment_refresh(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    """Read this shipment from the Market again, now."""
    shipment = get_shipment(shipment_id)
    try:
        refresh_shipment(shipment.pk)
        messages.success(request, _("The shipment was read from the Market again."))
    except MarketError as exc:
        messages.error(request, _("The Market did not answer: %(error)s") % {"error": "; ".join(exc.messages)})
    return redirect("shipment", shipment_id=shipment.pk)


@require_POST
@supervisor_required
def shipment_transfer(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    shipment = get_shipment(shipment_id)
    try:
        ids = [int(v) for v in request.POST.getlist("orders")]
    except ValueError:
        ids = []
    confirmed = request.POST.get("confirm") == "yes"
    return refused(request, shipment, shipping.transfer(shipment, ids, request.user, confirmed=confirmed),
                   {"orders": ids, "confirm": confirmed})


@require_POST
@supervisor_required
def shipment_pallets(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    shipment = get_shipment(shipment_id)
    raw = request.POST.get("pallets", "")
    return refused(request, shipment, shipping.set_pallets(shipment, raw, request.user), {"pallets": raw})


@require_POST
@supervisor_required
def shipment_confirm(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    shipment = get_shipment(shipment_id)
    kept = {"signatory": request.POST.get("signatory", ""), "external_id": request.POST.get("external_id", ""),
            "missing_accepted": request.POST.get("missing_accepted") == "yes",
            "not_ready_accepted": request.POST.get("not_ready_accepted") == "yes"}
    return refused(request, shipment, shipping.confirm(shipment, request.user, **kept), kept)


def live_page(request: HtmxHttpRequest, shipment: Shipment) -> HttpResponse:
    """The page's live region alone (views/live.py asks it under its stamp)."""
    return _page(request, shipment, "packing/shipment.html#live")


@require_POST
@supervisor_required
def order_external_id(request: HtmxHttpRequest, shipment_id: int, order_id: int) -> HttpResponse:
    """The seller's own number for one order of the shipment."""
    shipment = get_shipment(shipment_id)
    order = get_object_or_404(Order.objects.select_related("campaign"), pk=order_id, campaign=shipment.campaign)
    say(request, shipping.set_external_id(order, request.POST.get("external_id", ""), request.user))
    return redirect("shipment", shipment_id=shipment.pk)
