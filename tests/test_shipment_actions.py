"""The supervisor's shipment actions, through the outbox to the sandbox Market over HTTP: moving
late orders (the 30-minute rule checked first), the pallets count, confirmation (the Market's own
refusal before the cutoff shown as received) and the seller's order number."""

from __future__ import annotations

import pytest
import requests
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fulfilment.market.changes import StatusChange
from fulfilment.market.shipment_changes import ExternalOrderId, PalletsCount, ShipmentConfirm, ShipmentTransfer
from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, Order, OutboxAction, Shipment
from fulfilment.orders.shipments import refresh_shipment
from fulfilment.packing import dock, shipping

from .shipment_support import (
    control,
    mirror,
    ready_at_market,
    received,
    set_cutoff,
    shipment_today,
    skip_near_midnight,
)

State = OutboxAction.State


@pytest.fixture(autouse=True)
def _day():
    skip_near_midnight()


def deliver_all(sandbox) -> list[str]:
    return [outbox.deliver(a.pk, client=sandbox.client())[0]
            for a in OutboxAction.objects.filter(state=State.PENDING).order_by("id")]


def test_the_changes_read_back_as_they_were_written():
    for change in (ShipmentTransfer(7, (1, 2)), PalletsCount(7, 3), ShipmentConfirm(7, "S-1", "ivanov"),
                   ExternalOrderId("A-100")):
        assert type(change).from_json(change.to_json()) == change
    with pytest.raises(ValueError):
        ShipmentConfirm(7, signatory="ivanov@yandex.ru")
    with pytest.raises(ValueError):
        ExternalOrderId("Заказ-1")


