"""Pages for packers and supervisors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fulfilment.orders.models import Campaign, OrderStatus

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
    return render(
        request,
        "packing/home.html",
        {"campaigns": campaigns, "can_pack": is_packer(request.user), "is_supervisor": is_supervisor(request.user)},
    )
