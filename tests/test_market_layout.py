"""A layout the Market holds (set in its cabinet, or the one box an item removal sends) is the
Market's: it is shown as such and never counted as packed here. Packing progress comes only from
scans; the Market's box ids and barcodes go onto boxes sent from here."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.market.types import BoxLine, PartialCount
from fulfilment.orders import outbox
from fulfilment.orders.mirror import market_layout
from fulfilment.orders.models import Box, Order, OutboxAction, ProductBarcode
from fulfilment.orders.sync import sync_business
from fulfilment.packing import finishing, scanning, supervision
from fulfilment.packing.kernel import attempt
from fulfilment.packing.state import PackState
from fulfilment.sandbox import seed
from fulfilment.sandbox.seed import CATALOG

pytestmark = pytest.mark.django_db
MUG = CATALOG["MUG-001"].ean13


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def _sync(market):
    sync_business(market.business.pk, client=market.client())


def _deliver_all(market):
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())


def test_a_removal_on_an_unpacked_order_leaves_it_unpacked(market, supervisor, packer, client):
    placed = market.place([("MUG-001", 2), ("TEA-GREEN-100", 1)])
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    tea = order.items.get(offer_id="TEA-GREEN-100")
    assert supervision.remove_item(order.pk, supervisor, tea.pk, 0, confirmed=True).ok
    _deliver_all(market)
    assert len(market.stored(order.market_id)["delivery"]["boxesLayout"]) == 1  # the removal's one box
    _sync(market)
    order.refresh_from_db()
    assert len(market_layout(order)) == 1
    # Nothing was scanned: nothing is packed, Finish is refused, the packer's scans go in.
    assert not Box.objects.filter(order=order).exists()
    st = PackState(order)
    assert [s.placed for s in st.items.values()] == [0]
    refused = attempt(order.pk, packer, "finish", finishing.finish)
    sent = OutboxAction.objects.filter(order=order).exclude(kind=OutboxAction.Kind.REMOVAL)
    assert not refused.ok and not sent.exists()
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "Маркет хранит раскладку из 1 коробки" in html
    fb = scanning.scan(order.pk, packer, MUG)
    assert fb.ok and "(1 из 2)" in fb.message, fb.message
    assert scanning.scan(order.pk, packer, MUG).ok
    assert attempt(order.pk, packer, "finish", finishing.finish).ok


def test_a_layout_set_at_the_market_is_shown_as_the_markets_and_its_ids_go_onto_boxes_sent_from_here(
        market, packer, client):
    placed = market.place([("MUG-001", 1)])
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    item = placed["items"][0]["id"]
    market.client().set_order_box_layout(seed.FBS_CAMPAIGN_ID, order.market_id, [[BoxLine(item, full_count=1)]])
    _sync(market)
    order.refresh_from_db()
    assert [b.barcode for b in market_layout(order)] == [f"{order.market_id}-1"]
    assert not Box.objects.filter(order=order).exists()
    client.force_login(packer)
    assert "Маркет хранит раскладку из 1 коробки" in client.get(reverse("order", args=[order.pk])).content.decode()

    assert scanning.scan(order.pk, packer, MUG).ok
    assert attempt(order.pk, packer, "finish", finishing.finish).ok
    _deliver_all(market)
    _sync(market)
    box = Box.objects.get(order=order)
    assert box.market_box_id and box.barcode == f"{order.market_id}-1"
    # Sent from here: the Market's layout is ours now, not a note on the screen.
    assert "Маркет хранит раскладку" not in client.get(reverse("order", args=[order.pk])).content.decode()


def test_a_split_layout_set_at_the_market_counts_no_unit_as_packed(market):
    placed = market.place([("AC-SPLIT-9", 1)])
    _sync(market)
    item = placed["items"][0]["id"]
    market.client().set_order_box_layout(placed["campaignId"], placed["orderId"], [
        [BoxLine(item, partial=PartialCount(1, 2))], [BoxLine(item, partial=PartialCount(2, 2))]])
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    assert [b.barcode for b in market_layout(order)] == [f"{order.market_id}-1", f"{order.market_id}-2"]
    assert all(b.box_id for b in market_layout(order))
    assert not Box.objects.filter(order=order).exists()
    assert PackState(order).layout_problems()  # nothing scanned: not finished
