"""The site around the screens: health, the start page, starting a sync, the user's language."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fulfilment.accounts.roles import is_packer, is_supervisor
from fulfilment.orders.models import Business, Campaign, Order, to_pack_condition
from fulfilment.orders.readiness import readiness
from fulfilment.orders.tasks import sync_business_task

from ..access import packer_required
from ..http import HtmxHttpRequest
from ..middleware import SESSION_KEY
from ..models import StaffSettings


@login_not_required
@require_GET
@never_cache
def health(request: HtmxHttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the start-up command."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db_ok = True
    except Exception:
        db_ok = False
    return JsonResponse({"status": "ok" if db_ok else "error", "database": db_ok}, status=200 if db_ok else 503)


@login_not_required
@require_GET
@never_cache
def ready(request: HtmxHttpRequest) -> JsonResponse:
    """Readiness for an operator or a load balancer: every check with its figure; 503 when one fails."""
    report = readiness()
    return JsonResponse({"status": "ok" if report.ok else "error", "checks": report.checks},
                        status=200 if report.ok else 503)


def _count_per_shop(orders: QuerySet[Order]) -> Coalesce:
    per_shop = (orders.filter(campaign=OuterRef("pk")).order_by().values("campaign")
                .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(per_shop, output_field=IntegerField()), 0)


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The start page: each campaign with its sync state and how many orders wait for packing."""
    # Neither the API tokens (decrypted per row) nor the orders' stored payloads are shown here.
    campaigns = (
        Campaign.objects.select_related("business").defer("business__api_token")
        .filter(is_active=True)
        .annotate(
            # One definition of each count, the same as the queue's and the list's below; per shop
            # by subquery, so that only the shop's orders in PROCESSING and the attention set are read.
            to_pack=_count_per_shop(Order.objects.filter(to_pack_condition())),
            flagged=_count_per_shop(Order.objects.needing_attention()),
        )
    )
    attention = (Order.objects.needing_attention().select_related("campaign", "problem_by").defer("raw")
                 .order_by("shipment_date", "market_id")[:50])
    return render(
        request,
        "packing/home.html",
        {"campaigns": campaigns, "businesses": Business.objects.filter(is_active=True).defer("api_token"),
         "attention": attention,
         "can_pack": is_packer(request.user), "is_supervisor": is_supervisor(request.user)},
    )


@require_POST
@packer_required
def sync_now(request: HtmxHttpRequest, business_id: int) -> HttpResponse:
    """Start a sync of one business now (the worker runs it; a running one is not doubled)."""
    business = get_object_or_404(Business, pk=business_id, is_active=True)
    sync_business_task.delay_on_commit(business.pk)
    messages.success(request, _("Sync of %(name)s started.") % {"name": business.name})
    return redirect("home")


@require_POST
def language(request: HtmxHttpRequest) -> HttpResponse:
    """The user's interface language, kept for them on every device (Russian by default)."""
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
