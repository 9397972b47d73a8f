"""The sandbox enforces the box-layout rules of seed 001, and the client surfaces its messages."""

import random

import pytest

from fulfilment.market.errors import MarketBadRequest
from fulfilment.market.types import BoxLine, Instance, PartialCount
from fulfilment.sandbox.seed import CATALOG, make_cis

GS = "\x1d"
rng = random.Random(7)


def cis(offer_id: str) -> Instance:
    return Instance(cis=make_cis(CATALOG[offer_id], rng))


def item_ids(order: dict) -> list[int]:
    return [i["id"] for i in order["items"]]


def refused(sandbox, order, boxes, allow_remove=False) -> str:
    with pytest.raises(MarketBadRequest) as exc:
        sandbox.client().set_order_box_layout(order["campaignId"], order["orderId"], boxes, allow_remove)
    assert exc.value.status == 400
    assert exc.value.errors, "the Market's errors[] are carried"
    return " | ".join(exc.value.messages)


def send(sandbox, order, boxes, allow_remove=False):
    return sandbox.client().set_order_box_layout(order["campaignId"], order["orderId"], boxes, allow_remove)


def test_whole_items_in_one_box_are_accepted_and_get_box_ids(sandbox):
    order = sandbox.place([("MUG-001", 2), ("TEA-GREEN-100", 1)])
    a, b = item_ids(order)
    boxes = send(sandbox, order, [[BoxLine(a, full_count=2), BoxLine(b, full_count=1)]])
    assert len(boxes) == 1 and boxes[0].box_id
    stored = sandbox.stored(order["orderId"])
    assert stored["delivery"]["boxesLayout"][0]["boxId"] == boxes[0].box_id
    assert stored["delivery"]["boxesLayout"][0]["barcode"]


def test_units_of_one_item_may_spread_over_boxes(sandbox):
    order = sandbox.place([("MUG-001", 3)])
    (a,) = item_ids(order)
    assert len(send(sandbox, order, [[BoxLine(a, full_count=1)], [BoxLine(a, full_count=2)]])) == 2


def test_an_item_split_into_two_parts_is_accepted(sandbox):
    order = sandbox.place([("AC-SPLIT-9", 1)])
    (a,) = item_ids(order)
    boxes = send(sandbox, order, [[BoxLine(a, partial=PartialCount(1, 2))], [BoxLine(a, partial=PartialCount(2, 2))]])
    assert [len(b.lines) for b in boxes] == [1, 1]


def test_two_units_of_a_three_part_item(sandbox):
    order = sandbox.place([("WARDROBE-3", 2)])
    (a,) = item_ids(order)
    boxes = [[BoxLine(a, partial=PartialCount(c, 3))] for c in (1, 2, 3, 1, 2, 3)]
    assert len(send(sandbox, order, boxes)) == 6


def test_a_part_box_holds_nothing_else(sandbox):
    order = sandbox.place([("AC-SPLIT-9", 1), ("MUG-001", 1)])
    a, b = item_ids(order)
    msg = refused(
        sandbox,
        order,
        [[BoxLine(a, partial=PartialCount(1, 2)), BoxLine(b, full_count=1)], [BoxLine(a, partial=PartialCount(2, 2))]],
    )
    assert "nothing else" in msg


def test_a_missing_part_is_refused(sandbox):
    order = sandbox.place([("AC-SPLIT-9", 1)])
    (a,) = item_ids(order)
    assert "parts 1..2" in refused(sandbox, order, [[BoxLine(a, partial=PartialCount(1, 2))]])


def test_a_part_given_twice_is_refused(sandbox):
    order = sandbox.place([("WARDROBE-3", 2)])
    (a,) = item_ids(order)
    boxes = [[BoxLine(a, partial=PartialCount(c, 3))] for c in (1, 2, 3, 1, 2, 2)]
    assert "parts 1..3" in refused(sandbox, order, boxes)


def test_fewer_units_without_allow_remove_are_refused(sandbox):
    order = sandbox.place([("MUG-001", 3), ("TEA-GREEN-100", 1)])
    a, b = item_ids(order)
    msg = refused(sandbox, order, [[BoxLine(a, full_count=2), BoxLine(b, full_count=1)]])
    assert "2 of 3 units" in msg and "allowRemove" in msg


