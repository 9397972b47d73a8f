"""Returns in the dashboard with the sandbox over HTTP: an order packed here with its codes, shipped
and delivered at the sandbox, comes back; the returns pass mirrors it; receiving compares each code
with what was shipped; a returned code is reused only after receiving; decisions go through the
outbox, refused ones shown as received, a late or second one refused here with nothing sent."""

from __future__ import annotations

import random
import uuid

import pytest
from django.utils import timezone

from fulfilment.market.returns import DecisionType, ItemDecision
from fulfilment.orders import outbox
from fulfilment.orders.models import Grade, MarketReturn, Match, Order, OutboxAction
from fulfilment.orders.receiving import (
    ReceivingRefused,
    decision_action,
    find_return,
    finish_receiving,
    grade_unit,
    mark_missing,
    receive_scan,
    submit_decisions,
)
from fulfilment.orders.returns_mirror import refresh_returns, sync_returns
from fulfilment.orders.sync import sync_business
from fulfilment.packing import scanning
from fulfilment.sandbox import seed
from tests.builders import link_catalogue
from tests.returns_support import buyer_returns, control, travel

SHOES = seed.CATALOG["SHOES-RUN-42"]


def packed_and_delivered(market, packer, count=2, rng=None):
    """An order of shoes packed here code by code, its layout delivered to the sandbox, then delivered."""
    rng = rng or random.Random(7)
    placed = market.place([("SHOES-RUN-42", count)], buyer_type="BUSINESS")
    sync_business(market.business.pk)
    order = link_catalogue(Order.objects.get(market_id=placed["orderId"]))
    codes = [seed.make_cis(SHOES, rng) for _ in range(count)]
    for code in codes:
        fb = scanning.scan(order.pk, packer, code)
        assert fb.ok, fb.message
    assert scanning.scan(order.pk, packer, "CMD-FINISH").ok
    action = OutboxAction.objects.get(order=order, kind=OutboxAction.Kind.LAYOUT)
    assert outbox.deliver(action.pk)[0] == OutboxAction.State.DELIVERED
    control(market, "POST", f"/orders/{placed['orderId']}", {"status": "DELIVERED", "substatus": "DELIVERY_SERVED"})
    return order, codes


def returned(market, order, count=2, reason="BAD_QUALITY"):
    ret = buyer_returns(market, order.market_id, [{"offerId": "SHOES-RUN-42", "count": count, "reason": reason,
                                                   "comment": "Пришли не те кроссовки", "photos": 1}])
    assert sync_returns(market.business) >= 1
    return MarketReturn.objects.get(market_id=ret["id"])


@pytest.fixture
def shipped(market, packer):
    return packed_and_delivered(market, packer)


def test_the_returns_pass_mirrors_a_return_linked_to_its_order(market, shipped):
    order, _ = shipped
    record = returned(market, order)
    assert record.order == order and record.kind == "RETURN" and record.expected() == {"SHOES-RUN-42": 2}
    assert record.decision_till is not None and record.pickup_till is None
    travel(market, record.market_id, "IN_TRANSIT", "READY_FOR_PICKUP")
    assert sync_returns(market.business) == 1
    record.refresh_from_db()
    assert record.shipment_status == "READY_FOR_PICKUP" and record.pickup_till > timezone.now()
    assert record.pickup_point.startswith("Пункт возврата")


def test_a_notification_refreshes_just_that_return(market, shipped):
    order, _ = shipped
    record = returned(market, order)
    travel(market, record.market_id, "IN_TRANSIT")
    assert refresh_returns(market.business.pk, [(seed.FBS_CAMPAIGN_ID, order.market_id, record.market_id)]) == 1
    record.refresh_from_db()
    assert record.shipment_status == "IN_TRANSIT"
    assert [r["operation"] for r in market.store.received()][-1] == "getReturn"


