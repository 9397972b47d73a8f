"""The supervisor's barcode links: every link per shop, filtered, corrected or unlinked with an audit trail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders.models import AuditEvent, ProductBarcode
from fulfilment.packing import scanning
from fulfilment.sandbox.seed import CATALOG

from .builders import make_campaign, make_linked_order

pytestmark = pytest.mark.django_db
MUG, TEA = CATALOG["MUG-001"].ean13, CATALOG["TEA-GREEN-100"].ean13
Source = ProductBarcode.Source


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def test_a_supervisor_lists_filters_corrects_and_unlinks_links_with_an_audit_trail(client, supervisor, packer):
    shop, other = make_campaign(name="Магазин А"), make_campaign(name="Магазин Б")
    order = make_linked_order(campaign=shop, items=(("MUG-001", 2), ("TEA-GREEN-100", 1)))
    make_linked_order(campaign=other, items=(("MUG-001", 1),))
    ProductBarcode.objects.filter(campaign=shop, offer_id="TEA-GREEN-100").update(source=Source.LEARNT)
    url = reverse("supervisor-barcodes")
    client.force_login(packer)
    assert client.get(url).status_code == 403
    client.force_login(supervisor)
    assert reverse("supervisor-barcodes") in client.get(reverse("supervisor")).content.decode()
    html = client.get(url).content.decode()
    assert html.count('<tr id="link-') == 3 and "прежней версией" in html
    assert client.get(url, {"campaign": shop.pk}).content.decode().count('<tr id="link-') == 2
    assert client.get(url, {"source": "LEARNT"}).content.decode().count('<tr id="link-') == 1
    assert client.get(url, {"q": MUG}).content.decode().count('<tr id="link-') == 2
    assert client.get(url, {"q": "tea-green", "campaign": shop.pk}).content.decode().count('<tr id="link-') == 1

    mug = ProductBarcode.objects.get(campaign=shop, gtin="0" + MUG)
    resp = client.post(reverse("supervisor-barcode-change", args=[mug.pk]), {"unlink": "1", "offer_id": "MUG-001"})
    assert resp.status_code == 302
    mug.refresh_from_db()
    assert (mug.offer_id, mug.source, mug.learnt_by) == ("", Source.CONFIRMED, supervisor)
    assert not scanning.scan(order.pk, packer, MUG).ok  # unlinked: refused, not guessed
    assert ProductBarcode.objects.get(campaign=other, gtin="0" + MUG).offer_id == "MUG-001"  # per shop

    client.post(reverse("supervisor-barcode-change", args=[mug.pk]), {"offer_id": "MUG-001"})
    assert scanning.scan(order.pk, packer, MUG).ok
    events = AuditEvent.objects.filter(action="barcode.corrected").order_by("id")
    assert [(e.payload["from"], e.payload["to"], e.user) for e in events] == [
        ("MUG-001", "", supervisor), ("", "MUG-001", supervisor)]
    assert "MUG-001" in client.get(url).content.decode().split('id="link-events"')[1]


def test_a_supervisor_links_a_new_barcode_but_never_an_invalid_one(client, supervisor, packer):
    shop = make_campaign()
    order = make_linked_order(campaign=shop, items=(("SKU-NEW", 1),))
    client.force_login(supervisor)
    add = reverse("supervisor-barcode-add")
    client.post(add, {"campaign": shop.pk, "gtin": "0000000000000", "offer_id": "SKU-NEW"})
    client.post(add, {"campaign": shop.pk, "gtin": "4601234000010", "offer_id": "SKU-NEW"})  # bad check digit
    assert not ProductBarcode.objects.filter(campaign=shop).exists()
    client.post(add, {"campaign": shop.pk, "gtin": MUG, "offer_id": "SKU-NEW"})
    link = ProductBarcode.objects.get(campaign=shop)
    assert (link.gtin, link.offer_id, link.source, link.learnt_by) == ("0" + MUG, "SKU-NEW", Source.CONFIRMED,
                                                                       supervisor)
    assert scanning.scan(order.pk, packer, MUG).ok