# --- transfer ------------------------------------------------------------------------------------
def test_a_late_order_is_moved_to_the_next_shipment_after_the_warning_is_confirmed(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    late = market.place([("MUG-001", 1)])["orderId"]
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(supervisor)
    url = reverse("shipment-transfer", args=[shipment.pk])
    page = client.post(url, {"orders": [late]}, follow=True).content.decode()
    assert "индекс качества" in page and not OutboxAction.objects.exists()  # not confirmed: nothing sent
    client.post(url, {"orders": [late], "confirm": "yes"})
    assert deliver_all(market) == [State.DELIVERED]
    assert received(market, "transferOrdersFromShipment")[-1]["body"] == {"orderIds": [late]}
    assert late not in refresh_shipment(shipment.pk, client=market.client()).order_ids
    mirror(market, market.business)
    assert Shipment.objects.filter(order_ids=[late]).exists()


def test_a_transfer_within_30_minutes_of_the_cutoff_is_refused_here_and_nothing_is_sent(market, supervisor):
    set_cutoff(market, 20)
    late = market.place([("MUG-001", 1)])["orderId"]
    mirror(market, market.business)
    fb = shipping.transfer(shipment_today(), [late], supervisor, confirmed=True)
    assert not fb.ok and "30 минут" in fb.message
    assert not OutboxAction.objects.exists() and not received(market, "transferOrdersFromShipment")


def test_a_transfer_of_an_order_not_in_the_shipment_or_cancelled_is_refused(market, supervisor):
    set_cutoff(market, 120)
    gone = market.place([("MUG-001", 1)], status="CANCELLED", substatus="USER_CHANGED_MIND")["orderId"]
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    shipment = shipment_today()
    assert "не входят" in shipping.transfer(shipment, [123], supervisor, confirmed=True).message
    assert "отменены" in shipping.transfer(shipment, [gone], supervisor, confirmed=True).message
    assert "не больше 500" in shipping.transfer(shipment, list(range(1, 502)), supervisor, confirmed=True).message
    assert not OutboxAction.objects.exists()


# --- pallets and confirmation --------------------------------------------------------------------
def test_the_pallets_count_goes_to_the_market(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(supervisor)
    page = client.post(reverse("shipment-pallets", args=[shipment.pk]), {"pallets": "abc"}, follow=True)
    assert "целое число" in page.content.decode() and not OutboxAction.objects.exists()
    client.post(reverse("shipment-pallets", args=[shipment.pk]), {"pallets": "2"})
    assert deliver_all(market) == [State.DELIVERED]
    assert received(market, "setShipmentPalletsCount")[-1]["body"] == {"placesCount": 2}
    assert refresh_shipment(shipment.pk, client=market.client()).pallets_planned == 2


def test_a_confirmation_before_the_cutoff_is_refused_here_and_nothing_is_sent(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(supervisor)
    page = client.post(reverse("shipment-confirm", args=[shipment.pk]), {"missing_accepted": "yes",
                                                                         "not_ready_accepted": "yes"},
                       follow=True).content.decode()
    cutoff = shipment.cutoff().astimezone(timezone.get_default_timezone()).strftime("%H:%M")
    assert f"Подтвердить отгрузку можно только после отсечки в {cutoff}" in page
    assert not OutboxAction.objects.exists() and not received(market, "confirmShipment")
    assert not AuditEvent.objects.filter(action="shipment.confirm").exists()


def test_when_the_markets_clock_is_behind_its_refusal_is_said_in_words_with_its_text_as_received(
        client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    set_cutoff(market, -2)  # past the cutoff here, but the Market's clock is ten minutes behind
    requests.post(f"{market.url}/_sandbox/clock", json={"offsetSeconds": -600}, timeout=5).raise_for_status()
    shipment = refresh_shipment(shipment_today().pk, client=market.client())
    assert shipment.status == "OUTBOUND_CREATED"
    client.force_login(supervisor)
    client.post(reverse("shipment-confirm", args=[shipment.pk]), {"missing_accepted": "yes"})
    assert deliver_all(market) == [State.FAILED]
    live = client.get(reverse("shipment", args=[shipment.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "Маркет отказал в подтверждении отгрузки: по его часам отсечка ещё не наступила" in live
    assert "<q>Cutoff time for shipments has not been reached yet</q>" in live  # quoted as received
    assert refresh_shipment(shipment.pk, client=market.client()).status == "OUTBOUND_CREATED"  # nothing changed


def test_confirmation_is_refused_while_orders_are_not_ready_unless_the_supervisor_goes_anyway(
        client, market, supervisor):
    set_cutoff(market, 120)
    ready = ready_at_market(market)
    unready = sorted(market.place([("MUG-001", 1)])["orderId"] for _ in range(2))
    mirror(market, market.business)
    set_cutoff(market, -2)
    shipment = refresh_shipment(shipment_today().pk, client=market.client())
    assert dock.scan(shipment, f"{ready}-1", supervisor).ok  # every box of the ready order is scanned
    client.force_login(supervisor)
    url = reverse("shipment-confirm", args=[shipment.pk])
    page = client.post(url, follow=True).content.decode()
    assert f"2 заказа из 3 не готовы к отгрузке: {unready[0]}, {unready[1]}" in page
    assert 'name="not_ready_accepted"' in page and not OutboxAction.objects.exists()
    client.post(url, {"not_ready_accepted": "yes"})
    assert deliver_all(market) == [State.DELIVERED]
    event = AuditEvent.objects.get(action="shipment.confirm")
    assert event.user == supervisor and event.payload["not_ready"] == unready and event.payload["not_ready_accepted"]


def test_confirmation_waits_for_every_box_to_be_scanned_unless_the_supervisor_accepts(market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market, boxes=2)
    mirror(market, market.business)
    set_cutoff(market, -2)
    fb = shipping.confirm(refresh_shipment(shipment_today().pk, client=market.client()), supervisor)
    assert not fb.ok and "2 коробки" in fb.message and not OutboxAction.objects.exists()


def test_after_the_cutoff_the_shipment_is_confirmed_with_the_signatory(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    set_cutoff(market, -2)
    shipment = refresh_shipment(shipment_today().pk, client=market.client())
    assert shipment.status == "OUTBOUND_READY_FOR_CONFIRMATION"
    client.force_login(supervisor)
    page = client.post(reverse("shipment-confirm", args=[shipment.pk]),
                       {"signatory": "a@yandex.ru", "missing_accepted": "yes"}, follow=True).content.decode()
    assert "без @yandex.ru" in page and not OutboxAction.objects.exists()
    client.post(reverse("shipment-confirm", args=[shipment.pk]), {"signatory": "ivanov", "missing_accepted": "yes",
                                                                  "external_id": "SHIP-7"})
    assert deliver_all(market) == [State.DELIVERED]
    assert received(market, "confirmShipment")[-1]["body"] == {"externalShipmentId": "SHIP-7", "signatory": "ivanov"}
    shipment = refresh_shipment(shipment.pk, client=market.client())
    assert shipment.status == "OUTBOUND_SIGNED" and shipment.signed and "DOWNLOAD_ACT" in shipment.available_actions
    act = client.get(reverse("shipment-document", args=[shipment.pk, "act"]))
    assert act["Content-Type"] == "application/pdf" and act.content.startswith(b"%PDF")


def test_documents_not_offered_by_the_market_are_not_fetched(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(supervisor)
    page = client.get(reverse("shipment-document", args=[shipment.pk, "act"]), follow=True).content.decode()
    assert "не предлагает" in page and not received(market, "downloadShipmentAct")
    assert client.get(reverse("shipment-document", args=[shipment.pk, "nonsense"])).status_code == 404


def test_the_inbound_and_discrepancy_acts_once_the_market_has_them(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    ready_at_market(market)
    mirror(market, market.business)
    set_cutoff(market, -2)
    shipment = shipment_today()
    control(market, shipment.market_id, status="ACCEPTED_WITH_DISCREPANCIES")
    control(market, shipment.market_id, status="FINISHED")
    shipment = refresh_shipment(shipment.pk, client=market.client())
    client.force_login(supervisor)
    page = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert "inbound-act" in page and "discrepancy-act" in page
    assert client.get(reverse("shipment-document", args=[shipment.pk, "inbound-act"])).content.startswith(b"%PDF")
    xlsx = client.get(reverse("shipment-document", args=[shipment.pk, "discrepancy-act"]))
    assert xlsx.content.startswith(b"PK") and "attachment" in xlsx["Content-Disposition"]


def test_the_waybill_when_the_market_collects(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    set_cutoff(market, -2)
    shipment = shipment_today()
    control(market, shipment.market_id, type="WITHDRAW", status="OUTBOUND_CONFIRMED")
    shipment = refresh_shipment(shipment.pk, client=market.client())
    client.force_login(supervisor)
    assert client.get(reverse("shipment-document", args=[shipment.pk, "waybill"])).content.startswith(b"PK")


# --- the seller's order number ---------------------------------------------------------------------
def test_the_sellers_number_goes_before_ready_to_ship_and_is_shown(client, market, supervisor):
    set_cutoff(market, 120)
    placed = market.place([("MUG-001", 1)])["orderId"]
    mirror(market, market.business)
    order = Order.objects.get(market_id=placed)
    shipment = shipment_today()
    client.force_login(supervisor)
    url = reverse("shipment-external-id", args=[shipment.pk, order.pk])
    page = client.post(url, {"external_id": "Заказ 5"}, follow=True).content.decode()
    assert "ASCII" in page and not OutboxAction.objects.exists()
    client.post(url, {"external_id": "SHOP-5"})
    assert "SHOP-5" in client.get(reverse("shipment", args=[shipment.pk])).content.decode()  # shown while sent
    assert deliver_all(market) == [State.DELIVERED]
    order.refresh_from_db()
    assert order.external_order_id == "SHOP-5" and market.stored(placed)["externalOrderId"] == "SHOP-5"
    assert "Номер продавца: SHOP-5" in client.get(reverse("order", args=[order.pk])).content.decode()
    again = shipping.set_external_id(order, "SHOP-6", supervisor)
    assert not again.ok and "только один раз" in again.message


def test_no_sellers_number_once_the_order_is_ready(market, supervisor):
    set_cutoff(market, 120)
    placed = ready_at_market(market)
    mirror(market, market.business)
    fb = shipping.set_external_id(Order.objects.get(market_id=placed), "SHOP-9", supervisor)
    assert not fb.ok and "до того" in fb.message and not OutboxAction.objects.exists()


def test_a_ready_to_ship_asked_after_the_sellers_number_waits_for_it(market, supervisor):
    set_cutoff(market, 120)
    placed = ready_at_market(market, ready=False)
    mirror(market, market.business)
    order = Order.objects.get(market_id=placed)
    assert shipping.set_external_id(order, "SHOP-8", supervisor).ok
    with transaction.atomic():
        ready = outbox.enqueue(order.campaign, StatusChange("PROCESSING", "READY_TO_SHIP"), order=order)
    number = OutboxAction.objects.get(kind=OutboxAction.Kind.EXTERNAL_ID)
    assert outbox.deliver(ready.pk, client=market.client())[0] == State.PENDING  # the number goes first
    assert outbox.deliver(number.pk, client=market.client())[0] == State.DELIVERED
    assert outbox.deliver(ready.pk, client=market.client())[0] == State.DELIVERED
    stored = market.stored(placed)
    assert stored["externalOrderId"] == "SHOP-8" and stored["substatus"] == "READY_TO_SHIP"
