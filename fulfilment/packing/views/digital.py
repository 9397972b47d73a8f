"""The packer's screen of an order with digital goods: the keys, with the 30-minute countdown."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fulfilment.orders.models import Order

from .. import dbs
from ..access import packer_required
from ..http import HtmxHttpRequest
from ..live import items_stamp
from .live import banner_context


def digital_screen(request: HtmxHttpRequest, order: Order, form: dbs.DigitalKeysForm | None = None,
                   status: int = 200) -> HttpResponse:
    items = list(order.items.order_by("id"))
    sent = dbs.digital_sent(order)
    return render(request, "packing/digital.html", {
        "order": order, "form": form or dbs.DigitalKeysForm(items), "sent": sent,
        "deadline": order.digital_deadline(),
        "actions": order.outbox.order_by("-id")[:10],
        "events": order.audit_events.select_related("user")[:30],
        # What the Market changes while the keys are being typed: the live banner, as on the order screen.
        **banner_context(order, items_stamp((i.market_item_id, i.count) for i in items)),
    }, status=status)


@require_POST
@packer_required
def digital_keys(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Keys typed or scanned in; bad input comes back with everything as it was typed."""
    order = get_object_or_404(Order.objects.select_related("campaign"), pk=order_id)
    form = dbs.DigitalKeysForm(list(order.items.order_by("id")), request.POST)
    if not form.is_valid():
        return digital_screen(request, order, form, status=400)
    fb = dbs.send_digital_keys(order_id, request.user, form)
    if not fb.ok:
        messages.error(request, fb.message)
        return digital_screen(request, order, form, status=400)
    messages.success(request, fb.message)
    return redirect("order", order_id)
