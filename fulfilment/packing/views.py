"""Pages for packers and supervisors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fulfilment.market.errors import MarketError
from fulfilment.orders import outbox
from fulfilment.orders.models import Business, Campaign, Order, OrderStatus, OutboxAction
from fulfilment.orders.sync import refresh_order
from fulfilment.orders.tasks import sync_business_task

from .access import packer_required
from .roles import is_packer, is_supervisor


@login_not_required
@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the start-up command."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db_ok = True
    except Exception:
        db_ok = False
    return JsonResponse({"status": "ok" if db_ok else "error", "database": db_ok}, status=200 if db_ok else 503)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The start page: each campaign with its sync state and how many orders wait for packing."""
    campaigns = (
        Campaign.objects.select_related("business")
        .filter(is_active=True)
        .annotate(
            to_pack=Count("orders", filter=Q(orders__status=OrderStatus.PROCESSING, orders__substatus="STARTED")),
            flagged=Count("orders", filter=~Q(orders__flag_reason="")),
        )
    )
    attention = (Order.objects.filter(Q(outbox__state=OutboxAction.State.FAILED) | ~Q(flag_reason="") | ~Q(problem=""))
                 .select_related("campaign").distinct().order_by("shipment_date", "market_id")[:50])
    return render(
        request,
        "packing/home.html",
        {"campaigns": campaigns, "businesses": Business.objects.filter(is_active=True), "attention": attention,
         "can_pack": is_packer(request.user), "is_supervisor": is_supervisor(request.user)},
    )


@require_POST
@packer_required
def sync_now(request: HttpRequest, business_id: int) -> HttpResponse:
    """Start a sync of one business now (the worker runs it; a running one is not doubled)."""
    business = get_object_or_404(Business, pk=business_id, is_active=True)
    transaction.on_commit(lambda: sync_business_task.delay(business.pk))
    messages.success(request, _("Sync of %(name)s started.") % {"name": business.name})
    return redirect("home")


def _order_for(request: HttpRequest, order_id: int) -> Order:
    return get_object_or_404(Order.objects.select_related("campaign__business"), pk=order_id)


@require_POST
@packer_required
def order_refresh(request: HttpRequest, order_id: int) -> HttpResponse:
    """Fetch this order from the Market again, now."""
    order = _order_for(request, order_id)
    try:
        refresh_order(order)
        messages.success(request, _("The order was refreshed from the Market."))
    except MarketError as exc:
        messages.error(request, _("The Market did not answer: %(error)s") % {"error": "; ".join(exc.messages)})
    return redirect("order", order_id=order.pk)


@require_POST
@packer_required
def action_retry(request: HttpRequest, order_id: int, action_id: int) -> HttpResponse:
    order = _order_for(request, order_id)
    action = get_object_or_404(OutboxAction, pk=action_id, order=order)
    if action.state != OutboxAction.State.FAILED:
        messages.error(request, _("Only a refused action can be sent again."))
    else:
        outbox.retry_failed(action, request.user)
        messages.success(request, _("The action will be sent again."))
    return redirect("order", order_id=order.pk)


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The user's interface language, kept for them on every device (Russian by default)."""
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme

    from .middleware import SESSION_KEY
    from .models import StaffSettings

    lang = request.POST.get("language", "")
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        nxt = "/"
    if lang not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return redirect(nxt)
    StaffSettings.objects.update_or_create(user=request.user, defaults={"language": lang})
    request.session[SESSION_KEY] = lang
    return redirect(nxt)
