"""Product pictures from the Market's catalogue: the sandbox serves real images for its offers, the
worker keeps the first one here, and the order screen and the training sheet show it beside each
item with its barcode, from the dashboard itself (the page's img-src stays 'self') (issue 16)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from django.urls import reverse
from PIL import Image

from fulfilment.market.pictures import PictureUnavailable, fetch_picture
from fulfilment.orders import catalogue, pictures, sync
from fulfilment.orders.models import CatalogueOffer, Order
from fulfilment.sandbox import seed

from .worker import Worker, wait_for

MUG = seed.CATALOG["MUG-001"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def mirrored(market, media):
    """An order of the mug mirrored and its SKU read from the catalogue (the picture not yet kept)."""
    market.place([("MUG-001", 1)])
    sync.sync_business(market.business.pk, client=market.client())
    catalogue.sync_catalogue(market.business.pk, client=market.client())
    return Order.objects.get(items__offer_id="MUG-001")


def test_the_sandbox_gives_each_offer_a_picture_that_is_a_real_image(sandbox):
    (mug,) = sandbox.client().get_offer_mappings(seed.DEMO_BUSINESS_ID, ["MUG-001"])
    assert mug.pictures and mug.pictures[0].startswith(sandbox.url + "/")  # a full address, as the Market's
    resp = requests.get(mug.pictures[0], timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(resp.content))
    assert image.format == "PNG" and image.size[0] >= 100
    picture = fetch_picture(mug.pictures[0])
    assert picture.content_type == "image/png" and picture.content == resp.content


def test_what_is_not_a_picture_is_refused(sandbox):
    with pytest.raises(PictureUnavailable, match="not a JPEG"):
        fetch_picture(f"{sandbox.url}/_sandbox/health")  # JSON, not an image
    with pytest.raises(PictureUnavailable, match="answered 404"):
        fetch_picture(f"{sandbox.url}/no/such/picture.png")
    with pytest.raises(PictureUnavailable, match="not a web address"):
        fetch_picture("file:///etc/passwd")


@pytest.mark.django_db
def test_the_picture_is_kept_once_and_shown_beside_the_item_with_its_barcode(mirrored, client, packer, media):
    offer = CatalogueOffer.objects.get(offer_id="MUG-001")
    assert offer.picture.endswith("/_sandbox/pictures/MUG-001.png") and not offer.picture_file
    client.force_login(packer)
    page = client.get(reverse("order", args=[mirrored.pk])).content.decode()
    assert "product-picture" not in page  # not kept yet: no picture, nothing broken
    assert pictures.pictures_to_fetch(offer.business_id) == [offer.pk]
    assert pictures.keep_picture(offer.pk) is True
    assert pictures.keep_picture(offer.pk) is False  # the same picture again: nothing read
    assert pictures.pictures_to_fetch(offer.business_id) == []
    offer.refresh_from_db()
    assert offer.picture_type == "image/png" and (media / offer.picture_file.name).exists()

    row = client.get(reverse("order", args=[mirrored.pk])).content.decode().split(
        f'id="item-{mirrored.items.get().pk}"')[1].split("</tr>")[0]
    src = row.split('class="product-picture" src="')[1].split('"')[0]
    assert src.startswith(reverse("product-picture", args=[offer.pk]) + "?v=")
    assert f'<span class="product-barcode" title="Штрихкод товара">{MUG.ean13}</span>' in row
    resp = client.get(src)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(resp.streaming_content))).format == "PNG"
    assert "private" in resp["Cache-Control"]


@pytest.mark.django_db
def test_a_changed_picture_is_read_again_and_one_that_cannot_be_read_leaves_the_old_copy(mirrored, market, media):
    offer = CatalogueOffer.objects.get(offer_id="MUG-001")
    CatalogueOffer.objects.filter(pk=offer.pk).update(picture=offer.picture.replace("MUG-001", "TEA-GREEN-100"))
    assert pictures.keep_picture(offer.pk) is True
    offer.refresh_from_db()
    assert offer.picture_of == offer.picture
    CatalogueOffer.objects.filter(pk=offer.pk).update(picture=f"{market.url}/_sandbox/health")
    with pytest.raises(PictureUnavailable):  # not a picture: the old copy stays
        pictures.keep_picture(offer.pk)
    offer.refresh_from_db()
    assert offer.picture_file and offer.picture_of != offer.picture


@pytest.mark.django_db
def test_the_picture_asks_for_a_packer(mirrored, client, outsider):
    offer = CatalogueOffer.objects.get(offer_id="MUG-001")
    pictures.keep_picture(offer.pk)
    url = reverse("product-picture", args=[offer.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code in (403, 405)


@pytest.mark.django_db
def test_the_training_sheet_shows_the_picture(mirrored, client, packer):
    offer = CatalogueOffer.objects.get(offer_id="MUG-001")
    pictures.keep_picture(offer.pk)
    client.force_login(packer)
    sheet = client.get(reverse("training-sheet"), {"order": mirrored.pk}).content.decode()
    assert f'src="{reverse("product-picture", args=[offer.pk])}?v=' in sheet


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_the_pictures_after_the_catalogue_sync(market, media, settings):
    from fulfilment.orders.tasks import sync_catalogue_task

    market.place([("MUG-001", 1), ("TEA-GREEN-100", 1)])
    sync.sync_business(market.business.pk, client=market.client())
    with Worker(env={"MEDIA_ROOT": str(media)}) as worker:
        sync_catalogue_task.delay(market.business.pk)
        wait_for(lambda: CatalogueOffer.objects.exclude(picture_file="").count() == 2, 30, "two pictures kept",
                 worker)
    assert {o.picture_type for o in CatalogueOffer.objects.all()} == {"image/png"}
