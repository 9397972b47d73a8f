"""The packer's order screen: the page, its panel (polled while the Market works), the scans, the
Market's code check, labels, a refresh from the Market and sending a refused action again."""

from __future__ import annotations

import json
import uuid
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.codes.classify import MAX_SCAN_LENGTH, shown
from fulfilment.market.changes import StatusChange
from fulfilment.market.errors import MarketError
from fulfilment.market.types import PageFormat
from fulfilment.orders import outbox, return_decisions
from fulfilment.orders.catalogue import product_facts
from fulfilment.orders.clients import client_for
from fulfilment.orders.mirror import market_layout
from fulfilment.orders.models import MarketReturn, Order, OrderSubstatus, OutboxAction, Problem
from fulfilment.orders.sync import refresh_order
from fulfilment.orders.verification import check_identifiers

from .. import finishing, panel_reads, scanning, station
from ..access import packer_required
from ..addresses import OrderUrls
from ..http import HtmxHttpRequest
from ..kernel import Feedback
from ..live import items_stamp
from ..state import PackState
from ..training import is_sandbox
from .digital import digital_screen
from .live import banner_context

MAX_SCANS_PER_REQUEST = 200
# A full batch of the longest scans, every character escaped as JSON sends it, and its ids.
MAX_BATCH_BYTES = MAX_SCANS_PER_REQUEST * (MAX_SCAN_LENGTH * 12 + 100)
PAGE = "packing/order.html"
TEACH_KEY = "teach-barcode-order"  # the order whose screen is in teach mode, in the packer's session


def teaching(request: HtmxHttpRequest, order_id: int) -> bool:
    """Whether the packer switched on "Teach a barcode" on this order's screen."""
    return request.session.get(TEACH_KEY) == order_id


def after_teaching(request: HtmxHttpRequest, fb: Feedback) -> None:
    """Teach mode makes one link: once a barcode is linked it is off again."""
    if fb.taught:
        request.session.pop(TEACH_KEY, None)


def get_order(order_id: int) -> Order:
    """The order with its shop and business (compiled once: ``panel_reads``); 404 when there is none."""
    return panel_reads.screen_order(order_id)


def _label_format(request: HtmxHttpRequest) -> str:
    fmt = request.COOKIES.get("label_format", "")
    return fmt if fmt in settings.LABEL_FORMATS else settings.LABEL_FORMATS[0]


def _is_ready_to_ship(action: OutboxAction) -> bool:
    change = outbox.sent_change(action) if action.kind == OutboxAction.Kind.STATUS else None
    return isinstance(change, StatusChange) and change.substatus == OrderSubstatus.READY_TO_SHIP