def test_more_units_than_ordered_are_refused_even_with_allow_remove(sandbox):
    order = sandbox.place([("MUG-001", 1), ("TEA-GREEN-100", 1)])
    a, b = item_ids(order)
    msg = refused(sandbox, order, [[BoxLine(a, full_count=2), BoxLine(b, full_count=1)]], allow_remove=True)
    assert "cannot be increased" in msg


def test_an_unknown_item_is_refused(sandbox):
    order = sandbox.place([("MUG-001", 1)])
    assert "not in the order" in refused(sandbox, order, [[BoxLine(123, full_count=1)]])


def test_allow_remove_reduces_an_item(sandbox):
    order = sandbox.place([("MUG-001", 3), ("TEA-GREEN-100", 2), ("SOCKS-3P", 1)])
    a, _b, c = item_ids(order)
    send(sandbox, order, [[BoxLine(a, full_count=1), BoxLine(c, full_count=1)]], allow_remove=True)
    stored = sandbox.stored(order["orderId"])
    assert {i["id"]: i["count"] for i in stored["items"]} == {a: 1, c: 1}


def test_the_only_item_cannot_be_removed(sandbox):
    order = sandbox.place([("MUG-001", 3)])
    (a,) = item_ids(order)
    assert "only item" in refused(sandbox, order, [[BoxLine(a, full_count=2)]], allow_remove=True)


def test_a_promo_item_cannot_be_removed(sandbox):
    order = sandbox.place([("TEA-GREEN-100", 1), ("MUG-001", 1)], promo_offer="TEA-GREEN-100")
    _a, b = item_ids(order)
    assert "promotion" in refused(sandbox, order, [[BoxLine(b, full_count=1)]], allow_remove=True)


def test_an_item_worth_99_percent_of_the_order_cannot_be_removed(sandbox):
    order = sandbox.place([("TV-IMP-55", 1), ("NOTEBOOK-A5", 1)])
    _tv, notebook = item_ids(order)
    msg = refused(sandbox, order, [[BoxLine(notebook, full_count=1)]], allow_remove=True)
    assert "99%" in msg


def test_business_buyers_must_send_cis_codes(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 2)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    assert "need 2 cis codes, got 0" in refused(sandbox, order, [[BoxLine(a, full_count=2)]])
    send(sandbox, order, [[BoxLine(a, full_count=2, instances=(cis("SHOES-RUN-42"), cis("SHOES-RUN-42")))]])


def test_cis_codes_are_optional_for_individuals(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 1)], buyer_type="PERSON")
    (a,) = item_ids(order)
    send(sandbox, order, [[BoxLine(a, full_count=1)]])


