"""The returns screens: what is coming back per shop, one return received by scan and graded, and a
supervisor's decision. The rules are in ``orders/receiving.py``; these views translate."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Case, IntegerField, Q, When
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.accounts.roles import is_supervisor
from fulfilment.market.errors import MarketError
from fulfilment.market.returns import DecisionType, DeclineReason, ItemDecision
from fulfilment.orders import evidence, outbox, receiving, return_decisions
from fulfilment.orders.clients import client_for
from fulfilment.orders.models import Campaign, Grade, MarketReturn, OutboxAction, ReturnShipment, ReturnUnit
from fulfilment.orders.models.returns import COMING, WAITING_FOR_DECISION
from fulfilment.orders.returns_mirror import sync_all_returns_task

from ..access import packer_required, supervisor_required
from ..http import HtmxHttpRequest, whole_number
from ..return_labels import DECISIONS, DECLINE_REASONS, REFUND_STATUSES, RETURN_REASONS, label, market_refusal

REFRESH_KEY, REFRESH_SECONDS = "returns-refresh-asked", 60
MAX_SCANS_PER_REQUEST = 200  # as at the packing screen: packing.js sends at most 100 at a time
IRREVERSIBLE = return_decisions.IRREVERSIBLE


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
    campaign_id = whole_number(chosen)
    if campaign_id is not None:
        rows = rows.filter(campaign_id=campaign_id)
    now = timezone.now()
    coming = rows.filter(received_at__isnull=True, shipment_status__in=(*COMING, ReturnShipment.PICKED)).annotate(
        overdue=Case(When(Q(shipment_status=ReturnShipment.READY_FOR_PICKUP, pickup_till__lt=now), then=0),
                     default=1, output_field=IntegerField())).order_by("overdue", "pickup_till", "market_id")
    waiting = list(rows.filter(refund_status__in=WAITING_FOR_DECISION).order_by("created_at_market")[:200])
    state = _decision_states([r.market_id for r in waiting])
    context = {"campaigns": campaigns, "chosen": chosen, "coming": coming[:200], "now": now,
               "waiting": [r for r in waiting if r.market_id not in state],
               "sent": [r for r in waiting if state.get(r.market_id) in _SENT],
               "refused": [r for r in waiting if state.get(r.market_id) == OutboxAction.State.FAILED],
               "received": rows.filter(received_at__isnull=False).order_by("-received_at")[:50]}
    return render(request, "packing/returns.html", context)


_SENT = (OutboxAction.State.PENDING, OutboxAction.State.SENDING, OutboxAction.State.DELIVERED)


def _decision_states(return_ids: list[int]) -> dict[int, str]:
    """Each return's latest decision here (a withdrawn one does not count): waiting, on its way, taken, refused."""
    out: dict[int, str] = {}
    actions = (OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION, payload__returnId__in=return_ids)
               .exclude(state__in=(OutboxAction.State.CANCELLED, OutboxAction.State.SUPERSEDED)).order_by("id"))
    for payload, state in actions.values_list("payload", "state"):
        out[int(payload["returnId"])] = state
    return out


@require_POST
@packer_required
def returns_refresh(request: HtmxHttpRequest) -> HttpResponse:
    """«Refresh now»: one returns pass per business, through the worker; a second press while one is
    asked for (a minute) or running (its lock) starts nothing more."""
    if cache.add(REFRESH_KEY, timezone.now().isoformat(), REFRESH_SECONDS):
        sync_all_returns_task.delay()
        messages.success(request, _("The returns are being read from the Market: reload the page in a minute."))
    else:
        messages.info(request, _("The returns are already being read from the Market: reload the page in a minute."))
    return redirect("returns")


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
    return _screen(request, _get_return_for_user(return_id))


def _screen(request: HtmxHttpRequest, record: MarketReturn, posted: QueryDict | None = None, wrong: int | None = None,
            status: int = 200) -> HttpResponse:
    """The return's page; after a refused decision, with every choice the supervisor made (``posted``) and the
    item that was refused (``wrong``) marked."""
    claims = _claims(record)
    for c in claims:
        n = c["item_id"]
        c.update({f"chosen_{field}": (posted or {}).get(f"{field}-{n}", "")
                  for field in ("decision", "reason", "comment", "compensation")})
        c["wrong"] = n == wrong
    available, market_error = [], ""
    if is_supervisor(request.user) and record.decision_till:  # only a supervisor decides
        try:
            available = client_for(record.campaign.business).get_return_available_decisions(
                record.campaign.business.market_id, record.campaign.market_id, record.market_id)
        except MarketError as exc:
            market_error = str(exc)
    action = receiving.decision_action(record)
    live = action is not None and action.state not in (OutboxAction.State.CANCELLED, OutboxAction.State.SUPERSEDED)
    sent = {int(d["returnItemId"]): label(DECISIONS, d.get("decisionType"))
            for d in (action.payload.get("returnItemDecisions") or ()) if live} if action else {}
    for c in claims:
        c["sent_label"] = sent.get(c["item_id"], "")
    now = timezone.now()
    context = {**_panel_context(record, []), "claims": claims, "market_error": market_error,
               "confirmed": bool(posted and posted.get("confirm") == "1"),
               "choices": [(str(a.decision), label(DECISIONS, a.decision)) for a in available],
               "reasons": [(str(r), label(DECLINE_REASONS, r)) for a in available for r in a.decline_reasons],
               "action": action if live else None, "now": now, "decided": live and action.state != "FAILED",
               "refusal": market_refusal(action.market_errors, action.last_error)
               if live and action.state == "FAILED" else "",
               "retry_irreversible": live and return_decisions.is_irreversible(action),
               "none_allowed": _why_none_allowed(record, now) if is_supervisor(request.user) and not available
               and not market_error and record.decision_till else "",
               "refund_status": label(REFUND_STATUSES, record.refund_status)}
    return render(request, "packing/return.html", context, status=status)


