"""The targeted refresh of a few orders, and the rule both it and the sync follow: the latest wins."""

import json

import pytest

from fulfilment.market.types import OrdersFilter
from fulfilment.orders import refresh, sync
from fulfilment.orders.models import Business, Order
from fulfilment.sandbox import seed

pytestmark = pytest.mark.django_db


def buyer_cancels(market, order_id: int) -> None:
    market.app.handle("POST", f"/_sandbox/orders/{order_id}/buyer-cancel", "", {}, b"")


def fetch(market, order_id: int):
    page = market.client().get_business_orders(seed.DEMO_BUSINESS_ID, OrdersFilter(order_ids=(order_id,)))
    return page.orders[0]


def campaigns(market) -> dict:
    return {c.market_id: c for c in market.business.campaigns.all()}


def test_an_older_copy_of_an_order_never_overwrites_a_newer_one(market):
    # A page fetched before a change, written after a refresh wrote the change (a sync page in flight
    # while a notification's refresh runs): the Market's updateDate says which copy is newer.
    placed = market.place([("MUG-001", 1)], updated_now=False)
    old = fetch(market, placed["orderId"])
    sync.apply_page(campaigns(market), [old])
    buyer_cancels(market, placed["orderId"])
    sync.apply_page(campaigns(market), [fetch(market, placed["orderId"])])
    assert Order.objects.get(market_id=placed["orderId"]).status == "CANCELLED"

    created, updated, _flagged = sync.apply_page(campaigns(market), [old])

    assert (created, updated) == (0, 0)
    order = Order.objects.get(market_id=placed["orderId"])
    assert order.status == "CANCELLED"
    assert order.updated_at_market > old.updated_at


def test_a_change_within_the_same_second_is_still_applied(market):
    # updateDate has one-second precision: an equal date with other content is a newer change.
    placed = market.place([("MUG-001", 1)], updated_now=False)
    first = fetch(market, placed["orderId"])
    sync.apply_page(campaigns(market), [first])
    raw = {**first.raw, "notes": "звонить заранее"}
    same_second = type(first).from_business(raw)
    assert same_second.updated_at == first.updated_at

    sync.apply_page(campaigns(market), [same_second])

    assert Order.objects.get(market_id=placed["orderId"]).notes == "звонить заранее"


def test_a_targeted_refresh_asks_only_for_the_named_orders(market):
    placed = [market.place([("MUG-001", 1)]) for _ in range(3)]
    result = refresh.refresh_orders(market.business.pk, [placed[2]["orderId"], placed[0]["orderId"],
                                                         placed[0]["orderId"]])
    assert (result.calls, result.created) == (1, 2)
    assert [json.loads(r["body"])["orderIds"] for r in market.store.received("getBusinessOrders")] == [
        sorted([placed[0]["orderId"], placed[2]["orderId"]])]
    assert set(Order.objects.values_list("market_id", flat=True)) == {placed[0]["orderId"], placed[2]["orderId"]}


def test_a_targeted_refresh_of_an_inactive_business_asks_nothing(market):
    Business.objects.filter(pk=market.business.pk).update(is_active=False)
    result = refresh.refresh_orders(market.business.pk, [50_000_001])
    assert (result.calls, result.skipped) == (0, "inactive")
    assert market.store.received() == []
