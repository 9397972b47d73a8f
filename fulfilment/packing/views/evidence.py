"""Packing photos: the workstation's camera uploads a photo of the open box (evidence.js), a page
shows one to a logged-in user, and a supervisor sends an order's photos to its chat with the buyer."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fulfilment.market.errors import MarketError
from fulfilment.orders import evidence
from fulfilment.orders.models import MarketReturn, Order, PackingPhoto

from ..access import packer_required, supervisor_required
from ..http import HtmxHttpRequest, whole_number


@require_POST
@packer_required
def order_photo(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """One photo (multipart ``image``, ``box``, ``reason``); 201 with its id, or 400 with the reason."""
    order = get_object_or_404(Order, pk=order_id, campaign__is_active=True)
    upload = request.FILES.get("image")
    box = request.POST.get("box", "")
    try:
        if upload is None or upload.size > evidence.MAX_PHOTO_BYTES:
            raise evidence.PhotoRefused(_("The photo is larger than 5 MB: nothing was stored.") if upload else
                                        _("No photo came with the request: nothing was stored."))
        photo = evidence.store_photo(order, upload.read(), whole_number(box),
                                     request.POST.get("reason", ""), request.user)
    except evidence.PhotoRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    # The order's photos as the page shows them, so the new one appears without a reload.
    html = render_to_string("packing/_photos.html", {"photos": order.photos.all()}, request=request)
    return JsonResponse({"id": photo.pk, "box": photo.box_number, "html": html}, status=201)


@require_GET
@packer_required
def photo(request: HtmxHttpRequest, photo_id: int) -> HttpResponse:
    """The photo streamed from storage (disk, or the private bucket): pages link here, never to the bucket."""
    found = get_object_or_404(PackingPhoto, pk=photo_id, order__campaign__is_active=True)
    try:
        content = found.image.open("rb")
    except FileNotFoundError as exc:  # removed from the disk or the bucket by hand
        raise Http404 from exc
    response = FileResponse(content, content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"  # staff's browsers only, never a shared cache
    return response


@require_POST
@supervisor_required
def return_photos_to_chat(request: HtmxHttpRequest, return_id: int) -> HttpResponse:
    """In a dispute: the order's packing photos to its chat with the buyer (createChat / sendFileToChat)."""
    record = get_object_or_404(MarketReturn.objects.select_related("order__campaign__business"), pk=return_id,
                               campaign__is_active=True)
    if record.order is None:
        messages.error(request, _("This return's order is not known here: it has no packing photos."))
        return redirect("return", return_id=record.pk)
    photos = list(record.order.photos.select_related("sent_to_chat_by"))
    sent = max((p for p in photos if p.sent_to_chat_at), key=lambda p: p.sent_to_chat_at, default=None)
    if sent is not None and request.POST.get("again") != "1":
        messages.error(request, _("These photos were already sent to the chat by %(who)s at %(at)s: tick «send "
                                  "again» to send them once more.") % {
            "who": sent.sent_to_chat_by or "—", "at": date_format(timezone.localtime(sent.sent_to_chat_at),
                                                                  "d.m.Y H:i")})
        return redirect("return", return_id=record.pk)
    try:
        evidence.send_to_chat(record.order, photos, request.user)
    except evidence.PhotoRefused as exc:
        messages.error(request, str(exc))
    except MarketError as exc:
        messages.error(request, _("The Market did not take the photos: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("The packing photos are sent to the order's chat with the buyer."))
    return redirect("return", return_id=record.pk)
