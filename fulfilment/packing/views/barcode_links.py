"""The supervisor's list of barcode links: every GTIN → SKU link per shop, where it came from and
who confirmed it, filtered by shop, source and a GTIN/SKU search; a link is corrected, unlinked or
added here (``orders.catalogue``, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.codes.formats import product_gtin
from fulfilment.orders.catalogue import confirm_link, correct_link
from fulfilment.orders.models import AuditEvent, Campaign, ProductBarcode

from ..access import supervisor_required
from ..http import HtmxHttpRequest, whole_number

SHOWN = 500  # rows on one page: narrow with the filters beyond that
FILTERS = ("campaign", "source", "q")


def _filtered(params: dict[str, str]) -> tuple[list[ProductBarcode], int]:
    links = (ProductBarcode.objects.select_related("campaign", "learnt_by")
             .order_by("campaign__name", "offer_id", "gtin"))
    campaign = whole_number(params.get("campaign", ""))
    if campaign is not None:
        links = links.filter(campaign_id=campaign)
    if params.get("source") in ProductBarcode.Source.values:
        links = links.filter(source=params["source"])
    q = params.get("q", "").strip()
    if q:
        links = links.filter(Q(gtin__contains=product_gtin(q) or q) | Q(offer_id__icontains=q))
    return list(links[:SHOWN]), links.count()


@require_GET
@supervisor_required
def barcode_links(request: HtmxHttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in FILTERS}
    links, total = _filtered(params)
    return render(request, "packing/barcode_links.html", {
        "links": links, "total": total, "shown": SHOWN, "params": params,
        "campaigns": Campaign.objects.order_by("name"),
        "sources": ProductBarcode.Source.choices, "query": urlencode({k: v for k, v in params.items() if v}),
        "learnt": ProductBarcode.objects.filter(source=ProductBarcode.Source.LEARNT).count(),
        "events": AuditEvent.objects.filter(action="barcode.corrected").select_related("user")[:30],
    })


def _back(request: HtmxHttpRequest) -> HttpResponse:
    query = request.POST.get("query", "")
    return redirect(reverse("supervisor-barcodes") + (f"?{query}" if query else ""))


@require_POST
@supervisor_required
def barcode_link_change(request: HtmxHttpRequest, link_id: int) -> HttpResponse:
    """Correct a link to another SKU, or unlink it (the packer is then refused until it is linked)."""
    link = get_object_or_404(ProductBarcode.objects.select_related("campaign"), pk=link_id)
    sku = "" if "unlink" in request.POST else request.POST.get("offer_id", "").strip()
    correct_link(link, sku, request.user)
    messages.success(request, _("Barcode %(gtin)s is now linked to %(sku)s.") % {"gtin": link.gtin, "sku": sku}
                     if sku else _("Barcode %(gtin)s is unlinked.") % {"gtin": link.gtin})
    return _back(request)


@require_POST
@supervisor_required
def barcode_link_add(request: HtmxHttpRequest) -> HttpResponse:
    """Link a GTIN the shop does not know yet to an SKU."""
    campaign_id = whole_number(request.POST.get("campaign", ""))
    campaign = Campaign.objects.filter(pk=campaign_id).first() if campaign_id is not None else None
    gtin = product_gtin(request.POST.get("gtin", ""))
    sku = request.POST.get("offer_id", "").strip()
    if campaign is None or gtin is None or not sku:
        messages.error(request, _("A link needs a shop, a valid product barcode and an SKU."))
        return _back(request)
    confirm_link(campaign.pk, gtin, sku, request.user)
    messages.success(request, _("Barcode %(gtin)s is now linked to %(sku)s.") % {"gtin": gtin, "sku": sku})
    return _back(request)