def _why_none_allowed(record: MarketReturn, now: timezone.datetime) -> str:
    """Why the Market lists no decision now, as far as is known here."""
    if record.decision_till and record.decision_till < now:
        return _("The Market allows no decision now: the time to decide has passed.")
    return _("The Market allows no decision on this return now (it gave no reason).")


def _panel_context(record: MarketReturn, feedback: list[_Said]) -> dict:
    """What the receiving panel shows: the units scanned so far and the answers to the last scans."""
    state = "" if not feedback else ("error" if any(not f.ok for f in feedback) else "ok")
    return {"record": record, "units": record.units.select_related("shipped", "scanned_by", "graded_by", "removed_by"),
            "scan_id": uuid.uuid4(), "grades": [(v, n) for v, n in Grade.choices if v != Grade.MISSING],
            "short": sorted(record.short().items()) if not record.received_at else [],
            "feedback": feedback, "feedback_state": state}


def _claims(record: MarketReturn) -> list[dict]:
    """The buyer's claims, item by item, with what was shipped and what came back, in plain words."""
    out = []
    for item in record.payload.get("items") or ():
        for claim in item.get("decisions") or ():
            out.append({"sku": item["shopSku"], "count": claim.get("count"), "reason": claim.get("reasonType", ""),
                        "reason_label": label(RETURN_REASONS, claim.get("reasonType")),
                        "comment": claim.get("comment", ""), "decision": claim.get("decisionType", ""),
                        "decision_label": label(DECISIONS, claim.get("decisionType")),
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


@dataclass(frozen=True)
class _Said:
    ok: bool
    message: str


def _receive(record: MarketReturn, scan_id: uuid.UUID, code: str, user: AbstractBaseUser) -> _Said | None:
    """One scan received, and what to say about it (nothing for a scan sent twice)."""
    try:
        result = receiving.receive_scan(record, scan_id, code, user)
    except receiving.ReceivingRefused as exc:
        return _Said(False, str(exc))
    unit = result.unit
    if unit.is_mismatch:
        return _Said(False, _("MISMATCH: %(what)s. Recorded with who and when; keep the unit aside.")
                     % {"what": unit.get_match_display()})
    if result.again:
        return None
    return _Said(True, _("%(sku)s: %(what)s.") % {"sku": unit.offer_id, "what": unit.get_match_display()})


@require_POST
@packer_required
def return_scan(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    """A scan at the returns table: the plain form's one, or packing.js's batch in the order made, each
    with the browser's id (a resent batch records nothing twice), answered with the receiving panel."""
    record = _get_return_for_user(return_id)
    if request.content_type == "application/json":
        try:
            scans = json.loads(request.body or b"{}")["scans"]
            if not isinstance(scans, list) or len(scans) > MAX_SCANS_PER_REQUEST:
                raise ValueError
            batch = [(uuid.UUID(str(s["id"])), str(s["code"])) for s in scans]
        except (ValueError, KeyError, TypeError, AttributeError):
            return HttpResponseBadRequest(
                _("Scans must be sent as JSON: {\"scans\": [{\"id\": uuid, \"code\": text}]}"))
        said = [s for s in (_receive(record, scan_id, code, request.user) for scan_id, code in batch) if s]
        record.refresh_from_db()
        response = render(request, "packing/return.html#panel", {**_panel_context(record, said), "swapped": True})
        response["X-Pack-Update"] = "full"  # the header packing.js reads as "these scans are recorded"
        response["X-Pack-Done"] = str(len(batch))
        return response
    try:
        said = _receive(record, uuid.UUID(request.POST.get("scan_id", "")), request.POST.get("code", ""), request.user)
    except ValueError:
        messages.error(request, _("The scan could not be read: scan again."))
    else:
        if said is not None:
            (messages.success if said.ok else messages.error)(request, said.message)
    return redirect("return", return_id=record.pk)


@require_POST
@packer_required
def return_grade(request: HtmxHttpRequest, return_id: int, unit_id: int) -> HttpResponse:
    """The unit's grade and note, and an optional photo of it (checked first: a bad one changes nothing)."""
    unit = get_object_or_404(ReturnUnit.objects.select_related("record"), pk=unit_id, record_id=return_id)
    upload = request.FILES.get("photo")
    try:
        content = upload.read() if upload else b""
        if upload:
            evidence.check_photo(content)
        receiving.grade_unit(unit, request.POST.get("grade", ""), request.POST.get("note", ""), request.user)
        if upload:
            evidence.store_unit_photo(unit, content)
    except (receiving.ReceivingRefused, evidence.PhotoRefused) as exc:
        messages.error(request, str(exc))
    return redirect("return", return_id=return_id)


@require_GET
@packer_required
def return_unit_photo(request: HtmxHttpRequest, return_id: int, unit_id: int) -> HttpResponse:
    """A returned unit's photo from storage, to logged-in staff only."""
    unit = get_object_or_404(ReturnUnit, pk=unit_id, record_id=return_id, record__campaign__is_active=True)
    if not unit.photo:
        raise Http404
    try:
        content = unit.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(content, content_type=unit.photo_type or "image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@packer_required
def return_remove(request: HtmxHttpRequest, return_id: int, unit_id: int) -> HttpResponse:
    """A scan made by mistake (a product not in the order) taken off the return, with who and when."""
    unit = get_object_or_404(ReturnUnit, pk=unit_id, record_id=return_id, record__campaign__is_active=True)
    try:
        receiving.remove_extra(unit, request.user)
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The scan is removed from the return; it stays in the record with who and when."))
    return redirect("return", return_id=return_id)


@require_POST
@packer_required
def return_missing(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    """One unit of a SKU (``offer_id``) that the return holds and the parcel does not."""
    record = _get_return_for_user(return_id)
    try:
        receiving.mark_missing(record, request.POST.get("offer_id", ""), request.user)
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
    return redirect("return", return_id=record.pk)


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


def _decisions(record: MarketReturn, p: QueryDict) -> tuple[list[ItemDecision], dict[int, str]]:
    """The decision per item still open, as posted, and each item's name; a refusal names the item."""
    decisions, labels = [], {}
    for claim in _claims(record):
        if claim["decision"]:
            continue  # decided already
        n = claim["item_id"]
        item = labels[int(n)] = _("%(sku)s (%(reason)s)") % {"sku": claim["sku"], "reason": claim["reason_label"]}
        try:
            kind = DecisionType(p.get(f"decision-{n}", ""))
        except ValueError:
            raise receiving.ItemRefused(_("Choose a decision for %(item)s: nothing was sent.") % {"item": item},
                                        n) from None
        try:
            reason = DeclineReason(p[f"reason-{n}"]) if p.get(f"reason-{n}") else None
        except ValueError:
            raise receiving.ItemRefused(_("Choose a refusal reason from the list for %(item)s: nothing was sent.")
                                        % {"item": item}, n) from None
        try:
            amount = Decimal(p[f"compensation-{n}"].replace(",", ".")) if p.get(f"compensation-{n}") else None
        except InvalidOperation:
            raise receiving.ItemRefused(_("The partial refund for %(item)s is not an amount in roubles: "
                                          "nothing was sent.") % {"item": item}, n) from None
        if kind in IRREVERSIBLE and p.get("confirm") != "1":
            raise receiving.ReceivingRefused(_("This decision cannot be undone: tick the confirmation first."))
        decisions.append(ItemDecision(int(n), kind, reason, p.get(f"comment-{n}", "").strip(), amount))
    if not decisions:
        raise receiving.ReceivingRefused(_("The Market waits for no decision on this return."))
    return decisions, labels


@require_POST
@supervisor_required
def return_decide(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    """A decision per item of the return (``decision-<item>``, with its reason, comment and partial
    refund), as submitReturnDecision takes them, among those the Market allows now (read again here);
    an irreversible one needs the confirmation box. Refused, the page comes back with every choice kept
    and the item at fault marked."""
    record = _get_return_for_user(return_id)
    try:
        decisions, labels = _decisions(record, request.POST)
        try:
            available = client_for(record.campaign.business).get_return_available_decisions(
                record.campaign.business.market_id, record.campaign.market_id, record.market_id)
        except MarketError as exc:
            raise receiving.ReceivingRefused(_("The Market did not say which decisions it allows now (%(error)s): "
                                               "nothing was sent, try again.") % {"error": exc}) from None
        receiving.submit_decisions(record, decisions, request.user, available, labels)
    except receiving.ReceivingRefused as exc:
        messages.error(request, str(exc))
        return _screen(request, record, request.POST, getattr(exc, "item_id", None), status=400)
    messages.success(request, _("The decision is on its way to the Market."))
    return redirect("return", return_id=record.pk)


@require_POST
@supervisor_required
def return_decision_retry(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    """The refused decision sent again as it was; an irreversible one only with the confirmation box."""
    record = _get_return_for_user(return_id)
    action = receiving.decision_action(record)
    if action is None or action.state != OutboxAction.State.FAILED:
        messages.error(request, _("Only a refused decision can be sent again."))
    elif return_decisions.is_irreversible(action) and request.POST.get("confirm") != "1":
        messages.error(request, _("This decision cannot be undone: tick the confirmation first."))
    else:
        outbox.retry_failed(action, request.user)
        messages.success(request, _("The decision will be sent again."))
    return redirect("return", return_id=record.pk)