def panel_context(request: HtmxHttpRequest, order: Order, feedback: list[Feedback] | None = None,
                  state: PackState | None = None, swapped: bool = False) -> dict[str, Any]:
    """Everything the order's panel shows: items, boxes, codes, what blocks finishing, the actions sent.
    ``swapped``: the answer is swapped into the page by JavaScript (htmx, or the scan queue)."""
    state = state if state is not None else PackState(order)
    actions = panel_reads.recent_actions(order)
    # A removal sends boxes (FBS/Express) or items (DBS) too: finishing waits for it like for a layout.
    layout_action = next((a for a in actions if a.kind in (OutboxAction.Kind.LAYOUT, OutboxAction.Kind.REMOVAL,
                                                           OutboxAction.Kind.CARGO_PLACES)), None)
    ready_action = next((a for a in actions if _is_ready_to_ship(a)), None)
    feedback = feedback or []
    last = feedback[-1] if feedback else None
    boxes_sent = (order.layout_sent_version is not None and layout_action is not None
                  and layout_action.state == OutboxAction.State.DELIVERED)
    waiting = bool((layout_action and layout_action.state in (OutboxAction.State.PENDING, OutboxAction.State.SENDING))
                   or (ready_action and ready_action.state in (OutboxAction.State.PENDING, OutboxAction.State.SENDING))
                   or (boxes_sent and not state.is_dbs and state.verification_pending()))
    # Made ready here: READY_TO_SHIP is the success, said in green with the way to the next order,
    # not a red "not being packed".
    done = finishing.done_here(order)
    refused = [f for f in feedback if not f.ok and not f.prompt]
    ctx = {
        "order": order, "state": state, "items": list(state.items.values()), "boxes": list(state.boxes.values()),
        "blockers": state.blockers(status=not done), "problems": state.layout_problems(),
        "done": done, "next_order": finishing.next_order(order, request.user) if done else None,
        "read_only": finishing.read_only(order, done),
        "later_shipment": finishing.later_shipment(order) if done else None,
        "ready_problems": finishing.ready_problems(state), "actions": actions, "layout_action": layout_action,
        "ready_action": ready_action, "boxes_sent": boxes_sent, "waiting": waiting,
        "labels_stale": order.labels_printed_version not in (None, order.layout_version),
        "feedback": feedback, "prompt": next((f.prompt for f in reversed(feedback) if f.prompt), None),
        # A refusal inside a batch (scans sent after a reconnect) is not hidden by a later green one.
        "feedback_state": "" if last is None else ("prompt" if last.prompt else ("error" if refused else "ok")),
        "refused": refused if len(feedback) > 1 else [],
        "redirect": next((f.redirect for f in feedback if f.redirect), ""),
        "label_formats": settings.LABEL_FORMATS, "label_format": _label_format(request),
        "problem_choices": Problem.choices, "part_choices": station.SPLIT_PARTS,
        "item_choices": repr([(st.item.pk, st.item.offer_id) for st in state.items.values()]),  # their cache key
        "sent_current": order.layout_sent_version is not None and order.layout_sent_version == order.layout_version,
        # A layout the Market holds that was not sent from here: shown as the Market's, never as packed.
        "market_boxes": len(market_layout(order)) if order.layout_sent_version is None else 0,
        "swapped": swapped, "teaching": teaching(request, order.pk), "urls": OrderUrls(order.pk),
        "print_labels": any(f.print_labels for f in feedback),
    }
    # Labels print by themselves once the Market has the boxes and these boxes' labels were never
    # fetched (the fetch records them as printed); CMD-LABELS prints them again.
    ctx["autoprint"] = (boxes_sent and not state.is_dbs and ctx["sent_current"]
                        and order.labels_printed_version != order.layout_version)
    ctx["next_step"] = station.next_step(ctx)
    # Beside each item: the catalogue's picture kept here and its barcode.
    ctx["products"] = product_facts(order.campaign_id, order.campaign.business_id,
                                    (st.item.offer_id for st in ctx["items"]))
    return ctx


def render_panel(request: HtmxHttpRequest, order_id: int, feedback: list[Feedback] | None = None,
                 partial: str = "panel", order: Order | None = None, state: PackState | None = None) -> HttpResponse:
    """The order page's panel (or its body) alone, as JavaScript swaps it; from ``order`` and ``state``
    when the caller holds them as they are now."""
    order = order if order is not None else get_order(order_id)
    return render(request, f"{PAGE}#{partial}", panel_context(request, order, feedback, state, swapped=True))


def _page(request: HtmxHttpRequest, order: Order, feedback: list[Feedback] | None = None) -> HttpResponse:
    ctx = panel_context(request, order, feedback)
    ctx["events"] = panel_reads.history(order)
    ctx["photos"] = panel_reads.photos(order)
    ctx["sandbox"] = is_sandbox(order)
    # The id of a scan sent by the plain form (no JavaScript): the same page sent twice counts once.
    ctx["scan_id"] = uuid.uuid4()
    # The banner of what the Market changes while the screen is open, against the items drawn now.
    ctx |= banner_context(order, items_stamp((st.item.market_item_id, st.item.count) for st in ctx["items"]))
    return render(request, PAGE, ctx)


