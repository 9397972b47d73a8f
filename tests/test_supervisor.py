"""Supervisor decisions: cancellation requests, removals, shop cancellation, bulk ready-to-ship,
reported problems, and the language each user chose. Delivered to the sandbox Market over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.orders import outbox
from fulfilment.orders.models import Order, OutboxAction, Problem
from fulfilment.orders.sync import sync_business
from fulfilment.packing import finishing, scanning, supervision
from fulfilment.packing.kernel import attempt
from fulfilment.sandbox import seed

from .builders import make_order

pytestmark = pytest.mark.django_db
Kind = OutboxAction.Kind
State = OutboxAction.State



@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


SUPERVISOR_ENDPOINTS = [
    ("GET", "supervisor", False), ("POST", "supervisor-bulk-ready", False), ("GET", "supervisor-order", True),
    ("POST", "supervisor-cancellation", True), ("POST", "supervisor-remove-item", True),
    ("POST", "supervisor-cancel", True), ("POST", "supervisor-back-to-packing", True),
    ("POST", "supervisor-update-order", True), ("GET", "supervisor-report", False),
    ("GET", "supervisor-report-csv", False), ("GET", "supervisor-barcodes", False),
    ("POST", "supervisor-barcode-add", False),
]


@pytest.mark.parametrize(("method", "name", "per_order"), SUPERVISOR_ENDPOINTS)
def test_a_packer_gets_403_on_every_supervisor_endpoint(client, packer, supervisor, method, name, per_order):
    order = make_order(problem=Problem.MISSING, cancel_requested=True, status="DELIVERY")
    url = reverse(name, args=[order.pk] if per_order else [])
    data = {"decision": "accept", "item": order.items.get().pk, "count": 0, "confirm": "1", "order": order.pk}
    client.force_login(packer)
    resp = client.get(url) if method == "GET" else client.post(url, data)
    assert resp.status_code == 403
    assert not OutboxAction.objects.exists()
    order.refresh_from_db()
    assert order.problem == Problem.MISSING
    client.force_login(supervisor)
    resp = client.get(url) if method == "GET" else client.post(url, data)
    assert resp.status_code in (200, 302, 400)  # 400: the form says what is missing


def _sync(market):
    sync_business(market.business.pk, client=market.client())


def _deliver_all(market):
    for action in OutboxAction.objects.filter(state=State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())


def test_cancellation_requests_accept_reject_and_the_hourly_limit(market, supervisor, client):
    placed = [market.place([("MUG-001", 1)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS", status="DELIVERY",
                           substatus="", cancel_requested=True) for _ in range(3)]
    _sync(market)
    a, b, c = (Order.objects.get(market_id=p["orderId"]) for p in placed)
    assert a.cancel_requested_at is not None
    client.force_login(supervisor)
    page = client.get(reverse("supervisor")).content.decode()
    assert str(a.market_id) in page and "data-deadline" in page
    assert not supervision.decide_cancellation(b.pk, supervisor, accept=False).ok  # a reason is required
    unconfirmed = supervision.decide_cancellation(a.pk, supervisor, accept=True)
    assert not unconfirmed.ok and "подтвержд" in unconfirmed.message.lower()
    assert not OutboxAction.objects.exists()
    assert supervision.decide_cancellation(a.pk, supervisor, accept=True, confirmed=True).ok
    page = client.get(reverse("supervisor")).content.decode()
    assert page.count('value="accept"') == 2  # the decided row has no live buttons, the others do
    assert supervision.decide_cancellation(b.pk, supervisor, accept=False, reason="ORDER_DELIVERED").ok
    again = supervision.decide_cancellation(a.pk, supervisor, accept=False, reason="ORDER_DELIVERED")
    assert not again.ok and "уже" in again.message
    _deliver_all(market)
    bodies = [r["body"] for r in market.store.received("acceptOrderCancellation")]
    assert len(bodies) == 2 and '"accepted": true' in bodies[0] and '"reason": "ORDER_DELIVERED"' in bodies[1]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == "CANCELLED" and not a.cancel_requested and not b.cancel_requested
    # 500 an hour per shop: the next decision waits, and says why.
    now = timezone.now()
    OutboxAction.objects.bulk_create([OutboxAction(campaign=c.campaign, kind=Kind.CANCELLATION, payload={},
                                                   state=State.DELIVERED, next_attempt_at=now)
                                      for _ in range(supervision.CANCELLATION_LIMIT)])
    limited = supervision.decide_cancellation(c.pk, supervisor, accept=True, confirmed=True)
    assert not limited.ok and "500" in limited.message
    assert "500" in client.get(reverse("supervisor")).content.decode()
    OutboxAction.objects.filter(kind=Kind.CANCELLATION, payload={}).update(
        created_at=now - dt.timedelta(hours=2))
    assert supervision.decide_cancellation(c.pk, supervisor, accept=True, confirmed=True).ok


def test_removing_an_item_checks_the_markets_rules_and_needs_a_confirmation(market, supervisor):
    only = market.place([("MUG-001", 2)])
    promo = market.place([("MUG-001", 1), ("TEA-GREEN-100", 1)], promo_offer="TEA-GREEN-100")
    big = market.place([("FRIDGE-IMP", 1), ("SOCKS-3P", 1)])
    fbs = market.place([("MUG-001", 3), ("TEA-GREEN-100", 2)])
    dbs = market.place([("MUG-001", 3), ("TEA-GREEN-100", 2)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS",
                       delivery_type="DELIVERY")
    _sync(market)

    def order(p):
        return Order.objects.get(market_id=p["orderId"])

    def item(p, sku):
        return order(p).items.get(offer_id=sku)

    for p, sku, words in ((only, "MUG-001", "единственный"), (promo, "TEA-GREEN-100", "акци"),
                          (big, "FRIDGE-IMP", "99")):
        fb = supervision.remove_item(order(p).pk, supervisor, item(p, sku).pk, 0, confirmed=True)
        assert not fb.ok and words in fb.message and "от имени магазина" in fb.message, fb.message
    unconfirmed = supervision.remove_item(order(fbs).pk, supervisor, item(fbs, "MUG-001").pk, 1, confirmed=False)
    assert not unconfirmed.ok
    assert not OutboxAction.objects.exists()

    assert supervision.remove_item(order(fbs).pk, supervisor, item(fbs, "MUG-001").pk, 1, confirmed=True).ok
    assert supervision.remove_item(order(dbs).pk, supervisor, item(dbs, "TEA-GREEN-100").pk, 0, confirmed=True).ok
    # Nothing changes here until the Market accepts; the packer cannot finish meanwhile.
    assert item(fbs, "MUG-001").count == 3 and order(dbs).items.filter(offer_id="TEA-GREEN-100").exists()
    assert "удаляется" in attempt(order(fbs).pk, supervisor, "finish", finishing.finish).message
    _deliver_all(market)
    assert item(fbs, "MUG-001").count == 1 and not order(dbs).items.filter(offer_id="TEA-GREEN-100").exists()
    assert not OutboxAction.objects.exclude(state=State.DELIVERED).exists()
    layout = market.store.received("setOrderBoxLayout")[-1]["body"]
    assert '"allowRemove": true' in layout
    assert [i["count"] for i in market.stored(fbs["orderId"])["items"] if i["offerId"] == "MUG-001"] == [1]
    assert [i["offerId"] for i in market.stored(dbs["orderId"])["items"]] == ["MUG-001"]
    assert order(fbs).audit_events.filter(action="item.reduce").exists()


def test_cancel_as_the_shop_needs_a_confirmation_and_reaches_the_market(market, supervisor):
    p = market.place([("MUG-001", 1)])
    _sync(market)
    o = Order.objects.get(market_id=p["orderId"])
    assert not supervision.cancel_as_shop(o.pk, supervisor, confirmed=False).ok
    assert supervision.cancel_as_shop(o.pk, supervisor, confirmed=True).ok
    _deliver_all(market)
    assert market.stored(p["orderId"])["status"] == "CANCELLED"
    assert market.stored(p["orderId"])["substatus"] == "SHOP_FAILED"
    o.refresh_from_db()
    assert o.status == "CANCELLED" and o.audit_events.filter(action="order.cancel").exists()


def test_bulk_ready_to_ship_goes_in_requests_of_30_with_each_orders_result(market, supervisor, client):
    placed = [market.place([("MUG-001", 1)]) for _ in range(32)]
    _sync(market)
    orders = [Order.objects.get(market_id=p["orderId"]) for p in placed]
    mug = seed.CATALOG["MUG-001"].ean13
    for o in orders[:31]:  # the last one is not packed
        scanning.choose_item(o.pk, supervisor, mug, o.items.get().pk)
        assert attempt(o.pk, supervisor, "finish", finishing.finish).ok
    _deliver_all(market)
    client.force_login(supervisor)
    resp = client.post(reverse("supervisor-bulk-ready"), {"order": [o.pk for o in orders]}, follow=True)
    html = resp.content.decode()
    assert str(orders[31].market_id) in html  # refused, with the reason
    actions = list(OutboxAction.objects.filter(kind=Kind.BULK_STATUS).order_by("id"))
    assert [len(outbox.change_of(a).orders) for a in actions] == [30, 1]
    waiting = client.get(reverse("supervisor")).content.decode()
    assert f"{orders[30].market_id} </td>" in waiting  # the orders of a bulk action not yet answered
    _deliver_all(market)
    assert len(market.store.received("updateOrderStatuses")) == 2
    for o in orders[:31]:
        o.refresh_from_db()
        assert o.substatus == "READY_TO_SHIP", o.market_id
    orders[31].refresh_from_db()
    assert orders[31].substatus == "STARTED"
    page = client.get(reverse("supervisor")).content.decode()
    assert "✔ Готов к отгрузке" in page and "✔ READY_TO_SHIP" not in page


def _packed_and_sent(market, supervisor, n: int) -> list[Order]:
    placed = [market.place([("MUG-001", 1)]) for _ in range(n)]
    _sync(market)
    orders = [Order.objects.get(market_id=p["orderId"]) for p in placed]
    for o in orders:
        scanning.choose_item(o.pk, supervisor, seed.CATALOG["MUG-001"].ean13, o.items.get().pk)
        assert attempt(o.pk, supervisor, "finish", finishing.finish).ok
    _deliver_all(market)
    return orders


def _cancelled_at_the_market(market, order: Order) -> None:
    """The buyer cancelled at the Market after the last sync: here it still looks ready to go."""
    stored = market.stored(order.market_id)
    stored.update(status="CANCELLED", substatus="USER_CHANGED_MIND")
    market.store.save_order(stored)


def test_bulk_refusals_come_first_at_the_top_with_the_markets_words_without_javascript(market, supervisor, client):
    ok, refused_by_market, *_ = orders = _packed_and_sent(market, supervisor, 3)
    unpacked = make_order(campaign=ok.campaign)
    _cancelled_at_the_market(market, refused_by_market)
    client.force_login(supervisor)
    resp = client.post(reverse("supervisor-bulk-ready"), {"order": [o.pk for o in [*orders, unpacked]]})
    assert resp.status_code == 302 and resp.url == reverse("queue") + "#bulk-result"
    waiting = client.get(resp.url).content.decode()
    area = waiting[waiting.index('id="bulk-result"'):waiting.index("</section>")]
    assert str(unpacked.market_id) in area and "3 заказа у Маркета" in area
    _deliver_all(market)
    page = client.get(reverse("queue")).content.decode()
    top, rest = page[:page.index("</section>")], page[page.index("</section>"):]
    assert 'id="bulk-result"' in top and 'class="grid queue' in rest  # above the queue itself
    refusals = top[top.index('class="refusals"'):top.index("</ul>", top.index('class="refusals"'))]
    # Failures first, each with its order and the Market's words as received; successes after, counted.
    assert str(refused_by_market.market_id) in refusals and str(unpacked.market_id) in refusals
    assert "Маркет отказал" in refusals
    assert "READY_TO_SHIP is possible from PROCESSING/STARTED, not CANCELLED" in refusals
    assert str(ok.market_id) not in refusals
    assert top.index('class="refusals"') < top.index('<details class="done">')
    assert "2 заказа переведены" in top
    # The supervisor's page shows the same at its top; hiding it leaves the history below.
    supervisor_page = client.get(reverse("supervisor")).content.decode()
    assert supervisor_page.index('id="bulk-result"') < supervisor_page.index('id="problems"')
    client.post(reverse("supervisor-bulk-result"))
    assert 'class="refusals"' not in client.get(reverse("queue")).content.decode()


def test_bulk_ready_by_htmx_answers_the_result_area_alone(market, supervisor, client):
    (o,) = _packed_and_sent(market, supervisor, 1)
    client.force_login(supervisor)
    resp = client.post(reverse("supervisor-bulk-ready"), {"order": [o.pk]}, headers={"HX-Request": "true"})
    html = resp.content.decode()
    assert resp.status_code == 200 and html.lstrip().startswith('<section id="bulk-result"')
    assert "<html" not in html and 'hx-trigger="load delay:2s"' in html  # asks again until the Market answers
    _deliver_all(market)
    again = client.get(reverse("supervisor-bulk-result"), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in again and "1 заказ переведён" in again
    empty = client.post(reverse("supervisor-bulk-ready"), {}, headers={"HX-Request": "true"}).content.decode()
    assert "Отметьте собранные заказы" in empty


def test_a_reported_problem_goes_back_to_the_queue(client, supervisor, packer):
    o = make_order(items=(("MUG-001", 1),))
    assert attempt(o.pk, packer, "problem", finishing.report_problem, problem=Problem.MISSING, note="нет на складе").ok
    client.force_login(supervisor)
    assert "нет на складе" in client.get(reverse("supervisor")).content.decode()
    client.post(reverse("supervisor-back-to-packing", args=[o.pk]))
    o.refresh_from_db()
    assert o.problem == "" and o.audit_events.filter(action="problem.resolved", user=supervisor).exists()


def test_each_user_chooses_the_language_and_keeps_it(packer):
    first = Client()
    first.force_login(packer)
    assert "Очередь" in first.get(reverse("queue")).content.decode()
    first.post(reverse("language"), {"language": "en", "next": reverse("queue")})
    assert "Queue" in first.get(reverse("queue")).content.decode()
    other = Client()  # another device, a new session
    other.force_login(packer)
    html = other.get(reverse("queue")).content.decode()
    assert '<html lang="en">' in html and "Nothing to pack" in html
    assert first.post(reverse("language"), {"language": "xx"}).status_code == 302


@pytest.mark.parametrize("target", ["/\\evil.example", "//evil.example", "https://evil.example/", "/\\/evil.example",
                                    "\\\\evil.example", " //evil.example"])
def test_a_decision_never_goes_back_to_another_site(client, supervisor, target):
    o = make_order(items=(("MUG-001", 1),))
    client.force_login(supervisor)
    resp = client.post(reverse("supervisor-back-to-packing", args=[o.pk]), {"next": target})
    assert resp.status_code == 302 and resp["Location"] == reverse("supervisor-order", args=[o.pk])


def test_a_decision_goes_back_to_the_page_it_came_from(client, supervisor):
    o = make_order(items=(("MUG-001", 1),))
    client.force_login(supervisor)
    resp = client.post(reverse("supervisor-back-to-packing", args=[o.pk]), {"next": "/supervisor/?tab=1"})
    assert resp.status_code == 302 and resp["Location"] == "/supervisor/?tab=1"


def test_a_removal_the_market_would_refuse_for_missing_codes_is_refused_before_sending(market, supervisor):
    """Issue 13.3: an FBS order whose remaining item needs a UIN for every unit cannot lose another
    item before the UIN is scanned (the Market answers MISSING_INSTANCES): nothing is sent, the way
    out (cancel as the shop) is offered and reaches the Market."""
    p = market.place([("RING-585", 1), ("MUG-001", 1)])
    _sync(market)
    o = Order.objects.get(market_id=p["orderId"])
    mug = o.items.get(offer_id="MUG-001")
    fb = supervision.remove_item(o.pk, supervisor, mug.pk, 0, confirmed=True)
    assert not fb.ok and "RING-585" in fb.message and "УИН" in fb.message, fb.message
    assert "от имени магазина" in fb.message, fb.message
    assert not OutboxAction.objects.exists()
    assert not market.store.received("setOrderBoxLayout")
    # Finishing is not blocked by anything and the shop can still cancel.
    assert supervision.cancel_as_shop(o.pk, supervisor, confirmed=True).ok
    _deliver_all(market)
    assert market.stored(p["orderId"])["status"] == "CANCELLED"


def test_a_removal_carries_the_scanned_codes_of_what_remains(market, supervisor):
    """Once the remaining item's codes are scanned, the removal's layout carries them and the Market accepts it."""
    p = market.place([("RING-585", 1), ("MUG-001", 2)])
    _sync(market)
    o = Order.objects.get(market_id=p["orderId"])
    ring = o.items.get(offer_id="RING-585")
    fb = scanning.scan(o.pk, supervisor, "1234567890123456")
    assert fb.ok, fb.message
    assert supervision.remove_item(o.pk, supervisor, o.items.get(offer_id="MUG-001").pk, 1, confirmed=True).ok
    _deliver_all(market)
    assert not OutboxAction.objects.exclude(state=State.DELIVERED).exists(), list(
        OutboxAction.objects.values("state", "last_error"))
    assert '"uin": "1234567890123456"' in market.store.received("setOrderBoxLayout")[-1]["body"]
    assert o.items.get(offer_id="MUG-001").count == 1 and ring.pk


def test_a_removal_goes_ahead_when_the_retired_get_order_is_gone(market, supervisor, client):
    """Issue 13.15: getOrder (deprecated v2, off 2027-04-12) is the only source of promos. Switched
    off in the sandbox (answered as an unknown path: 404 in the Market's shape), the removal is
    not blocked: the Market's own refusal comes back and is shown as received, and it holds
    neither finishing nor the shop's cancellation."""
    p = market.place([("MUG-001", 1), ("TEA-GREEN-100", 1)], promo_offer="TEA-GREEN-100")
    _sync(market)
    requests.post(market.url + "/_sandbox/settings", json={"retired_methods": ["getOrder"]}, timeout=5)
    o = Order.objects.get(market_id=p["orderId"])
    tea = o.items.get(offer_id="TEA-GREEN-100")
    fb = supervision.remove_item(o.pk, supervisor, tea.pk, 0, confirmed=True)
    assert fb.ok, fb.message
    assert [r["status"] for r in market.store.received("getOrder")] == [404]
    _deliver_all(market)
    action = OutboxAction.objects.get(kind=Kind.REMOVAL)  # a removal is its own kind (its layout inside)
    assert action.state == State.FAILED
    assert action.market_errors[0]["code"] == "ITEM_REMOVAL_NOT_ALLOWED"
    client.force_login(supervisor)
    page = client.get(reverse("supervisor-order", args=[o.pk])).content.decode()
    assert action.market_errors[0]["message"] in page
    assert "удаляется" not in attempt(o.pk, supervisor, "finish", finishing.finish).message
    assert supervision.cancel_as_shop(o.pk, supervisor, confirmed=True).ok
    _deliver_all(market)
    assert market.stored(p["orderId"])["status"] == "CANCELLED"


def test_every_order_has_a_supervisor_link_for_supervisors_only(client, supervisor, packer):
    """Issue 13.12: removal and shop cancellation are reachable from any order, not only a reported one."""
    order = make_order()
    link = reverse("supervisor-order", args=[order.pk])
    client.force_login(supervisor)
    assert link in client.get(reverse("order", args=[order.pk])).content.decode()
    assert link in client.get(reverse("queue")).content.decode()
    client.force_login(packer)
    assert link not in client.get(reverse("order", args=[order.pk])).content.decode()
    assert link not in client.get(reverse("queue")).content.decode()
