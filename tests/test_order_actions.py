"""The order screen's buttons: one endpoint each, with htmx the panel alone, without it the page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from fulfilment.orders.models import BoxLine
from fulfilment.packing import scanning
from fulfilment.sandbox.seed import CATALOG

from .builders import make_order

pytestmark = pytest.mark.django_db

MUG = CATALOG["MUG-001"].ean13


@pytest.fixture
def order(packer):
    order = make_order(items=(("MUG-001", 2), ("TEA-GREEN-100", 1)))
    assert scanning.scan(order.pk, packer, MUG).ok is False  # two SKUs without barcodes: a question
    return order


def test_every_form_on_the_order_screen_posts_without_javascript(client, packer, order):
    scanning.choose_item(order.pk, packer, MUG, order.items.get(offer_id="MUG-001").pk)
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    forms = re.findall(r"<form\b[^>]*>", html)
    assert len(forms) >= 8
    for tag in forms:
        assert re.search(r'method="(post|get)"', tag) and 'action="/' in tag, tag
        if "hx-post" in tag:
            assert re.search(r'action="([^"]+)"', tag).group(1) == re.search(r'hx-post="([^"]+)"', tag).group(1)


def test_a_button_without_htmx_comes_back_to_the_page_with_the_result(client, packer, order):
    client.force_login(packer)
    resp = client.post(reverse("order-new-box", args=[order.pk]))
    assert resp.status_code == 302 and resp["Location"] == reverse("order", args=[order.pk])
    page = client.get(resp["Location"]).content.decode()
    assert 'class="success"' in page and order.boxes.count() == 1
    refused = client.post(reverse("order-delete-box", args=[order.pk]), {"box": 7}, follow=True)
    assert 'class="error"' in refused.content.decode()


def test_a_button_with_htmx_answers_with_the_panel_alone(client, packer, order):
    client.force_login(packer)
    resp = client.post(reverse("order-new-box", args=[order.pk]), HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.startswith('<div id="panel"') and "<html" not in html
    assert 'data-state="ok"' in html


def test_the_answer_to_which_item_is_it_places_the_unit(client, packer, order):
    client.force_login(packer)
    mug = order.items.get(offer_id="MUG-001")
    choose = reverse("order-choose-item", args=[order.pk])
    # The answer links a barcode only in teach mode, switched on on the order screen (and off after one link).
    client.post(choose, {"code": MUG, "item": mug.pk}, HTTP_HX_REQUEST="true")
    assert not BoxLine.objects.filter(item=mug).exists()
    page = client.post(reverse("order-teach", args=[order.pk]), {"on": "1"}, HTTP_HX_REQUEST="true")
    assert 'id="teach"' in page.content.decode() and "banner" in page.content.decode()
    resp = client.post(choose, {"code": MUG, "item": mug.pk}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and BoxLine.objects.get(item=mug).full_count == 1
    assert 'name="on" value="1"' in resp.content.decode()  # teach mode is off again
    assert client.post(reverse("order-choose-item", args=[order.pk]), {"code": MUG}).status_code == 400


def test_polling_gets_the_panel_body_alone(client, packer, order):
    client.force_login(packer)
    html = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert html.startswith('<div id="panel-body"') and 'id="panel"' not in html


@pytest.mark.parametrize("name", ["order-new-box", "order-set-current-box", "order-move-unit", "order-split-unit",
                                  "order-finish", "order-ready", "order-report-problem", "order-choose-item"])
def test_the_buttons_refuse_get(client, packer, order, name):
    client.force_login(packer)
    assert client.get(reverse(name, args=[order.pk])).status_code == 405


def test_a_missing_or_bad_value_is_a_bad_request(client, packer, order):
    client.force_login(packer)
    assert client.post(reverse("order-split-unit", args=[order.pk]), {"item": "x", "parts": 2}).status_code == 400
    assert client.post(reverse("order-move-unit", args=[order.pk]), {"line": 1}).status_code == 400
    assert client.post(reverse("order-new-box", args=[987654])).status_code == 404


def test_the_scan_field_works_without_javascript_and_a_resent_page_counts_once(client, packer, order):
    client.force_login(packer)
    url = reverse("order-scan", args=[order.pk])
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    scan_id = re.search(r'name="id" value="([0-9a-f-]{36})"', page).group(1)
    refused = client.post(url, {"id": scan_id, "code": MUG}).content.decode()  # a new barcode: not in this order
    assert 'class="prompt"' not in refused and 'data-state="error"' in refused
    client.post(reverse("order-teach", args=[order.pk]), {"on": "1"})  # the packer switches teach mode on
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    scan_id = re.search(r'name="id" value="([0-9a-f-]{36})"', page).group(1)
    asked = client.post(url, {"id": scan_id, "code": MUG})  # in teach mode, in a two-SKU order: which item?
    html = asked.content.decode()
    assert asked.status_code == 200 and 'class="prompt"' in html and 'data-state="prompt"' in html
    mug = order.items.get(offer_id="MUG-001")
    client.post(reverse("order-choose-item", args=[order.pk]), {"code": MUG, "item": mug.pk})
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    scan_id = re.search(r'name="id" value="([0-9a-f-]{36})"', page).group(1)
    for _ in range(2):  # the browser sends the same page twice
        resp = client.post(url, {"id": scan_id, "code": MUG})
        assert resp.status_code == 200
    assert BoxLine.objects.get(item=mug).full_count == 2
    assert client.post(url, {"id": "x", "code": MUG}).status_code == 400
