"""The packer's queue: orders to pack by shipment date, filters, search, and opening an order by scan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fulfilment.accounts.roles import is_supervisor
from fulfilment.orders import compiled_sql
from fulfilment.orders.models import Business, Campaign, Order, OrderItem, OrderStatus, OrderSubstatus

from .. import queue_reads, queue_rows
from ..access import packer_required
from ..http import HtmxHttpRequest, whole_number
from ..queue_reads import Selection
from ..scanning import find_order
from .supervisor import bulk_outcome


def queue_orders(request: HtmxHttpRequest, say: bool = True) -> tuple[QuerySet[Order], dict[str, Any]]:
    """The queue's orders under the request's filters, and the filters (see ``queue_selection``)."""
    selection, filters = queue_selection(request, say)
    return selection.orders(), filters


def queue_selection(request: HtmxHttpRequest, say: bool = True) -> tuple[Selection, dict[str, Any]]:
    """The queue's filters as the request chose them, and as it sent them; ``say``: a bad filter is
    told as a message (not to the live region's polls, which would repeat it)."""
    g = request.GET
    filters = {k: g.get(k, "") for k in ("campaign", "status", "date", "buyer", "codes", "flagged", "q")}
    selection = Selection(campaign=whole_number(filters["campaign"]), codes=filters["codes"] == "1",
                          flagged=filters["flagged"] == "1")
    if filters["status"]:
        selection.status, _sep, selection.substatus = filters["status"].partition("/")
    if filters["date"]:
        try:
            selection.date = dt.date.fromisoformat(filters["date"])
        except ValueError:
            if say:
                messages.error(request, _("The shipment date must look like 2026-11-23."))
    if filters["buyer"] in ("PERSON", "BUSINESS"):
        selection.buyer = filters["buyer"]
    q = filters["q"].strip()
    if q:
        selection.ids = _matching(selection.orders(), q)
    return selection, filters


def _matching(qs: QuerySet[Order], q: str) -> list[int]:
    """The ids of the orders of ``qs`` whose number is ``q`` (by order_market_id_idx: a number typed or
    scanned names that order), else of those with an item whose SKU or name holds it. Matched once
    here, among the queue's orders only: the counts by date and the page then read these ids by
    primary key (the text match ran in both before, each over the day's work)."""
    if q.isascii() and q.isdigit() and len(q) <= 18:  # an order number (a bigint)
        found = list(qs.filter(market_id=int(q)).order_by().values_list("pk", flat=True))
        if found:
            return found
    text = Q(offer_id__icontains=q) | Q(name__icontains=q)
    return list(qs.filter(Exists(OrderItem.objects.filter(text, order=OuterRef("pk"))))
                .order_by().values_list("pk", flat=True))


@require_GET
@packer_required
def queue(request: HtmxHttpRequest) -> HttpResponse:
    """Orders to pack, grouped by shipment date, with filters, search and pages."""
    selection, filters = queue_selection(request)
    # The filter's shops as their id (as the select's value) and name, by SQL compiled once (issue 20).
    campaigns = [(str(pk), name) for pk, name in compiled_sql.rows(
        "queue-shops", lambda: Campaign.objects.filter(is_active=True).values_list("pk", "name"), (), ())]
    return render(request, "packing/queue.html", {
        **queue_page(request, selection), "filters": filters, "campaigns": campaigns,
        "filter_bar": repr((filters, campaigns)),  # the kept filter bar's key: all it shows but the words
        "bulk_outcome": bulk_outcome(request) if is_supervisor(request.user) else None,
        "reported": _reported(request),
        # The sandbox's training codes are offered where a sandbox business exists (the demo).
        "training": bool(compiled_sql.rows("queue-training", lambda: Business.objects.exclude(
            api_base_url__icontains="market.yandex.ru").values_list("pk")[:1], (), ())),
        "statuses": [(f"{OrderStatus.PROCESSING}/{OrderSubstatus.STARTED}", _("Processing: started")),
                     (f"{OrderStatus.PROCESSING}/{OrderSubstatus.READY_TO_SHIP}", _("Processing: ready to ship")),
                     (f"{OrderStatus.PROCESSING}/{OrderSubstatus.SHIPPED}", _("Processing: shipped"))],
    })


def codes_needed(items: list[tuple[int, list[str]]], business: bool) -> str:
    """"required", "optional" or "" for an order's items as (units, required code kinds). Which codes
    are a must is the order screen's rule (state._kinds): UIN, RNPT, GTD always, CIS for a business
    buyer; CIS_OPTIONAL never. Counted from the page's items (a few hundred rows at most): a JSON
    "contains" filter would do it in SQL on PostgreSQL, but SQLite, the embedded default, has none."""
    kinds = [set(k or ()) for _n, k in items]
    if any(k & {"UIN", "RNPT", "GTD"} or (business and "CIS" in k) for k in kinds):
        return "required"
    return "optional" if any(kinds) else ""


def _reported(request: HtmxHttpRequest) -> Order | None:
    """The order this packer just sent to the supervisor (?reported=, after a problem report by button
    or by scan), told on the queue; nothing once it is back in packing or was someone else's."""
    pk = whole_number(request.GET.get("reported", ""))
    if pk is None:
        return None
    return (Order.objects.filter(pk=pk, problem_by=request.user).exclude(problem="")
            .only("pk", "market_id", "problem").first())


def queue_page(request: HtmxHttpRequest, selection: Selection) -> dict[str, Any]:
    """The page of the queue the request asks for, its groups by shipment date and the live region's pace."""
    groups = queue_reads.groups(selection)
    # The page's ids first (order_queue_idx, no join), then the orders and their items for those only:
    # not for every order of the day before the sort and the cut. The groups already hold the count.
    paginator = Paginator((), settings.QUEUE_PAGE_SIZE)
    paginator.count = sum(g["n"] for g in groups)
    page = paginator.get_page(request.GET.get("page"))
    ids = queue_reads.page_ids(selection, page.start_index() - 1, paginator.per_page) if paginator.count else []
    # The page's orders as the values their rows show, with their items, by primary key (not model
    # instances with their shops: issue 20). The items are read for the page's orders only, by
    # item_unique_per_order: an EXISTS for "needs codes" beside a GROUP BY over the orders' rows was
    # planned as a hashed subplan, a Seq Scan of every item ever sold.
    rows = []
    for values, items in queue_reads.page_orders(ids, queue_rows.FIELDS):
        rows.append(queue_rows.QueueRow(values, len(items), sum(n for n, _kinds in items) if items else None,
                                        codes_needed(items, values[6] == "BUSINESS")))
    page.object_list = rows
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("reported", None)  # the confirmation is said once, not on every page after
    table = queue_rows.by_date(rows, queue_rows.rendered(rows, is_supervisor(request.user)))
    return {"page": page, "groups": groups, "table": table, "total": paginator.count, "params": params.urlencode(),
            "live_every": settings.LIVE_LIST_SECONDS}


@require_GET
@packer_required
def queue_open(request: HtmxHttpRequest) -> HttpResponse:
    """A scanned order number, box label or sheet barcode on the queue opens that order."""
    code = request.GET.get("code", "").strip(" \t\r\n")
    order = find_order(code) if code else None
    if order is None:
        messages.error(request, _("No order found for %(code)s.") % {"code": code or "—"})
        return redirect("queue")
    return redirect("order", order_id=order.pk)