def test_receiving_matches_the_code_shipped_and_flags_a_swapped_one(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    assert find_return([record.campaign_id], f"{order.market_id}-1") == record  # the box label opens it
    matched = receive_scan(record, uuid.uuid4(), codes[0], packer).unit
    swapped = receive_scan(record, uuid.uuid4(), seed.make_cis(SHOES, random.Random(99)), packer).unit
    assert (matched.match, matched.shipped.value) == (Match.MATCHED, codes[0])
    assert swapped.match == Match.NEVER_SHIPPED and swapped.is_mismatch and swapped.scanned_by == packer


def test_a_code_of_another_order_of_this_shop_is_another_code_and_a_foreign_product_is_not_in_the_order(
        market, shipped, packer):
    order, _ = shipped
    _, other_codes = packed_and_delivered(market, packer, count=1, rng=random.Random(8))
    record = returned(market, order)
    assert receive_scan(record, uuid.uuid4(), other_codes[0], packer).unit.match == Match.OTHER_CODE
    tshirt = seed.make_cis(seed.CATALOG["TSHIRT-M"], random.Random(3))
    assert receive_scan(record, uuid.uuid4(), tshirt, packer).unit.match == Match.NOT_IN_ORDER


def test_a_bad_scan_and_a_double_submit_change_nothing(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    with pytest.raises(ReceivingRefused, match="не штрихкод товара"):
        receive_scan(record, uuid.uuid4(), "hello", packer)
    scan_id = uuid.uuid4()
    first = receive_scan(record, scan_id, codes[0], packer)
    again = receive_scan(record, scan_id, codes[0], packer)
    assert again.again and again.unit == first.unit
    with pytest.raises(ReceivingRefused, match="уже принят в этом возврате"):
        receive_scan(record, uuid.uuid4(), codes[0], packer)
    assert record.units.count() == 1


def test_a_returned_code_goes_into_a_new_order_only_after_the_return_is_received(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    unit = receive_scan(record, uuid.uuid4(), codes[0], packer).unit
    second = receive_scan(record, uuid.uuid4(), codes[1], packer).unit
    placed = market.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    sync_business(market.business.pk)
    new = link_catalogue(Order.objects.get(market_id=placed["orderId"]))
    early = scanning.scan(new.pk, packer, codes[0])
    assert not early.ok and str(record.market_id) in early.message  # "coming back in return N"
    grade_unit(unit, Grade.FIT, "")
    grade_unit(second, Grade.DEFECTIVE, "Подошва отклеилась")
    finish_receiving(record, packer)
    assert scanning.scan(new.pk, packer, codes[0]).ok
    defective = scanning.scan(new.pk, packer, codes[1])  # a defective unit's code stays out
    assert not defective.ok and str(order.market_id) in defective.message


def test_receiving_ends_only_when_every_unit_is_graded(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    receive_scan(record, uuid.uuid4(), codes[0], packer)
    with pytest.raises(ReceivingRefused, match="оцените каждую единицу"):
        finish_receiving(record, packer)
    assert MarketReturn.objects.get(pk=record.pk).received_at is None


def test_a_return_with_a_unit_never_scanned_is_refused_naming_it_and_nothing_changes(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    unit = grade_unit(receive_scan(record, uuid.uuid4(), codes[0], packer).unit, Grade.FIT, "")
    with pytest.raises(ReceivingRefused, match="SHOES-RUN-42 — 1 из 2") as refused:
        finish_receiving(record, packer)
    assert "нет в посылке" in str(refused.value)  # and what to do about it
    assert MarketReturn.objects.get(pk=record.pk).received_at is None
    assert list(record.units.values_list("pk", "grade")) == [(unit.pk, Grade.FIT)]


def test_a_unit_not_in_the_parcel_is_marked_so_and_the_return_received(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    grade_unit(receive_scan(record, uuid.uuid4(), codes[0], packer).unit, Grade.FIT, "")
    missing = mark_missing(record, "SHOES-RUN-42", packer)
    assert (missing.match, missing.grade, missing.scanned_by) == (Match.MISSING, Grade.MISSING, packer)
    with pytest.raises(ReceivingRefused, match="уже приняты"):  # no more than the return holds
        mark_missing(record, "SHOES-RUN-42", packer)
    with pytest.raises(ReceivingRefused, match="нет в этом возврате"):
        mark_missing(record, "MUG-001", packer)
    finish_receiving(record, packer)
    assert record.units.count() == 2
    # The missing unit's code never came back: it stays out of new orders.
    placed = market.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    sync_business(market.business.pk)
    new = link_catalogue(Order.objects.get(market_id=placed["orderId"]))
    assert not scanning.scan(new.pk, packer, codes[1]).ok
    assert scanning.scan(new.pk, packer, codes[0]).ok


def test_a_scanned_unit_cannot_be_graded_as_not_in_the_parcel(market, shipped, packer):
    order, codes = shipped
    record = returned(market, order)
    unit = receive_scan(record, uuid.uuid4(), codes[0], packer).unit
    with pytest.raises(ReceivingRefused):
        grade_unit(unit, Grade.MISSING, "")
    assert record.units.get().grade == ""


def _decide(record, kind=DecisionType.REFUND_MONEY, **kw):
    item_id = record.payload["items"][0]["decisions"][0]["returnItemId"]
    return [ItemDecision(item_id, kind, **kw)]


def test_a_decision_reaches_the_market_through_the_outbox_once(market, shipped, supervisor):
    order, _ = shipped
    record = returned(market, order)
    action = submit_decisions(record, _decide(record), supervisor)
    assert outbox.deliver(action.pk)[0] == OutboxAction.State.DELIVERED
    sent = market.store.received("submitReturnDecision")[-1]
    assert '"REFUND_MONEY"' in sent["body"]
    with pytest.raises(ReceivingRefused, match="уже отправлено"):
        submit_decisions(record, _decide(record), supervisor)


def test_a_decision_the_market_refuses_is_shown_as_received_and_may_be_made_again(market, shipped, supervisor):
    order, _ = shipped
    record = returned(market, order)
    market.store.set_setting("refuse_return_decisions", "Решение по этому возврату уже принято в кабинете")
    action = submit_decisions(record, _decide(record), supervisor)
    assert outbox.deliver(action.pk)[0] == OutboxAction.State.FAILED
    assert decision_action(record).market_errors[0]["message"] == "Решение по этому возврату уже принято в кабинете"
    market.store.set_setting("refuse_return_decisions", None)
    assert submit_decisions(record, _decide(record), supervisor).pk != action.pk


def test_a_decision_past_its_deadline_is_refused_here_and_nothing_is_sent(market, shipped, supervisor):
    order, _ = shipped
    record = returned(market, order)
    MarketReturn.objects.filter(pk=record.pk).update(created_at_market=timezone.now() - timezone.timedelta(days=4))
    record.refresh_from_db()
    with pytest.raises(ReceivingRefused, match="Срок решения прошёл"):
        submit_decisions(record, _decide(record), supervisor)
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()
    assert market.store.received("submitReturnDecision") == []


def test_the_decision_deadline_is_the_setting_counted_from_the_returns_creation(market, shipped, supervisor,
                                                                                settings):
    order, _ = shipped
    record = returned(market, order)
    created = timezone.now() - timezone.timedelta(hours=30)
    MarketReturn.objects.filter(pk=record.pk).update(created_at_market=created)
    record.refresh_from_db()
    assert record.decision_till == created + timezone.timedelta(hours=72)  # the default
    settings.RETURN_DECISION_HOURS = 24
    assert record.decision_till == created + timezone.timedelta(hours=24)
    with pytest.raises(ReceivingRefused, match="Срок решения прошёл"):
        submit_decisions(record, _decide(record), supervisor)
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()
    settings.RETURN_DECISION_HOURS = 48
    assert submit_decisions(record, _decide(record), supervisor).kind == OutboxAction.Kind.RETURN_DECISION


def test_a_marked_products_barcode_asks_for_its_code_on_every_database(market, shipped, packer):
    # SQLite (the embedded default) has no JSON "contains" lookup: this answered 500 there.
    order, _codes = shipped
    record = returned(market, order)
    with pytest.raises(ReceivingRefused, match="код маркировки"):
        receive_scan(record, uuid.uuid4(), SHOES.ean13, packer)
    assert record.units.count() == 0


def test_a_code_the_market_lists_on_an_order_packed_elsewhere_matches(market, packer):
    """The demo's returned orders were packed by the sandbox's seeder, not here: the Market's own list
    of the order's codes (items[].instances) is what was shipped, so the trainee's scan can match."""
    made = market.seeder.demo_returns()
    sync_business(market.business.pk)
    sync_returns(market.business)
    claim = next(r for r in made if r["returnType"] == "RETURN")
    record = MarketReturn.objects.get(market_id=claim["id"])
    assert record.order is not None and not record.order.instances.exists()  # nothing packed here
    shoes = next(i for i in market.store.order(claim["orderId"])["items"] if i["offerId"] == "SHOES-RUN-42")
    unit = receive_scan(record, uuid.uuid4(), shoes["instances"][0]["cis"], packer).unit
    assert (unit.match, unit.offer_id) == (Match.MATCHED, "SHOES-RUN-42")
    # Another code of the same product is known as that product: its only unit is received already.
    with pytest.raises(ReceivingRefused, match="SHOES-RUN-42"):
        receive_scan(record, uuid.uuid4(), seed.make_cis(SHOES, random.Random(99)), packer)
