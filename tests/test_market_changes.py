"""The typed changes the outbox stores: they read back as they were written, and the client sends
exactly their body to the Market."""

import datetime as dt
import json
import random

import pytest

from fulfilment.market import changes as ch
from fulfilment.market.types import BoxLine, DigitalItem, Instance, PartialCount
from fulfilment.sandbox import seed

GS = "\x1d"
CIS = "0104601234567893215Abc.d" + GS + "91EE10" + GS + "92" + "x" * 44

SAMPLES = [
    ch.BoxLayout(((BoxLine(1, 2, instances=(Instance(cis=CIS), Instance(uin="1234567890123456"))),),
                  (BoxLine(2, partial=PartialCount(1, 2), instances=(Instance(rnpt="1234567/123456/1234567/1",
                                                                              country_code="CN"),)),),
                  (BoxLine(2, partial=PartialCount(2, 2)),))),
    ch.BoxLayout(((BoxLine(1, 1),),), allow_remove=True),
    ch.StatusChange("PROCESSING", "READY_TO_SHIP"),
    ch.StatusChange("CANCELLED", "SHOP_FAILED"),
    ch.StatusChanges((ch.OrderStatusChange(5, "PROCESSING", "READY_TO_SHIP"), ch.OrderStatusChange(6, "PROCESSING"))),
    ch.Identifiers((ch.ItemInstances(7, (Instance(cis=CIS),)),)),
    ch.ItemCounts((ch.ItemCount(7, 0), ch.ItemCount(8, 2, (Instance(cis=CIS),)))),
    ch.CargoPlaces(99, 3),
    ch.CancellationDecision(True),
    ch.CancellationDecision(False, "ORDER_DELIVERED"),
    ch.DigitalCodes((DigitalItem(3, ("KEY-1", "KEY-2"), "Activate at example", dt.date(2027, 1, 2)),)),
    ch.OrderUpdate(42, (("firstName", "Anna"), ("phone", "+79990001122")), (dt.date(2027, 1, 2), dt.date(2027, 1, 3)),
                   ("10:00", "14:00")),
    ch.OrderUpdate(42, (("lastName", "Petrova"),)),
]


@pytest.mark.parametrize("change", SAMPLES, ids=lambda c: type(c).__name__)
def test_a_stored_change_reads_back_as_it_was_written(change):
    stored = json.loads(json.dumps(change.to_json()))  # as a JSON column keeps it
    assert ch.CHANGES[change.operation].from_json(stored) == change


def test_the_body_is_the_markets_json():
    layout = SAMPLES[0].body()
    assert layout == {"boxes": [
        {"items": [{"id": 1, "fullCount": 2, "instances": [{"cis": CIS}, {"uin": "1234567890123456"}]}]},
        {"items": [{"id": 2, "partialCount": {"current": 1, "total": 2},
                    "instances": [{"rnpt": "1234567/123456/1234567/1", "countryCode": "CN"}]}]},
        {"items": [{"id": 2, "partialCount": {"current": 2, "total": 2}}]}]}
    assert "allowRemove" not in layout and SAMPLES[1].body()["allowRemove"] is True
    assert ch.CargoPlaces(99, 3).body() == {"boxes": [{}, {}, {}]}
    assert ch.CargoPlaces(99, 3).to_json()["shipmentId"] == 99
    assert ch.StatusChange("PROCESSING").body() == {"order": {"status": "PROCESSING"}}


def test_it_refuses_changes_the_market_cannot_take():
    with pytest.raises(ValueError):
        ch.CargoPlaces(1, 0)
    with pytest.raises(ValueError):
        ch.CancellationDecision(False)


def test_codes_the_market_checks_are_seen_in_a_layout():
    assert SAMPLES[0].has_checked_codes()
    assert not ch.BoxLayout(((BoxLine(2, partial=PartialCount(1, 1), instances=(Instance(gtd="x"),)),),)
                            ).has_checked_codes()


def test_the_client_sends_exactly_the_stored_body(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 1), ("MUG-001", 2)])
    shoes, mugs = (i["id"] for i in order["items"])
    cis = seed.make_cis(seed.CATALOG["SHOES-RUN-42"], random.Random(1))
    change = ch.BoxLayout(((BoxLine(shoes, 1, instances=(Instance(cis=cis),)),), (BoxLine(mugs, 2),)))
    boxes = sandbox.client().send_change(order["campaignId"], order["orderId"], change)
    assert len(boxes) == 2 and all(b.box_id for b in boxes)
    sent = sandbox.store.received("setOrderBoxLayout")[-1]
    assert sent["status"] == 200 and json.loads(sent["body"]) == change.body()

    status = ch.StatusChange("CANCELLED", "SHOP_FAILED")
    sandbox.client().send_change(order["campaignId"], order["orderId"], status)
    sent = sandbox.store.received("updateOrderStatus")[-1]
    assert sent["status"] == 200 and json.loads(sent["body"]) == status.body()
    assert sandbox.stored(order["orderId"])["status"] == "CANCELLED"


def test_the_client_refuses_what_is_not_a_change(sandbox):
    with pytest.raises(TypeError):
        sandbox.client().send_change(1, 2, {"boxes": []})  # type: ignore[arg-type]


REMOVALS = [
    ch.ItemRemoval(ch.BoxLayout(((BoxLine(1, 1),),), allow_remove=True), 2, 0),
    ch.ItemRemoval(ch.ItemCounts((ch.ItemCount(7, 1), ch.ItemCount(8, 2))), 7, 1),
]


@pytest.mark.parametrize("removal", REMOVALS, ids=lambda r: r.operation)
def test_a_stored_removal_reads_back_with_the_change_that_does_it(removal):
    stored = json.loads(json.dumps(removal.to_json()))
    assert ch.ItemRemoval.from_json(stored) == removal
    assert removal.body() == removal.change.body() and removal.operation == removal.change.operation


def test_a_removal_needs_a_change_that_removes():
    with pytest.raises(ValueError):
        ch.ItemRemoval(ch.BoxLayout(((BoxLine(1, 1),),)), 2, 0)  # no allowRemove: the Market would refuse
    with pytest.raises(ValueError):
        ch.ItemRemoval(ch.StatusChange("PROCESSING"), 2, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ch.ItemRemoval(ch.ItemCounts((ch.ItemCount(7, 0),)), 7, -1)


def test_a_recipient_is_the_markets_customer():
    assert dict(ch.Recipient("Anna", "Petrova", "+79990001122").fields()) == {
        "firstName": "Anna", "lastName": "Petrova", "phone": "+79990001122"}
    assert dict(ch.Recipient("Anna", "Petrova", "+7999", "Ivanovna").fields())["middleName"] == "Ivanovna"


def test_a_recipient_reads_back_whatever_order_the_column_keeps_its_keys_in():
    change = ch.OrderUpdate(42, ch.Recipient("Anna", "Petrova", "+79990001122", "Ivanovna").fields())
    stored = change.to_json()
    stored["order"]["customer"] = dict(reversed(list(stored["order"]["customer"].items())))  # as jsonb may
    assert ch.OrderUpdate.from_json(stored) == change