def test_one_code_per_unit(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    msg = refused(sandbox, order, [[BoxLine(a, full_count=1, instances=(cis("SHOES-RUN-42"), cis("SHOES-RUN-42")))]])
    assert "2 codes for 1 units" in msg


def test_the_same_code_for_two_units_is_refused(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 2)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    code = cis("SHOES-RUN-42")
    assert "more than one unit" in refused(sandbox, order, [[BoxLine(a, full_count=2, instances=(code, code))]])


def test_a_split_unit_carries_its_code_in_each_of_its_boxes(sandbox):
    order = sandbox.place([("AC-SPLIT-9", 1), ("RING-585", 1)])
    ac, ring = item_ids(order)
    uin = Instance(uin="1234567890123456")
    boxes = [
        [BoxLine(ac, partial=PartialCount(1, 2))],
        [BoxLine(ac, partial=PartialCount(2, 2))],
        [BoxLine(ring, full_count=1, instances=(uin,))],
    ]
    send(sandbox, order, boxes)


def test_a_split_unit_with_different_codes_per_part_is_refused(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    boxes = [
        [BoxLine(a, partial=PartialCount(1, 2), instances=(cis("SHOES-RUN-42"),))],
        [BoxLine(a, partial=PartialCount(2, 2), instances=(cis("SHOES-RUN-42"),))],
    ]
    assert "every part 1..2" in refused(sandbox, order, boxes)


def test_a_split_unit_with_one_code_in_every_part_is_accepted(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    code = cis("SHOES-RUN-42")
    send(
        sandbox,
        order,
        [
            [BoxLine(a, partial=PartialCount(1, 2), instances=(code,))],
            [BoxLine(a, partial=PartialCount(2, 2), instances=(code,))],
        ],
    )


@pytest.mark.parametrize("uin", ["123456789012345", "12345678901234567", "12345678901234AB"])
def test_a_uin_must_be_16_digits(sandbox, uin):
    order = sandbox.place([("RING-585", 1)])
    (a,) = item_ids(order)
    assert "UIN must be 16 digits" in refused(
        sandbox, order, [[BoxLine(a, full_count=1, instances=(Instance(uin=uin),))]]
    )


def test_a_jewelry_item_needs_its_uin(sandbox):
    order = sandbox.place([("RING-585", 1)])
    (a,) = item_ids(order)
    assert "uin codes, got 0" in refused(sandbox, order, [[BoxLine(a, full_count=1)]])


def test_rnpt_and_gtd_formats(sandbox):
    order = sandbox.place([("FRIDGE-IMP", 1), ("TV-IMP-55", 1)])
    fridge, tv = item_ids(order)
    bad = [
        [
            BoxLine(
                fridge, full_count=1, instances=(Instance(rnpt="1070207001/01012024/30123456/001", country_code="CN"),)
            ),
            BoxLine(tv, full_count=1, instances=(Instance(gtd="10702070/010124/3012345", country_code="CN"),)),
        ]
    ]
    assert "RNPT must look like" in refused(sandbox, order, bad)
    good = [
        [
            BoxLine(fridge, full_count=1, instances=(Instance(rnpt="10702070/010124/3012345/001", country_code="CN"),)),
            BoxLine(tv, full_count=1, instances=(Instance(gtd="10702070/010124/3012345", country_code="CN"),)),
        ]
    ]
    send(sandbox, order, good)


def test_a_country_code_must_be_iso_alpha_2(sandbox):
    order = sandbox.place([("FRIDGE-IMP", 1)])
    (a,) = item_ids(order)
    # The client refuses nothing here: the Market's answer is what staff see.
    msg = refused(
        sandbox,
        order,
        [[BoxLine(a, full_count=1, instances=(Instance(rnpt="10702070/010124/3012345/001", country_code="RUS"),))]],
    )
    assert "countryCode" in msg


def test_a_gs_sent_as_literal_backslash_u_is_refused(sandbox):
    order = sandbox.place([("MILK-1L", 1)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    literal = Instance(cis="0104650117240408215aB3cD\\u001d93dGVz")
    assert "\\u001d" in refused(sandbox, order, [[BoxLine(a, full_count=1, instances=(literal,))]])


def test_the_gs_reaches_the_market_as_a_json_escape(sandbox):
    order = sandbox.place([("MILK-1L", 1)], buyer_type="BUSINESS")
    (a,) = item_ids(order)
    code = "0104650117240408215aB3cD" + GS + "93dGVz"
    send(sandbox, order, [[BoxLine(a, full_count=1, instances=(Instance(cis=code),))]])
    body = sandbox.store.received("setOrderBoxLayout")[-1]["body"]
    assert '"cis": "0104650117240408215aB3cD\\u001d93dGVz"' in body
    stored = sandbox.stored(order["orderId"])["items"][0]["instances"][0]
    assert stored == {"cis": "0104650117240408215aB3cD", "cisFull": code}


def test_repeating_the_request_replaces_the_layout(sandbox):
    order = sandbox.place([("MUG-001", 2)])
    (a,) = item_ids(order)
    first = send(sandbox, order, [[BoxLine(a, full_count=2)]])
    second = send(sandbox, order, [[BoxLine(a, full_count=1)], [BoxLine(a, full_count=1)]])
    layout = sandbox.stored(order["orderId"])["delivery"]["boxesLayout"]
    assert [b["boxId"] for b in layout] == [b.box_id for b in second]
    assert first[0].box_id not in [b["boxId"] for b in layout]


def test_the_layout_cannot_change_after_ready_to_ship(sandbox):
    order = sandbox.place([("MUG-001", 1)])
    (a,) = item_ids(order)
    send(sandbox, order, [[BoxLine(a, full_count=1)]])
    sandbox.client().update_order_status(order["campaignId"], order["orderId"], "PROCESSING", "READY_TO_SHIP")
    assert "PROCESSING/STARTED" in refused(sandbox, order, [[BoxLine(a, full_count=1)]])
