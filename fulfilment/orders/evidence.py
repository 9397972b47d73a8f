"""Packing photos: stored with the order and box, pruned after ``EVIDENCE_PHOTO_DAYS``, and sent to
the order's chat with the buyer in a dispute (createChat / sendFileToChat)."""

from __future__ import annotations

import datetime as dt
import uuid

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfilment.market.chats import ChatContext, ChatContextType
from fulfilment.market.limits import MAX_CHAT_FILE_BYTES
from fulfilment.market.returns import image_type

from .clients import client_for
from .locks import try_lock
from .models import Order, PackingPhoto, PhotoReason, ReturnUnit

MAX_PHOTO_BYTES = MAX_CHAT_FILE_BYTES  # a photo that can always go to the chat as it is
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


class PhotoRefused(Exception):
    """A photo not stored or not sent, with the reason in the reader's language."""


def check_photo(content: bytes) -> str:
    """The photo's type (JPEG or PNG, by its bytes), or PhotoRefused with the reason."""
    kind = image_type(content)
    if kind not in EXTENSIONS:
        raise PhotoRefused(_("Not a JPEG or PNG photo: nothing was stored."))
    if len(content) > MAX_PHOTO_BYTES:
        raise PhotoRefused(_("The photo is larger than 5 MB: nothing was stored."))
    return kind


def store_unit_photo(unit: ReturnUnit, content: bytes) -> ReturnUnit:
    """The optional photo of a returned unit, kept with its grade (the same storage as packing photos)."""
    kind = check_photo(content)
    unit.photo.save(f"{unit.record_id}-{unit.pk}-{uuid.uuid4().hex[:8]}.{EXTENSIONS[kind]}", ContentFile(content),
                    save=False)
    unit.photo_type = kind
    unit.save(update_fields=["photo", "photo_type"])
    return unit


def store_photo(order: Order, content: bytes, box_number: int | None, reason: str,
                user: AbstractBaseUser | None) -> PackingPhoto:
    """Keep one photo of an open box: a JPEG or PNG (by its bytes, not its name) of at most 5 MB."""
    kind = image_type(content)
    if kind not in EXTENSIONS:
        raise PhotoRefused(_("Not a JPEG or PNG photo: nothing was stored."))
    if len(content) > MAX_PHOTO_BYTES:
        raise PhotoRefused(_("The photo is larger than 5 MB: nothing was stored."))
    if reason not in PhotoReason.values:
        raise PhotoRefused(_("Say when the photo was taken: nothing was stored."))
    if box_number is not None and not order.boxes.filter(number=box_number).exists():
        box_number = None  # the box was merged away meanwhile: the photo stays with the order
    photo = PackingPhoto(order=order, box_number=box_number, content_type=kind, reason=reason, taken_by=user)
    photo.image.save(f"{order.market_id}-{uuid.uuid4().hex[:12]}.{EXTENSIONS[kind]}", ContentFile(content),
                     save=False)
    photo.save()
    return photo


def prune_photos(now: dt.datetime | None = None) -> int:
    """Remove the photos older than ``EVIDENCE_PHOTO_DAYS``, their files with them; how many."""
    limit = (now or timezone.now()) - dt.timedelta(days=settings.EVIDENCE_PHOTO_DAYS)
    removed = 0
    # Single-flight: a second prune at once (two beats, a message delivered twice) would delete the
    # same files again and count them twice.
    with try_lock("prune-photos") as held:
        if not held:
            return 0
        for photo in PackingPhoto.objects.filter(taken_at__lt=limit).iterator():
            photo.image.delete(save=False)
            photo.delete()
            removed += 1
    return removed


@shared_task(name="fulfilment.orders.tasks.prune_photos_task", ignore_result=True)
def prune_photos_task() -> int:
    return prune_photos()


def send_to_chat(order: Order, photos: list[PackingPhoto], user: AbstractBaseUser | None = None) -> int:
    """Send the photos to the order's chat with the buyer (started if there is none); the chat's id.
    Each photo sent is marked with who and when. The Market's refusal (no chat allowed for this order)
    comes back as a MarketError."""
    if not photos:
        raise PhotoRefused(_("No packing photo of this order to send."))
    business = order.campaign.business
    client = client_for(business)
    chat_id = client.create_chat(business.market_id, ChatContext(ChatContextType.ORDER, order.market_id))
    for photo in photos:
        with photo.image.open("rb") as f:
            content = f.read()
        client.send_file_to_chat(business.market_id, chat_id, photo.image.name.rsplit("/", 1)[-1], content,
                                 photo.content_type)
        PackingPhoto.objects.filter(pk=photo.pk).update(
            sent_to_chat_at=timezone.now(), sent_to_chat_by=user if user and user.is_authenticated else None)
    return chat_id
