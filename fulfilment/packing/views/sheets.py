"""Printed pages: the assembly sheet of a batch, the training codes, the scanner's command barcodes."""

from __future__ import annotations

import base64
from functools import lru_cache

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.http import require_GET

from fulfilment.codes.cis import GS
from fulfilment.orders.catalogue import product_facts
from fulfilment.orders.models import InstanceKind, Order, Problem

from ..access import packer_required
from ..http import HtmxHttpRequest, whole_number
from ..station import SPLIT_PARTS
from ..training import is_sandbox, training_codes


def _image(svg: str, css_class: str, alt: str) -> SafeString:
    # An <img> of the SVG, not the SVG inline: the drawings carry style attributes, which the page's
    # Content-Security-Policy refuses; an image is its own document and prints as sharp.
    data = base64.b64encode(svg[svg.index("<svg"):].encode()).decode()
    return format_html('<img class="{}" alt="{}" src="data:image/svg+xml;base64,{}">', css_class, alt, data)


@lru_cache(maxsize=512)
def barcode_svg(value: str, height: int = 40) -> SafeString:
    """A Code 128 barcode as an SVG image (reportlab draws it; no image files)."""
    # reportlab takes a third of a second to import: loaded with the first printed page, not at start.
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode import createBarcodeDrawing

    drawing = createBarcodeDrawing("Code128", value=value, barHeight=height, humanReadable=True, quiet=True)
    return _image(renderSVG.drawToString(drawing), "code128", value)


def datamatrix_svg(value: str) -> SafeString:
    """A DataMatrix as an SVG image (ppf-datamatrix; GS stays ASCII 29 inside, as a scanner reads it)."""
    from ppf.datamatrix import DataMatrix  # only training sheets draw one

    return _image(DataMatrix(value).svg(), "datamatrix", value.replace("\x1d", "␝"))


@require_GET
@packer_required
def assembly_sheet(request: HtmxHttpRequest) -> HttpResponse:
    """A printable pick list for a batch of orders, each with the barcode of its number."""
    ids = [i for i in map(whole_number, request.GET.getlist("order")) if i is not None]
    orders = list(Order.objects.filter(pk__in=ids).select_related("campaign").prefetch_related("items")
                  .order_by("shipment_date", "market_id")) if ids else []
    if not orders:
        messages.error(request, _("Tick the orders to put on the sheet."))
        return redirect("queue")
    picks: dict[tuple[str, str], int] = {}
    for o in orders:
        o.barcode = barcode_svg(str(o.market_id))  # type: ignore[attr-defined]
        for item in o.items.all():
            picks[(item.offer_id, item.name)] = picks.get((item.offer_id, item.name), 0) + item.count
    return render(request, "packing/sheet.html", {
        "orders": orders, "picks": sorted((k[0], k[1], n) for k, n in picks.items())})


@require_GET
@packer_required
def training_sheet(request: HtmxHttpRequest) -> HttpResponse:
    """Printable codes for packing the sandbox's orders in training: product barcodes and, per unit,
    the marking codes the order asks for. Only for sandbox businesses: a real order's codes are on
    the goods."""
    ids = [i for i in map(whole_number, request.GET.getlist("order")) if i is not None]
    orders = [o for o in Order.objects.filter(pk__in=ids).select_related("campaign__business")
              .order_by("shipment_date", "market_id") if is_sandbox(o)]
    if not orders:
        messages.error(request, _("Training codes exist only for orders of the sandbox Market."))
        return redirect("queue")
    sheets = []
    for o in orders:
        items = training_codes(o)
        products = product_facts(o.campaign_id, o.campaign.business_id, (i.offer_id for i in items))
        for item in items:
            item.picture = products[item.offer_id]  # type: ignore[attr-defined]
            item.barcode = barcode_svg(item.ean13, 30) if item.ean13 else ""  # type: ignore[attr-defined]
            item.printed = [  # type: ignore[attr-defined]
                (InstanceKind(kind).label, code.replace(GS, "␝"),  # the kind in words, never the Market's name
                 datamatrix_svg(code) if kind == InstanceKind.CIS else barcode_svg(code, 30))
                for kind, code in item.codes]
        sheets.append((o, barcode_svg(str(o.market_id)), items))
    return render(request, "packing/training_sheet.html", {"sheets": sheets})


@require_GET
@packer_required
def scanner_sheet(request: HtmxHttpRequest) -> HttpResponse:
    """Command barcodes to print beside the table: every step of the station by scan, in the order
    of the work (a barcode scanned on the order screen does what its button does)."""
    # Every split the station knows (scanning.COMMANDS, the order screen's 2–6), not only 2 and 3.
    splits = [(f"CMD-SPLIT-{n}", ngettext("Split the unit just scanned in %(n)s box",
                                          "Split the unit just scanned in %(n)s boxes", n) % {"n": n})
              for n in SPLIT_PARTS]
    steps = [("CMD-NEW-BOX", _("New box")), *splits, ("CMD-UNDO", _("Undo the last scan")),
             ("CMD-FINISH", _("Finish packing (send the boxes)")), ("CMD-LABELS", _("Print the labels again")),
             ("CMD-PHOTO", _("Photograph the open box (camera on)")),
             ("CMD-READY", _("Ready to ship")), ("CMD-NEXT", _("Next order"))]
    problems = [(f"CMD-PROBLEM-{p.value}", _("Report a problem: %(problem)s") % {"problem": p.label})
                for p in Problem]
    commands = [(code, label, barcode_svg(code, 50)) for code, label in steps]
    problem_commands = [(code, label, barcode_svg(code, 50)) for code, label in problems]
    return render(request, "packing/scanner_sheet.html", {
        "commands": commands, "problem_commands": problem_commands,
        "substitutes": settings.SCANNER_GS_SUBSTITUTES})
