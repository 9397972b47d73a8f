"""The supervisor's screens: reported problems, cancellation requests, one order's decisions, and
ready-to-ship in bulk. Plain forms that post and come back with a message; every view checks the
supervisor role (a packer gets 403)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from fulfilment.market.changes import StatusChanges
from fulfilment.market.errors import MarketError
from fulfilment.market.types import CancellationReason
from fulfilment.orders import outbox
from fulfilment.orders.models import Campaign, Order, OrderStatus, OutboxAction

from .. import dbs, reports, supervision
from ..access import supervisor_required
from ..http import HtmxHttpRequest, whole_number
from ..kernel import Feedback


def _say(request: HtmxHttpRequest, fb: Feedback) -> None:
    (messages.success if fb.ok else messages.error)(request, fb.message)


@require_GET
@supervisor_required
def overview(request: HtmxHttpRequest) -> HttpResponse:
    # Rows without the stored payload (kilobytes of JSON an order, decoded per row, never shown here).
    problems = (Order.objects.exclude(problem="").select_related("campaign", "problem_item", "problem_by")
                .defer("raw").order_by("problem_at"))
    # The newest ten by outbox_kind_created_idx (created_at follows id; id breaks a tie).
    bulk = list(OutboxAction.objects.filter(kind=OutboxAction.Kind.BULK_STATUS).select_related("campaign", "created_by")
                .order_by("-created_at", "-id")[:10])
    for a in bulk:
        change = outbox.sent_change(a)
        ids = [o.order_id for o in change.orders] if isinstance(change, StatusChanges) else []
        a.order_ids = ids  # type: ignore[attr-defined]
    return render(request, "packing/supervisor.html", {
        "problems": problems, **cancellations(), "reasons": CancellationReason, "bulk": bulk,
        "bulk_outcome": bulk_outcome(request),
    })


def cancellation_requests() -> QuerySet[Order]:
    """The buyers' requests to cancel an order already with the delivery service (DBS), oldest first."""
    return (Order.objects.filter(cancel_requested=True, status__in=(OrderStatus.DELIVERY, OrderStatus.PICKUP))
            .select_related("campaign").defer("raw").order_by("cancel_requested_at", "updated_at_market"))


def cancellations() -> dict[str, Any]:
    """The cancellation requests with their deadlines and each shop's decisions of the last hour
    (the supervisor's page, and its live region)."""
    requests = list(cancellation_requests())
    now = timezone.now()
    deciding = set(OutboxAction.objects.filter(order__in=requests, kind=OutboxAction.Kind.CANCELLATION,
                                               state__in=outbox.OPEN_STATES).values_list("order_id", flat=True))
    for o in requests:
        o.deciding = o.pk in deciding  # type: ignore[attr-defined]
        o.deadline = o.cancellation_deadline()  # type: ignore[attr-defined]
        o.overdue = o.deadline is not None and o.deadline <= now  # type: ignore[attr-defined]
    since = now - supervision.CANCELLATION_WINDOW
    # Grouped on outbox_kind_created_idx: the last hour's decisions only, never every action of a shop.
    used = dict(OutboxAction.objects.filter(kind=OutboxAction.Kind.CANCELLATION, created_at__gte=since)
                .order_by().values_list("campaign_id").annotate(n=Count("id")))
    limits = list(Campaign.objects.filter(pk__in={o.campaign_id for o in requests} | set(used)).order_by("pk"))
    for c in limits:
        c.used = used.get(c.pk, 0)  # type: ignore[attr-defined]
        c.near = c.used >= supervision.CANCELLATION_LIMIT * 0.9  # type: ignore[attr-defined]
    return {"requests": requests, "limits": limits, "limit": supervision.CANCELLATION_LIMIT, "now": now,
            "live_every": settings.LIVE_LIST_SECONDS}


