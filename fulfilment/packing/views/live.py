"""The live regions of open screens (static/js/live.js asks each again every few seconds): the order
screen's banner of what the Market changed, the queue's table, the supervisor's cancellation
requests. Each answers 304 while its stamp (``packing/live.py``) is the one the browser sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_GET

from fulfilment.accounts.roles import is_supervisor
from fulfilment.orders.models import Order
from fulfilment.orders.shipments import local_today

from .. import live
from ..access import packer_required, supervisor_required
from ..http import HtmxHttpRequest
from .queue import queue_orders, queue_page, queue_selection
from .shipments import get_shipment, list_context, live_page
from .supervisor import cancellation_requests, cancellations

# The browser asks with If-None-Match itself (live.js): no cache of its own in between.
fresh = cache_control(private=True, no_cache=True)
# A compressing proxy marks the ETag of what it encoded: Caddy's encode appends "-zstd" or "-gzip" inside
# the quotes (nginx makes it weak, W/, which Django already compares weakly).
CODING_SUFFIX = re.compile(r'-(?:gzip|zstd|br|deflate)"')


def as_sent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The region's own ETag back from what a compressing proxy made of it, before ``condition`` compares."""
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        sent = request.META.get("HTTP_IF_NONE_MATCH")
        if sent:
            request.META["HTTP_IF_NONE_MATCH"] = CODING_SUFFIX.sub('"', sent)
        return view(request, *args, **kwargs)

    return wrapped


def _order_etag(request: HtmxHttpRequest, order_id: int) -> str | None:
    return live.order_stamp(order_id, request.GET.get("items", ""))


def _queue_etag(request: HtmxHttpRequest) -> str:
    qs, _filters = queue_orders(request, say=False)
    return live.list_stamp(qs, request.GET.get("page", ""), is_supervisor(request.user))


def _cancellations_etag(request: HtmxHttpRequest) -> str:
    return live.cancellations_stamp(cancellation_requests())


def _shipment_etag(request: HtmxHttpRequest, shipment_id: int) -> str | None:
    return live.shipment_stamp(shipment_id, is_supervisor(request.user))


def _shipments_etag(request: HtmxHttpRequest) -> str:
    return live.shipments_stamp(local_today())


def banner_context(order: Order, items_seen: str) -> dict[str, object]:
    """The order screen's live banner: what the Market changed, and how to ask again."""
    return {"order": order, "notices": live.market_notices(order, items_seen), "items_seen": items_seen,
            "live_every": settings.LIVE_ORDER_SECONDS}


@require_GET
@packer_required
@fresh
@as_sent
@condition(etag_func=_order_etag)
def order_live(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """The banner of the order screen: red when the Market cancelled the order or changed its items."""
    order = get_object_or_404(Order, pk=order_id)
    ctx = banner_context(order, request.GET.get("items", ""))
    if not order.is_digital:
        # The header's status and the next step, which a cancellation at the Market makes stale.
        from .order import panel_context  # the order screen's views use this module's banner_context

        ctx |= {"follow": True, "next_step": panel_context(request, order, swapped=True)["next_step"]}
    return render(request, "packing/_market_banner.html#market-notices", ctx)


@require_GET
@packer_required
@fresh
@as_sent
@condition(etag_func=_queue_etag)
def queue_live(request: HtmxHttpRequest) -> HttpResponse:
    """The queue's table, under the same filters and page as the screen that asks."""
    selection, _filters = queue_selection(request, say=False)
    return render(request, "packing/queue.html#queue-table", queue_page(request, selection) | {"follow": True})


@require_GET
@supervisor_required
@fresh
@as_sent
@condition(etag_func=_cancellations_etag)
def cancellations_live(request: HtmxHttpRequest) -> HttpResponse:
    """The supervisor's cancellation requests, with their deadlines and decisions."""
    return render(request, "packing/supervisor.html#cancellations", cancellations())


@require_GET
@packer_required
@fresh
@as_sent
@condition(etag_func=_shipment_etag)
def shipment_live(request: HtmxHttpRequest, shipment_id: int) -> HttpResponse:
    """The shipment page below its heading: counts, refusals, documents, hand-over, orders, forms."""
    return live_page(request, get_shipment(shipment_id))


@require_GET
@packer_required
@fresh
@as_sent
@condition(etag_func=_shipments_etag)
def shipments_live(request: HtmxHttpRequest) -> HttpResponse:
    """The Shipments list's table: counts, statuses, boxes scanned."""
    return render(request, "packing/shipments.html#list", list_context())
