"""Product pictures kept here (``orders/pictures.py``), for the order screen and the training sheet."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from fulfilment.orders.models import CatalogueOffer

from ..access import packer_required
from ..http import HtmxHttpRequest


@require_GET
@packer_required
@cache_control(private=True, max_age=86400)  # a new picture is a new address (the row's copy is replaced)
def product_picture(request: HtmxHttpRequest, offer_id: int) -> FileResponse:
    """The first catalogue picture of an SKU, as the worker kept it."""
    offer = get_object_or_404(CatalogueOffer.objects.exclude(picture_file=""), pk=offer_id)
    try:
        kept = offer.picture_file.open("rb")
    except FileNotFoundError:  # the storage lost it (a restored database without its media): no picture
        raise Http404 from None
    return FileResponse(kept, content_type=offer.picture_type or "image/jpeg")