def _order_page(request: HtmxHttpRequest, order_id: int, update_form: dbs.OrderUpdateForm | None = None,
                status: int = 200) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("campaign", "problem_item", "problem_by"), pk=order_id)
    order.deciding = OutboxAction.objects.filter(  # type: ignore[attr-defined]
        order=order, kind=OutboxAction.Kind.CANCELLATION, state__in=outbox.OPEN_STATES).exists()
    items = list(order.items.order_by("id"))
    for item in items:
        # What the Market would refuse for a removal (the check for a reduction by one says the same).
        item.refusal = supervision.removal_refusal(order, item, 0, items)  # type: ignore[attr-defined]
    can_update = dbs.can_update(order)
    if can_update and update_form is None:
        # Empty: only what the supervisor fills in is sent. The current interval is shown beside it.
        update_form = dbs.OrderUpdateForm(order)
    return render(request, "packing/supervisor_order.html", {
        "order": order, "items": items, "actions": order.outbox.order_by("-id")[:20],
        "events": order.audit_events.select_related("user")[:50],
        "deadline": order.cancellation_deadline() if order.cancel_requested else None,
        "reasons": CancellationReason, "update_form": update_form if can_update else None,
        "delivery_dates": (order.raw.get("delivery") or {}).get("dates") or {},
    }, status=status)


