"""Splitting a unit of a large item across boxes: the unit is scanned, then split; no box is left
empty and no unit counts as packed before it is scanned."""

from __future__ import annotations

import pytest
from django.utils import translation

from fulfilment.orders.models import Box, BoxLine, Instance, ProductBarcode
from fulfilment.packing import boxes, scanning
from fulfilment.packing.kernel import attempt
from fulfilment.packing.state import PackState
from fulfilment.sandbox.seed import CATALOG

from .builders import make_order

pytestmark = pytest.mark.django_db

AC = CATALOG["AC-SPLIT-9"].ean13
MUG = CATALOG["MUG-001"].ean13
SHOES = ("0104601234567893215Ek!qZ7w+Ta0r\u001d91EE06\u001d92FMTahov29ELSZgnu18DKRYfmt07CJQXelsz6BIPWdkry5AHOVcjqx4"
         "/GNUbipw3+FMTahov29ELSZgnu18DKRYf=")


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def known(order, *skus):
    for sku in skus:
        ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + CATALOG[sku].ean13, offer_id=sku)


def state(order):
    order.refresh_from_db()
    return PackState(order)


def split(order, user, sku, parts=2):
    return attempt(order.pk, user, "split", boxes.split, item=order.items.get(offer_id=sku).pk, parts=parts)


def layout(order):
    return [[(line.get("fullCount"), (line.get("partialCount") or {}).get("current")) for line in box["items"]]
            for box in state(order).layout().body()["boxes"]]


def test_a_unit_scanned_then_split_keeps_its_box_for_part_one_and_leaves_no_box_empty(packer):
    order = make_order(items=(("AC-SPLIT-9", 1),))
    known(order, "AC-SPLIT-9")
    assert scanning.scan(order.pk, packer, AC).ok
    fb = split(order, packer, "AC-SPLIT-9")
    assert fb.ok, fb.message
    assert "1, 2" in fb.message
    assert state(order).layout_problems() == []
    assert layout(order) == [[(None, 1)], [(None, 2)]]
    assert list(Box.objects.filter(order=order).values_list("number", flat=True)) == [1, 2]


def test_a_split_waits_for_the_scan_so_every_physical_unit_is_scanned(packer):
    order = make_order(items=(("AC-SPLIT-9", 2),))
    known(order, "AC-SPLIT-9")
    refused = split(order, packer, "AC-SPLIT-9")
    assert not refused.ok and "Сначала отсканируйте" in refused.message, refused.message
    assert not BoxLine.objects.filter(box__order=order).exists()
    assert state(order).items[order.items.get().pk].placed == 0
    for _ in range(2):  # each physical unit: scanned, then split
        scanned = scanning.scan(order.pk, packer, AC)
        assert scanned.ok, scanned.message
        assert split(order, packer, "AC-SPLIT-9").ok
    assert state(order).layout_problems() == []
    assert layout(order) == [[(None, 1)], [(None, 2)], [(None, 1)], [(None, 2)]]
    third = scanning.scan(order.pk, packer, AC)
    assert not third.ok and "уже в коробках" in third.message


def test_a_unit_split_out_of_a_shared_box_goes_into_new_boxes(packer):
    order = make_order(items=(("MUG-001", 1), ("AC-SPLIT-9", 1)))
    known(order, "MUG-001", "AC-SPLIT-9")
    assert scanning.scan(order.pk, packer, MUG).ok
    assert scanning.scan(order.pk, packer, AC).ok
    assert split(order, packer, "AC-SPLIT-9", parts=3).ok
    assert state(order).layout_problems() == []
    assert layout(order) == [[(1, None)], [(None, 1)], [(None, 2)], [(None, 3)]]


def test_a_split_unit_takes_its_scanned_code_into_every_part(packer):
    order = make_order(items=(("SHOES-RUN-42", 1),), buyer_type="BUSINESS")
    shoes = order.items.get()
    shoes.required_instance_types = ["CIS"]
    shoes.save()
    known(order, "SHOES-RUN-42")  # barcodes come from the catalogue: a scan alone never links one
    assert scanning.scan(order.pk, packer, SHOES).ok
    fb = split(order, packer, "SHOES-RUN-42")
    assert fb.ok and "отсканируйте" not in fb.message, fb.message
    st = state(order)
    assert st.layout_problems() == []
    assert [[line["instances"] for line in box["items"]] for box in st.layout().body()["boxes"]] == [
        [[{"cis": SHOES}]], [[{"cis": SHOES}]]]
    assert Instance.objects.get(order=order).box_id is None  # the split unit's code, not a box's