@require_GET
@packer_required
def order_screen(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    order = get_order(order_id)
    if order.is_digital:
        # No boxes for digital goods: the buyer gets keys by e-mail.
        return digital_screen(request, order)
    return _page(request, order)


@require_GET
@packer_required
def order_panel(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """The order's body, for polling while the Market works (layout, code checks, status)."""
    return render_panel(request, order_id, partial="panel-body")


@require_POST
@packer_required
def order_scan(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """A batch of scans, in the order they were made, each with the browser's id for it."""
    # No read of the order before the scan's own (under its lock): an order that does not exist is
    # a 404 from there, or from the answer's read when every scan was refused before the lock.
    try:
        return _scan_batch(request, order_id)
    except Order.DoesNotExist:
        raise Http404 from None


def _scan_batch(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    if request.content_type != "application/json":
        return _scan_form(request, order_id)
    try:
        batch, known_version = parse_scans(request.body)
    except BadScans as exc:
        get_order(order_id)  # 404 first, as for any request about an order that does not exist
        return HttpResponseBadRequest(str(exc))
    feedback = []
    done = 0
    for request_id, code in batch:
        fb = scanning.scan(order_id, request.user, code, request_id, teach=teaching(request, order_id))
        fb.code = shown(code.strip(" \t\r\n"))  # what a refusal shows beside it: printable, capped
        done += 1
        if not fb.duplicate:
            feedback.append(fb)
        # A question holds the scans behind it: they are applied once it is answered, not lost
        # under the next prompt (the browser keeps them and says how many wait).
        if fb.redirect or fb.prompt:
            break
    # Only what the scans changed is re-rendered (out-of-band swaps), from the state the last scan
    # left, when the scans follow each other and the version the browser last saw without anyone
    # else's change in between; otherwise, or when the change is broad, the whole panel.
    applied = [f for f in feedback if f.state is not None]
    chained = bool(applied) and applied[0].version_before == known_version and all(
        a.version_after == b.version_before for a, b in pairwise(applied))
    broad = not feedback or any(f.structure or f.prompt or f.redirect for f in feedback)
    order = None
    if not applied and not broad:  # only refusals: unchanged, unless someone else changed the order
        order = get_order(order_id)
        chained = order.version == known_version
    if broad or not chained:
        response = render_panel(request, order_id, feedback)
        response["X-Pack-Update"] = "full"
        response["X-Pack-Done"] = str(done)
        return response
    if applied:
        state = applied[-1].state
        assert state is not None
        ctx = panel_context(request, state.order, feedback, state, swapped=True)
    else:
        assert order is not None
        ctx = panel_context(request, order, feedback, swapped=True)
        state = ctx["state"]
    items = set().union(*(f.items for f in feedback))
    lines: dict[int, bool] = {}
    for f in feedback:
        for _box, line_id, new in f.lines:
            lines[line_id] = lines.get(line_id, False) or new
    codes = {c for f in feedback for c in f.codes}
    ctx["touched_items"] = [st for pk, st in state.items.items() if pk in items]
    ctx["touched_lines"] = []
    for box in state.boxes.values():
        for line in box.lines:
            if line.pk in lines:
                line.is_new = lines[line.pk]
                ctx["touched_lines"].append((box, line))
    ctx["new_codes"] = [(st, i) for st in state.items.values() for i in st.code_list if i.pk in codes]
    response = render(request, "packing/_scan_update.html", ctx)
    response["X-Pack-Update"] = "partial"
    response["X-Pack-Done"] = str(done)
    return response


class BadScans(ValueError):
    """A scan batch that is not what the order screen sends; the message says what is expected."""


def parse_scans(body: bytes) -> tuple[list[tuple[uuid.UUID, str]], int | None]:
    """The (id, code) pairs of a scan batch and the version the browser last saw. The size is capped
    before parsing and nesting is bounded (the parser's recursion limit), so junk costs little; each
    code's text is checked by ``scanning.scan`` (a bad one is a refused scan, the others still count)."""
    expected = _("Scans must be sent as JSON: {\"scans\": [{\"id\": uuid, \"code\": text}]}")
    if len(body) > MAX_BATCH_BYTES:
        raise BadScans(_("Too much in one request: at most %(n)s scans of at most %(len)s characters each.")
                       % {"n": MAX_SCANS_PER_REQUEST, "len": MAX_SCAN_LENGTH})
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise BadScans(expected) from None
    scans = data.get("scans") if isinstance(data, dict) else None
    if not isinstance(scans, list) or not all(isinstance(s, dict) for s in scans):
        raise BadScans(expected)
    if len(scans) > MAX_SCANS_PER_REQUEST:
        raise BadScans(_("Too many scans in one request: send at most %(n)s.") % {"n": MAX_SCANS_PER_REQUEST})
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise BadScans(expected)
    batch = []
    for s in scans:
        if not isinstance(s.get("code"), str):
            raise BadScans(_("Each scan's code must be text: %(code)s") % {"code": shown(s.get("code"), 40)})
        try:
            batch.append((uuid.UUID(str(s.get("id"))), s["code"]))
        except ValueError:
            raise BadScans(_("Each scan needs its id (a UUID): %(id)s") % {"id": shown(s.get("id"), 40)}) from None
    return batch, version


def _scan_form(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """The scan field sent as a plain form (no JavaScript): one scan, answered with the page (so a
    question about the item can be answered there too). The scan's id came with the page, so the
    browser sending it again is not applied twice."""
    try:
        request_id = uuid.UUID(request.POST.get("id", ""))
    except ValueError:
        get_order(order_id)  # 404 first, as for any request about an order that does not exist
        return HttpResponseBadRequest(_("Missing or bad value: %(name)s") % {"name": "id"})
    fb = scanning.scan(order_id, request.user, request.POST.get("code", ""), request_id,
                       teach=teaching(request, order_id))
    if fb.redirect:
        return redirect(fb.redirect)
    return _page(request, get_order(order_id), [fb])


def answer(request: HtmxHttpRequest, order_id: int, fb: Feedback, order: Order | None = None,
           state: PackState | None = None) -> HttpResponse:
    """After a button on the order screen: htmx swaps the panel with the result in it; a plain
    form post goes back to the page, which shows the result as a message. ``order`` and ``state``:
    as the operation committed them, when the caller knows they still hold."""
    if request.htmx:
        return render_panel(request, order_id, [fb], order=order, state=state)
    (messages.success if fb.ok else messages.error)(request, fb.message)
    return redirect("order", order_id=order_id)


@require_POST
@packer_required
def order_teach(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Switch "Teach a barcode" on or off: on, the next barcode no item has asks which item it is."""
    get_order(order_id)
    if request.POST.get("on") == "1":
        request.session[TEACH_KEY] = order_id
        fb = Feedback(True, _("Teach a barcode: scan the product whose barcode is not known yet, "
                              "then choose its item."))
    else:
        request.session.pop(TEACH_KEY, None)
        fb = Feedback(True, _("Teach a barcode is off."))
    return answer(request, order_id, fb)


@require_POST
@packer_required
def order_check_codes(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Ask the Market about the codes now (the worker also polls on its own)."""
    get_order(order_id)
    try:
        check_identifiers(order_id)
        fb = Feedback(True, _("The Market was asked about the codes."))
    except MarketError as exc:
        fb = Feedback(False, _("The Market did not answer: %(error)s") % {"error": "; ".join(exc.messages)})
    return answer(request, order_id, fb)


@require_GET
@packer_required
def order_labels(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """The Market's labels for all boxes, as PDF, in this workstation's format (remembered in a cookie)."""
    order = get_order(order_id)
    fmt = request.GET.get("format") or _label_format(request)
    if fmt not in settings.LABEL_FORMATS:
        return HttpResponseBadRequest(_("Unknown label format."))
    try:
        pdf = finishing.printable_labels(order, client_for(order.campaign.business), PageFormat(fmt))
    except MarketError as exc:
        messages.error(request, _("The Market did not give the labels: %(error)s") % {"error": "; ".join(exc.messages)})
        return redirect("order", order_id=order.pk)
    except finishing.LabelsRefused as exc:
        # Never printed silently: the station says why (text, not a PDF), and so does a tab opened by hand.
        reason = _("These labels are not printed: %(problems)s") % {"problems": " ".join(exc.problems)}
        return HttpResponse(reason, status=422, content_type="text/plain; charset=utf-8")
    finishing.labels_printed(order.pk, request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-{int(order.market_id)}.pdf"'
    response.set_cookie("label_format", fmt, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_POST
@packer_required
def order_refresh(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Fetch this order from the Market again, now."""
    order = get_order(order_id)
    try:
        refresh_order(order)
        messages.success(request, _("The order was refreshed from the Market."))
    except MarketError as exc:
        messages.error(request, _("The Market did not answer: %(error)s") % {"error": "; ".join(exc.messages)})
    return redirect("order", order_id=order.pk)


@require_POST
@packer_required
def action_retry(request: HtmxHttpRequest, order_id: int, action_id: int) -> HttpResponse:
    """Send a refused action again (after the cause was fixed at the Market or here)."""
    order = get_order(order_id)
    action = get_object_or_404(OutboxAction, pk=action_id, order=order)
    if action.state != OutboxAction.State.FAILED:
        messages.error(request, _("Only a refused action can be sent again."))
    elif return_decisions.is_irreversible(action):
        # Money or a refusal cannot be undone: sent again only from the return's page, with its confirmation.
        found = MarketReturn.objects.filter(market_id=action.payload.get("returnId")).first()
        messages.error(request, _("This decision cannot be undone: send it again from the return's page, "
                                  "with the confirmation."))
        if found is not None:
            return redirect("return", return_id=found.pk)
    else:
        outbox.retry_failed(action, request.user)
        messages.success(request, _("The action will be sent again."))
    return redirect("order", order_id=order.pk)
