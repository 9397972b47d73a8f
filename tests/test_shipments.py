"""The shipments mirror and the Shipments screen: today's and the next shipments per shop, the
counts, the orders that block a shipment and why, with the sandbox Market over HTTP."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.models import Order, Shipment
from fulfilment.orders.shipments import refresh_shipment, sync_campaign_shipments
from fulfilment.packing.shipment_board import board, day_boards

from .shipment_support import mirror, ready_at_market, set_cutoff, shipment_today, skip_near_midnight


@pytest.fixture(autouse=True)
def _day():
    skip_near_midnight()


def test_the_mirror_holds_todays_and_tomorrows_shipments_with_their_orders(market):
    set_cutoff(market, 120)
    a = ready_at_market(market)
    b = market.place([("TEA-GREEN-100", 1)])["orderId"]
    c = market.place([("SOCKS-3P", 1)], shipment_in_days=1)["orderId"]
    found = mirror(market, market.business)
    assert len(found) == 2
    today = shipment_today()
    assert set(today.order_ids) == {a, b}
    assert today.status == "OUTBOUND_CREATED" and "CHANGE_PALLETS_COUNT" in today.available_actions
    assert today.with_labels == [a]
    tomorrow = Shipment.objects.get(shipment_date=timezone.localdate() + dt.timedelta(days=1))
    assert tomorrow.order_ids == [c]
    assert mirror(market, market.business) and Shipment.objects.count() == 2  # a second pass updates in place


def test_orders_of_a_shipment_not_mirrored_yet_are_fetched(market):
    set_cutoff(market, 120)
    mirror(market, market.business)  # nothing yet
    late = market.place([("MUG-001", 1)])["orderId"]
    sync_campaign_shipments(market.business.campaigns.get(name="FBS").pk, client=market.client())
    assert Order.objects.filter(market_id=late).exists()


def test_the_board_counts_and_says_why_each_order_holds_the_shipment(market):
    set_cutoff(market, 120)
    ready = ready_at_market(market, boxes=2)
    laid_out = ready_at_market(market, ready=False)
    bare = market.place([("MUG-001", 1)])["orderId"]
    gone = market.place([("MUG-001", 1)], status="CANCELLED", substatus="USER_CHANGED_MIND")["orderId"]
    mirror(market, market.business)
    Order.objects.filter(market_id=laid_out).update(layout_sent_version=1)  # packed here, not marked ready
    b = board(shipment_today())
    assert (b.planned, b.packed, b.ready, b.labelled, b.not_ready) == (3, 2, 1, 0, 2)
    reasons = {x.market_id: x.reason for x in b.blockers}
    assert set(reasons) == {laid_out, bare} and gone not in reasons
    assert reasons[bare] == "Ещё не собран"
    assert reasons[laid_out] == "Собран, но не отмечен готовым к отгрузке"
    assert [box.barcode for box in b.boxes] == [f"{ready}-1", f"{ready}-2"]


def test_a_reported_problem_is_the_reason_given(market):
    set_cutoff(market, 120)
    stuck = market.place([("MUG-001", 1)])["orderId"]
    mirror(market, market.business)
    Order.objects.filter(market_id=stuck).update(problem="MISSING")
    assert board(shipment_today()).blockers[0].reason == "Упаковщик сообщил о проблеме: Товара нет"


def test_the_screen_shows_shipments_with_a_live_countdown_for_packers_and_supervisors(client, market, packer,
                                                                                        supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(packer)
    page = client.get(reverse("shipments")).content.decode()
    assert str(shipment.market_id) in page and 'class="countdown" data-deadline="' in page
    assert "OUTBOUND_CREATED" not in page.replace('data-status="OUTBOUND_CREATED"', "")  # no raw enums
    assert "Формируется" in page or "формируется" in page
    detail = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert "Ещё не собран" in detail and "shipment-transfer" not in detail and 'id="confirm-form"' not in detail
    client.force_login(supervisor)
    detail = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert 'id="transfer-form"' in detail and 'id="confirm-form"' in detail and "индекс качества" in detail


def test_the_screen_is_for_staff_only_and_refuses_wrong_methods(client, market, outsider, packer):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(outsider)
    assert client.get(reverse("shipments")).status_code == 403
    client.force_login(packer)
    assert client.post(reverse("shipment", args=[shipment.pk])).status_code == 405
    assert client.post(reverse("shipment-confirm", args=[shipment.pk])).status_code == 403
    assert client.get(reverse("shipment-confirm", args=[shipment.pk])).status_code == 405


def test_the_live_address_gets_the_live_part_only(client, market, supervisor):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    client.force_login(supervisor)
    part = client.get(reverse("shipment-live", args=[shipment_today().pk])).content.decode()
    assert part.lstrip().startswith('<div id="shipment-live"') and "<html" not in part


def test_refresh_reads_the_shipment_again(market):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    shipment = shipment_today()
    extra = market.place([("MUG-001", 1)])["orderId"]
    assert extra in refresh_shipment(shipment.pk, client=market.client()).order_ids


def test_yesterdays_shipment_stays_on_the_screen_until_it_is_confirmed(market):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    shipment = shipment_today()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Shipment.objects.filter(pk=shipment.pk).update(shipment_date=yesterday, status="OUTBOUND_READY_FOR_CONFIRMATION")
    assert [b.shipment.pk for b in day_boards(timezone.localdate())] == [shipment.pk]
    Shipment.objects.filter(pk=shipment.pk).update(status="OUTBOUND_CONFIRMED")
    assert day_boards(timezone.localdate()) == []


def test_the_orders_of_the_shipment_are_listed_with_status_and_substatus_in_words(client, market, supervisor):
    set_cutoff(market, 120)
    ready = ready_at_market(market)
    waiting = market.place([("MUG-001", 1)])["orderId"]
    mirror(market, market.business)
    client.force_login(supervisor)
    page = client.get(reverse("shipment", args=[shipment_today().pk])).content.decode()
    orders = page[page.index('id="orders"'):]
    rows = {int(m): text for m, text in re.findall(r'<tr data-order="(\d+)">(.*?)</tr>', orders, re.S)}
    assert "В обработке: готов к отгрузке" in rows[ready]
    assert "В обработке: " in rows[waiting] and "Готов" not in rows[waiting]
    assert "READY_TO_SHIP" not in orders and "PROCESSING" not in orders
