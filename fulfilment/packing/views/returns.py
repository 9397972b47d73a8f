"""The returns screens: what is coming back per shop, one return received by scan and graded, and a
supervisor's decision. The rules are in ``orders/receiving.py``; these views translate."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db.models import Case, IntegerField, Q, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.accounts.roles import is_supervisor
from fulfilment.market.errors import MarketError
from fulfilment.market.returns import DecisionType, DeclineReason, ItemDecision
from fulfilment.orders import receiving
from fulfilment.orders.clients import client_for
from fulfilment.orders.models import Campaign, Grade, MarketReturn, ReturnShipment, ReturnUnit
from fulfilment.orders.models.returns import COMING, WAITING_FOR_DECISION

from ..access import packer_required, supervisor_required
from ..http import HtmxHttpRequest

IRREVERSIBLE = {DecisionType.DECLINE_REFUND, DecisionType.REFUND_MONEY, DecisionType.REFUND_MONEY_INCLUDING_SHIPMENT,
                DecisionType.PARTIAL_MONEY_REFUND, DecisionType.FAST_REFUND_MONEY}


def _get_return_for_user(return_id: int) -> MarketReturn:
    return get_object_or_404(MarketReturn.objects.select_related("campaign__business", "order"), pk=return_id,
                             campaign__is_active=True)


@require_GET
@packer_required
def returns_list(request: HtmxHttpRequest) -> HttpResponse:
    """Per shop: coming back (overdue first), waiting for a decision, received."""
    campaigns = list(Campaign.objects.filter(is_active=True).order_by("name"))
    chosen = request.GET.get("campaign", "")
    rows = MarketReturn.objects.filter(campaign__is_active=True).select_related("campaign")
    if chosen.isdigit():
        rows = rows.filter(campaign_id=int(chosen))
    now = timezone.now()
    coming = rows.filter(received_at__isnull=True, shipment_status__in=(*COMING, ReturnShipment.PICKED)).annotate(
        overdue=Case(When(Q(shipment_status=ReturnShipment.READY_FOR_PICKUP, pickup_till__lt=now), then=0),
                     default=1, output_field=IntegerField())).order_by("overdue", "pickup_till", "market_id")
    context = {"campaigns": campaigns, "chosen": chosen, "coming": coming[:200], "now": now,
               "waiting": rows.filter(refund_status__in=WAITING_FOR_DECISION).order_by("created_at_market")[:200],
               "received": rows.filter(received_at__isnull=False).order_by("-received_at")[:50]}
    return render(request, "packing/returns.html", context)


@require_POST
@packer_required
def returns_open(request: HtmxHttpRequest) -> HttpResponse:
    """Open a return by its scanned order label or number."""
    text = request.POST.get("code", "")
    found = receiving.find_return(list(Campaign.objects.filter(is_active=True).values_list("pk", flat=True)), text)
    if found is None:
        messages.error(request, _("No return for %(code)s: scan the order's label or type its number.")
                       % {"code": text.strip() or "—"})
        return redirect("returns")
    return redirect("return", return_id=found.pk)


@require_GET
@packer_required
def return_screen(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    record = _get_return_for_user(return_id)
    available, market_error = [], ""
    if is_supervisor(request.user) and record.decision_till:  # only a supervisor decides
        try:
            available = client_for(record.campaign.business).get_return_available_decisions(
                record.campaign.business.market_id, record.campaign.market_id, record.market_id)
        except MarketError as exc:
            market_error = str(exc)
    context = {"record": record, "units": record.units.select_related("shipped", "scanned_by"),
               "scan_id": uuid.uuid4(), "grades": Grade.choices, "claims": _claims(record),
               "available": available, "market_error": market_error, "action": receiving.decision_action(record),
               "irreversible": [str(d) for d in IRREVERSIBLE], "now": timezone.now()}
    return render(request, "packing/return.html", context)


def _claims(record: MarketReturn) -> list[dict]:
    """The buyer's claims, item by item, with what was shipped and what came back."""
    out = []
    for item in record.payload.get("items") or ():
        for claim in item.get("decisions") or ():
            out.append({"sku": item["shopSku"], "count": claim.get("count"), "reason": claim.get("reasonType", ""),
                        "comment": claim.get("comment", ""), "decision": claim.get("decisionType", ""),
                        "item_id": claim.get("returnItemId"), "images": claim.get("images") or ()})
    return out


@require_GET
@packer_required
def return_photo(request: HtmxHttpRequest, return_id: int, item_id: int, image_hash: str) -> HttpResponse:
    """The buyer's photo, fetched from the Market (getReturnPhoto) for this page."""
    record = _get_return_for_user(return_id)
    if not any(c["item_id"] == item_id and image_hash in c["images"] for c in _claims(record)):
        raise Http404
    try:
        photo = client_for(record.campaign.business).get_return_photo(
            record.campaign.market_id, record.order_market_id, record.market_id, item_id, image_hash)
    except MarketError as exc:
        return HttpResponse(str(exc), status=502, content_type="text/plain; charset=utf-8")
    return HttpResponse(photo.content, content_type=photo.content_type)


@require_POST
@packer_required
def return_scan(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    record = _get_return_for_user(return_id)
    try:
        scan_id = uuid.UUID(request.POST.get("scan_id", ""))
        result = receiving.receive_scan(record, scan_id, request.POST.get("code", ""), request.user)
    except ValueError:
        messages.error(request, _("The scan could not be read: scan again."))
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
    else:
        unit = result.unit
        if unit.is_mismatch:
            messages.error(request, _("MISMATCH: %(what)s. Recorded with who and when; keep the unit aside.")
                           % {"what": unit.get_match_display()})
        elif not result.again:
            what = unit.get_match_display()
            messages.success(request, _("%(sku)s: %(what)s.") % {"sku": unit.offer_id, "what": what})
    return redirect("return", return_id=record.pk)


@require_POST
@packer_required
def return_grade(request: HtmxHttpRequest, return_id: int, unit_id: int) -> HttpResponse:
    unit = get_object_or_404(ReturnUnit.objects.select_related("record"), pk=unit_id, record_id=return_id)
    try:
        receiving.grade_unit(unit, request.POST.get("grade", ""), request.POST.get("note", ""))
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
    return redirect("return", return_id=return_id)


@require_POST
@packer_required
def return_receive(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    record = _get_return_for_user(return_id)
    try:
        receiving.finish_receiving(record, request.user)
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The return is received."))
    return redirect("return", return_id=record.pk)


@require_POST
@supervisor_required
def return_decide(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    """One decision for every item of the return; an irreversible one needs the confirmation box."""
    record = _get_return_for_user(return_id)
    p = request.POST
    try:
        kind = DecisionType(p.get("decision", ""))
        reason = DeclineReason(p["reason"]) if p.get("reason") else None
        amount = Decimal(p["compensation"]) if p.get("compensation") else None
        if kind in IRREVERSIBLE and p.get("confirm") != "1":
            raise receiving.ReceivingRefused(_("This decision cannot be undone: tick the confirmation first."))
        decisions = [ItemDecision(int(c["item_id"]), kind, reason, p.get("comment", "").strip(), amount)
                     for c in _claims(record) if not c["decision"]]
        receiving.submit_decisions(record, decisions, request.user)
    except (ValueError, InvalidOperation):
        messages.error(request, _("Choose a decision the Market allows, with what it needs."))
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The decision is on its way to the Market."))
    return redirect("return", return_id=record.pk)