@require_GET
@supervisor_required
def order_decisions(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _order_page(request, order_id)


@require_POST
@supervisor_required
def update_order(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """New recipient and/or delivery interval (DBS, seed 003). Bad input comes back with what was typed."""
    order = get_object_or_404(Order.objects.select_related("campaign"), pk=order_id)
    form = dbs.OrderUpdateForm(order, request.POST)
    if not form.is_valid():
        return _order_page(request, order_id, form, status=400)
    _say(request, dbs.update_order(order_id, request.user, form))
    return _back(request, order_id)


def _back(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    nxt = request.POST.get("next", "")
    # Django's own check: browsers read "/\evil.example" as "//evil.example", another site.
    # A path of this site only: anything else ("%00", a view name) is not a place to go back to.
    if not nxt.startswith("/") or not url_has_allowed_host_and_scheme(nxt, {request.get_host()},
                                                                      require_https=request.is_secure()):
        nxt = reverse("supervisor-order", args=[order_id])
    return HttpResponseRedirect(nxt)


@require_POST
@supervisor_required
def cancellation(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    if decision not in ("accept", "reject"):
        messages.error(request, _("Choose to accept or reject the cancellation."))
        return _back(request, order_id)
    _say(request, supervision.decide_cancellation(order_id, request.user, decision == "accept",
                                                  request.POST.get("reason", ""),
                                                  confirmed=request.POST.get("confirm") == "1"))
    return _back(request, order_id)


@require_POST
@supervisor_required
def remove_item(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    item, count = whole_number(request.POST.get("item", "")), whole_number(request.POST.get("count", ""))
    if item is None or count is None:
        messages.error(request, _("Choose the item and the quantity that stays (0 removes it)."))
        return _back(request, order_id)
    _say(request, supervision.remove_item(order_id, request.user, item, count,
                                          confirmed=request.POST.get("confirm") == "1"))
    return _back(request, order_id)


@require_POST
@supervisor_required
def cancel_order(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    _say(request, supervision.cancel_as_shop(order_id, request.user, confirmed=request.POST.get("confirm") == "1"))
    return _back(request, order_id)


@require_POST
@supervisor_required
def back_to_packing(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    get_object_or_404(Order, pk=order_id)
    _say(request, supervision.back_to_packing(order_id, request.user))
    return _back(request, order_id)


BULK_SESSION_KEY = "bulk_ready"


def bulk_outcome(request: HtmxHttpRequest) -> supervision.BulkOutcome | None:
    """The supervisor's last bulk ready-to-ship as it stands now, for the result area at the top of
    the queue and the supervisor's page (None: nothing sent in bulk in this session, or hidden)."""
    last = request.session.get(BULK_SESSION_KEY)
    if not last:
        return None
    return supervision.bulk_outcome(last["actions"], [(mid, why) for mid, why in last["refused"]])


def _bulk_area(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "packing/_bulk_result.html", {"bulk": bulk_outcome(request)})


@require_POST
@supervisor_required
def bulk_ready(request: HtmxHttpRequest) -> HttpResponse:
    """Sends what is ready and remembers the outcome for the result area: swapped in place by htmx,
    or shown at the top of the queue after the redirect."""
    ids = [i for i in map(whole_number, request.POST.getlist("order")) if i is not None]
    if not ids:
        error = _("Tick the packed orders to mark ready to ship.")
        if request.htmx:
            return render(request, "packing/_bulk_result.html", {"bulk": bulk_outcome(request), "error": error})
        messages.error(request, error)
        return redirect("queue")
    result = supervision.bulk_ready(ids, request.user)
    request.session[BULK_SESSION_KEY] = {
        "actions": [a.pk for a in result.actions],
        "refused": [[order.market_id, str(why)] for order, why in result.refused]}
    return _bulk_area(request) if request.htmx else redirect(reverse("queue") + "#bulk-result")


@require_http_methods(["GET", "POST"])
@supervisor_required
@vary_on_headers("HX-Request")
def bulk_result(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the result area now (htmx asks again while the Market has not answered). POST: hide it."""
    if request.method == "POST":
        request.session.pop(BULK_SESSION_KEY, None)
        return _bulk_area(request) if request.htmx else redirect("queue")
    # Without htmx (the "Refresh" link) the result is read where it is shown: at the top of the queue.
    return _bulk_area(request) if request.htmx else redirect(reverse("queue") + "#bulk-result")


# --- reports -------------------------------------------------------------------------------------
def _market_refused(exc: MarketError) -> str:
    return _("The Market did not give the statistics: %(e)s") % {"e": "; ".join(exc.messages) or exc}


def _report_form(request: HtmxHttpRequest, default: bool = False) -> reports.ReportForm:
    """The chosen period; with ``default``, the last seven days when none was chosen, so the page
    shows figures at once (a CSV is always asked for with its period)."""
    if "date_from" in request.GET or not default:
        return reports.ReportForm(request.GET if "date_from" in request.GET else None,
                                  initial=reports.initial_period())
    return reports.ReportForm({k: v.isoformat() for k, v in reports.initial_period().items()})


@require_GET
@supervisor_required
def report(request: HtmxHttpRequest) -> HttpResponse:
    form = _report_form(request, default=True)
    summary, error = None, ""
    if form.is_valid():
        d = form.cleaned_data
        try:
            summary = reports.summarise(reports.orders(form.campaigns(), d["date_from"], d["date_to"]))
        except MarketError as exc:
            error = _market_refused(exc)
    return render(request, "packing/report.html", {"form": form, "summary": summary, "error": error},
                  status=400 if form.is_bound and not form.is_valid() else 200)


@require_GET
@supervisor_required
def report_csv(request: HtmxHttpRequest) -> HttpResponse:
    """Streamed: the first page is asked before answering, so a refusal is a page with the reason; a
    failure later on ends the file with a line that says it is incomplete."""
    form = _report_form(request)
    if not form.is_valid():
        return render(request, "packing/report.html", {"form": form}, status=400)
    d = form.cleaned_data
    rows = reports.orders(form.campaigns(), d["date_from"], d["date_to"])
    try:
        first = list(itertools.islice(rows, 1))
    except MarketError as exc:
        return render(request, "packing/report.html", {"form": form, "error": _market_refused(exc)}, status=502)

    body = reports.csv_rows(itertools.chain(first, rows))
    incomplete = "# " + _("Incomplete: the Market stopped answering. Download the report again.")

    def lines() -> Iterator[str]:
        try:
            yield from body
        except MarketError as exc:
            yield f"{incomplete} ({'; '.join(exc.messages) or exc})\r\n"

    name = f"orders-{d['date_from']:%Y%m%d}-{d['date_to']:%Y%m%d}.csv"
    resp = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
