"""Labels are read as the station's printer prints them before they are offered: a page whose box barcode
cannot be read, or that carries another box's, refuses the PDF with the reason; nothing is printed."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders import outbox
from fulfilment.orders.label_check import check_labels
from fulfilment.orders.models import AuditEvent, Box, Order, OutboxAction, ProductBarcode
from fulfilment.orders.sync import sync_business
from fulfilment.packing import scanning
from fulfilment.sandbox.label_pdf import render_labels, render_many
from fulfilment.sandbox.seed import CATALOG

ORDER = {"orderId": 7206821}
BOXES = [{"boxId": 1, "barcode": "7206821-1"}, {"boxId": 2, "barcode": "7206821-2"}]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_labels_that_read_as_their_boxes_pass():
    check = check_labels(render_labels(ORDER, BOXES, "A7", "Shop"), ["7206821-1", "7206821-2"], dpi=203)
    assert check.ok and check.pages == [["7206821-1"], ["7206821-2"]]


def test_the_sellers_own_number_beside_the_box_barcode_is_no_problem():
    pdf = render_labels(ORDER | {"externalOrderId": "SHOP-77"}, BOXES[:1], "A7", "Shop")
    check = check_labels(pdf, ["7206821-1"], dpi=203)
    assert check.ok and sorted(check.pages[0]) == ["7206821-1", "SHOP-77"]


def test_bars_too_fine_for_the_printer_are_refused_and_pass_on_a_finer_one():
    pdf = render_labels(ORDER, BOXES[:1], "A9", "Shop")
    check = check_labels(pdf, ["7206821-1"], dpi=203)
    assert not check.ok and check.problems == ["Label 1: the box barcode 7206821-1 cannot be read at 203 dpi."]
    assert check_labels(pdf, ["7206821-1"], dpi=300).ok


def test_labels_in_the_wrong_order_or_for_other_boxes_are_refused():
    pdf = render_labels(ORDER, BOXES, "A7", "Shop")
    swapped = check_labels(pdf, ["7206821-2", "7206821-1"], dpi=203)
    assert swapped.problems == [
        "Label 1 carries the barcode of another box (7206821-1) instead of 7206821-2.",
        "Label 2 carries the barcode of another box (7206821-2) instead of 7206821-1."]
    other = check_labels(pdf, ["9999999-1", "9999999-2"], dpi=203)
    assert other.problems[0] == "Label 1 carries 7206821-1, not the box barcode 9999999-1."


def test_a_missing_or_extra_label_and_a_broken_file_are_refused():
    pdf = render_many([(ORDER, BOXES)], "A7", "Shop")
    assert check_labels(pdf, ["7206821-1", "7206821-2", "7206821-3"], dpi=203).problems[0] == \
        "The labels have 2 pages for 3 boxes."
    assert check_labels(b"<html>not a pdf</html>", ["7206821-1"]).problems == ["The labels are not a readable PDF."]


@pytest.mark.django_db
def test_the_station_gets_the_labels_only_when_they_read_right(market, packer, client, settings):
    placed = market.place([("MUG-001", 1)])
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=placed["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + CATALOG["MUG-001"].ean13, offer_id="MUG-001")
    for code in (CATALOG["MUG-001"].ean13, "CMD-FINISH"):
        assert scanning.scan(order.pk, packer, code, uuid.uuid4()).ok
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING):
        outbox.deliver(action.pk, client=market.client())
    client.force_login(packer)
    url = reverse("order-labels", args=[order.pk])
    # Before the next sync the box has no barcode here: the labels data says what the labels must carry.
    assert Box.objects.get(order=order).barcode == ""
    assert client.get(url, {"format": "A7"}).status_code == 200
    sync_business(market.business.pk, client=market.client())
    box = Box.objects.get(order=order)
    assert box.barcode, "the Market's layout gave the box its barcode"

    resp = client.get(url, {"format": "A7"})
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(order=order, action="labels.printed").count() == 2

    resp = client.get(url, {"format": "A9"})  # too fine for a 203 dpi printer
    assert resp.status_code == 422 and resp["Content-Type"].startswith("text/plain")
    assert f"{box.barcode} не читается при печати 203 dpi" in resp.content.decode()  # the packer's language
    settings.LABEL_PRINTER_DPI = 300
    assert client.get(url, {"format": "A9"}).status_code == 200
    settings.LABEL_PRINTER_DPI = 203

    Box.objects.filter(pk=box.pk).update(barcode=f"{order.market_id}-9")  # not the box the Market labelled
    resp = client.get(url, {"format": "A7"})
    assert resp.status_code == 422 and "а не штрихкод коробки" in resp.content.decode()
    assert AuditEvent.objects.filter(order=order, action="labels.printed").count() == 3


def test_a_label_says_its_box_in_russian_as_the_markets_labels_do():
    import io

    from pypdf import PdfReader

    pdf = render_labels(ORDER | {"externalOrderId": "SHOP-77"}, BOXES, "A7", "Магазин «Ромашка»")
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert "Коробка 1/2 · 1" in pages[0] and "Коробка 2/2 · 2" in pages[1] and "№ SHOP-77" in pages[0]
    assert not any("box" in p.lower() for p in pages), pages
