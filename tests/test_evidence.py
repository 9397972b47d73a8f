"""Evidence at packing: a photo of the open box uploaded from the workstation, stored with the order
and box in the default storage, shown only to staff, pruned after the configured days, and sent to
the order's chat with the buyer from the return page (the sandbox over HTTP keeps what it got)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.evidence import prune_photos
from fulfilment.orders.models import MarketReturn, Order, PackingPhoto
from fulfilment.orders.receiving import receive_scan
from fulfilment.orders.returns_mirror import sync_returns
from fulfilment.orders.sync import sync_business
from fulfilment.packing import scanning
from fulfilment.sandbox.return_files import photo_png
from tests.returns_support import buyer_returns, control
from tests.test_returns_receiving import packed_and_delivered, returned

PNG = photo_png("evidence", 320, 240)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def shipped(market, packer):
    return packed_and_delivered(market, packer)


def _upload(client, order, content=PNG, box="1", reason="FINISH"):
    return client.post(reverse("order-photo", args=[order.pk]),
                       {"image": SimpleUploadedFile("box.png", content, "image/png"), "box": box, "reason": reason})


def test_a_photo_of_the_open_box_is_stored_with_the_order_and_box(client, packer, shipped, media):
    order, _ = shipped
    client.force_login(packer)
    resp = _upload(client, order)
    assert resp.status_code == 201
    photo = PackingPhoto.objects.get(pk=resp.json()["id"])
    assert (photo.order, photo.box_number, photo.reason, photo.taken_by) == (order, 1, "FINISH", packer)
    assert (media / photo.image.name).read_bytes() == PNG
    shown = client.get(reverse("photo", args=[photo.pk]))
    assert shown["Content-Type"] == "image/png" and b"".join(shown.streaming_content) == PNG
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    assert f'id="photo-{photo.pk}"' in page and "при завершении сборки" in page


def test_what_is_not_a_photo_is_refused_and_nothing_stored(client, packer, shipped, media):
    order, _ = shipped
    client.force_login(packer)
    resp = _upload(client, order, content=b"<html>not a photo</html>")
    assert resp.status_code == 400 and "не фото" in resp.json()["error"]
    assert _upload(client, order, reason="WHENEVER").status_code == 400
    assert not PackingPhoto.objects.exists() and not media.exists()


def test_photos_are_for_staff_only(client, outsider, packer, shipped):
    order, _ = shipped
    client.force_login(packer)
    photo_id = _upload(client, order).json()["id"]
    client.logout()
    assert client.get(reverse("photo", args=[photo_id])).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(reverse("photo", args=[photo_id])).status_code == 403
    assert _upload(client, order).status_code == 403


def test_old_photos_are_pruned_with_their_files(client, packer, shipped, media, settings):
    order, _ = shipped
    settings.EVIDENCE_PHOTO_DAYS = 30
    client.force_login(packer)
    old, new = (PackingPhoto.objects.get(pk=_upload(client, order).json()["id"]) for _ in range(2))
    PackingPhoto.objects.filter(pk=old.pk).update(taken_at=timezone.now() - dt.timedelta(days=31))
    assert prune_photos() == 1
    assert list(PackingPhoto.objects.all()) == [new]
    assert not (media / old.image.name).exists() and (media / new.image.name).exists()


def test_the_photo_command_is_a_known_scan(packer, market):
    placed = market.place([("MUG-001", 1)])
    sync_business(market.business.pk)
    fb = scanning.scan(Order.objects.get(market_id=placed["orderId"]).pk, packer, "CMD-PHOTO", uuid.uuid4())
    assert fb.ok, fb.message


def test_a_supervisor_sends_the_packing_photos_to_the_orders_chat(client, packer, supervisor, market, shipped):
    order, _ = shipped
    record = returned(market, order)
    client.force_login(packer)
    _upload(client, order, box="1")
    _upload(client, order, box="1", reason="COMMAND")
    client.force_login(supervisor)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert page.count('class="photo"') == 2 and 'id="photos-to-chat"' in page
    resp = client.post(reverse("return-photos-chat", args=[record.pk]), follow=True)
    assert "отправлены в чат" in resp.content.decode()
    chats = [c for c in control(market, "GET", "/chats")["chats"] if c["orderId"] == order.market_id]
    assert len(chats) == 1 and chats[0]["context"]["type"] == "ORDER"
    files = [m["payload"][0] for m in chats[0]["messages"] if m.get("payload")]
    assert len(files) == 2
    got = requests.get(f"{market.url}/_sandbox/chat-files/{chats[0]['chatId']}/1", timeout=10)
    assert got.content == PNG and got.headers["Content-Type"] == "image/png"
    # Recorded with who and when; a second send is asked for first, and sent only when ticked.
    assert set(order.photos.values_list("sent_to_chat_by", flat=True)) == {supervisor.pk}
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert "Отправлено в чат: svetlana" in page and 'name="again"' in page
    resp = client.post(reverse("return-photos-chat", args=[record.pk]), follow=True)
    assert "уже отправлены в чат" in resp.content.decode()
    assert _files(market, order) == 2
    client.post(reverse("return-photos-chat", args=[record.pk]), {"again": "1"})
    assert _files(market, order) == 4


def _files(market, order) -> int:
    chats = [c for c in control(market, "GET", "/chats")["chats"] if c["orderId"] == order.market_id]
    return sum(1 for c in chats for m in c["messages"] if m.get("payload"))


def test_the_markets_refusal_of_a_chat_is_shown_and_nothing_sent(client, packer, supervisor, market):
    """An unredeemed order is cancelled at the Market, which starts no chat for it."""
    placed = market.place([("MUG-001", 1)])
    sync_business(market.business.pk)
    order = Order.objects.get(market_id=placed["orderId"])
    control(market, "POST", f"/orders/{order.market_id}", {"status": "PICKUP", "substatus": "PICKUP_SERVICE_RECEIVED"})
    ret = buyer_returns(market, order.market_id, kind="UNREDEEMED")
    sync_returns(market.business)
    record = MarketReturn.objects.get(market_id=ret["id"])
    client.force_login(packer)
    _upload(client, order)
    client.force_login(supervisor)
    resp = client.post(reverse("return-photos-chat", args=[record.pk]), follow=True)
    assert "Маркет не принял фото" in resp.content.decode()
    assert control(market, "GET", "/chats")["chats"] == []


def test_a_graded_unit_keeps_its_optional_photo_and_a_bad_one_changes_nothing(client, packer, market, shipped):
    order, codes = shipped
    record = returned(market, order)
    unit = receive_scan(record, uuid.uuid4(), codes[0], packer).unit
    client.force_login(packer)
    url = reverse("return-grade", args=[record.pk, unit.pk])
    resp = client.post(url, {"grade": "DEFECTIVE", "note": "скол",
                             "photo": SimpleUploadedFile("x.txt", b"not an image", "text/plain")}, follow=True)
    assert "JPEG" in resp.content.decode()  # «… не фото JPEG или PNG …»
    unit.refresh_from_db()
    assert unit.grade == "" and not unit.photo  # refused before anything was changed
    client.post(url, {"grade": "DEFECTIVE", "note": "скол", "photo": SimpleUploadedFile("u.png", PNG, "image/png")})
    unit.refresh_from_db()
    assert unit.grade == "DEFECTIVE" and unit.photo and unit.photo_type == "image/png"
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    photo_url = reverse("return-unit-photo", args=[record.pk, unit.pk])
    assert photo_url in page
    got = client.get(photo_url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    client.logout()
    assert client.get(photo_url).status_code in (302, 401, 403)
