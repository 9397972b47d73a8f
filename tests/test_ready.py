"""After ready to ship from the order screen: the success stays green, the header follows the
Market's status, and the screen leads to the next order in the queue (earliest shipment first)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders import outbox
from fulfilment.orders.models import Order, OutboxAction, ProductBarcode
from fulfilment.orders.sync import sync_business
from fulfilment.packing import finishing, scanning
from fulfilment.sandbox.seed import CATALOG

pytestmark = pytest.mark.django_db
MUG = CATALOG["MUG-001"].ean13


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def _deliver_all(market):
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())


def test_ready_to_ship_stays_green_shows_the_new_status_and_offers_the_next_order(market, packer, client):
    later = market.place([("MUG-001", 1)], shipment_in_days=2)
    this = market.place([("MUG-001", 1)])
    sooner = market.place([("MUG-001", 1)], shipment_in_days=1)
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=this["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    for code in (MUG, "CMD-FINISH"):
        assert scanning.scan(order.pk, packer, code, uuid.uuid4()).ok
    _deliver_all(market)
    fb = scanning.scan(order.pk, packer, "CMD-READY", uuid.uuid4())
    assert fb.ok, fb.message
    _deliver_all(market)
    assert market.stored(order.market_id)["substatus"] == "READY_TO_SHIP"

    client.force_login(packer)
    # What the screen's poll gets once the Market has it: no red banner, the header's status, the next order.
    html = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'class="banner error"' not in html and "не собирается" not in html
    assert 'id="order-status" hx-swap-oob="outerHTML"' in html and "Готов к отгрузке" in html.split('id="done"')[0]
    assert "готов к отгрузке" in html
    nxt = Order.objects.get(market_id=sooner["orderId"])
    assert f'href="{reverse("order", args=[nxt.pk])}"' in html and str(later["orderId"]) not in html
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "Готов к отгрузке" in page.split('id="order-status"')[1].split("</small>")[0]
    assert "READY_TO_SHIP" not in page.split('id="order-status"')[1].split("</small>")[0]  # in words
    assert finishing.next_order(order) == nxt


def test_the_last_order_leads_back_to_the_queue(market, packer, client):
    this = market.place([("MUG-001", 1)])
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=this["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    for code in (MUG, "CMD-FINISH"):
        assert scanning.scan(order.pk, packer, code, uuid.uuid4()).ok
    _deliver_all(market)
    assert scanning.scan(order.pk, packer, "CMD-READY", uuid.uuid4()).ok
    _deliver_all(market)
    client.force_login(packer)
    html = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Больше нет заказов к упаковке" in html and 'class="banner error"' not in html
