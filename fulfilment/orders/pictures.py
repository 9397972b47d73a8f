"""Product pictures kept here: the first picture of each catalogue SKU, read by the worker from the
Market's image servers and served by the dashboard itself (``packing/views/pictures.py``).

Why a copy rather than the Market's address in the page: the station's handhelds often sit on a
warehouse network that lets the dashboard through and little else; the Market's originals are large
(megabytes) where a packer needs a thumbnail's worth; and the page's Content-Security-Policy keeps
``img-src 'self'``, so no third party learns which packer opened which order. A picture that could not
be read leaves the screen as it was (no picture), and is asked again at the next catalogue sync.
"""

from __future__ import annotations

import hashlib
import logging

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F

from fulfilment.market.pictures import PictureUnavailable, fetch_picture

from .models import CatalogueOffer

log = logging.getLogger("fulfilment.pictures")
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def pictures_to_fetch(business_id: int) -> list[int]:
    """The business's catalogue SKUs whose picture changed since the copy kept here (or was never kept)."""
    return list(CatalogueOffer.objects.filter(business_id=business_id, in_catalogue=True).exclude(picture="")
                .exclude(picture=F("picture_of")).values_list("pk", flat=True))


def keep_picture(offer_pk: int) -> bool:
    """Read the SKU's picture and keep it; False when it changed meanwhile or is kept already. A second
    run for the same picture reads nothing (the kept address is compared first)."""
    offer = CatalogueOffer.objects.filter(pk=offer_pk).only("picture", "picture_of").first()
    if offer is None or not offer.picture or offer.picture == offer.picture_of:
        return False
    url = offer.picture
    picture = fetch_picture(url)
    name = f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.{EXTENSIONS[picture.content_type]}"
    with transaction.atomic():
        locked = CatalogueOffer.objects.select_for_update().filter(pk=offer_pk, picture=url).first()
        if locked is None:  # the catalogue moved on while the picture was read: the next sync asks again
            return False
        old = locked.picture_file.name
        locked.picture_file.save(name, ContentFile(picture.content), save=False)
        locked.picture_type, locked.picture_of = picture.content_type, url
        locked.save(update_fields=["picture_file", "picture_type", "picture_of"])
    if old and old != locked.picture_file.name:
        locked.picture_file.storage.delete(old)
    return True


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(PictureUnavailable,), retry_backoff=True,
             retry_backoff_max=600, max_retries=3)
def keep_picture_task(offer_pk: int) -> bool:
    return keep_picture(offer_pk)


def queue_pictures(business_id: int) -> int:
    """After a catalogue sync: one task per picture to read (they wait for no one)."""
    todo = pictures_to_fetch(business_id)
    for pk in todo:
        keep_picture_task.delay(pk)
    return len(todo)
