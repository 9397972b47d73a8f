"""What a new supervisor found on the Shipments screen: a confirmed shipment's dock took a box its act
does not list; a ready order without boxes let the dock say "all scanned"; codes on screen; refused
forms lost what was typed; the page went stale; 0 pallets taken for a shipment with ready orders."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders.models import AuditEvent, HandoverScan, Order, OutboxAction, Shipment
from fulfilment.packing import dock, shipping
from fulfilment.packing.shipment_board import board, refusal

from .shipment_support import mirror, ready_at_market, set_cutoff, shipment_today, skip_near_midnight


@pytest.fixture
def day(market):
    skip_near_midnight()
    set_cutoff(market, 120)
    one = ready_at_market(market)
    two = ready_at_market(market)
    late = ready_at_market(market, ready=False)
    mirror(market, market.business)
    return {"one": one, "two": two, "late": late, "shipment": shipment_today()}


def _confirmed(market, day, supervisor) -> Shipment:
    """Confirmed here after the cutoff without the late order (the supervisor ticked it), as the
    Market then says: confirmed and signed."""
    s = day["shipment"]
    for code in (f"{day['one']}-1", f"{day['two']}-1"):
        assert dock.scan(s, code, supervisor).ok
    set_cutoff(market, -2)
    fb = shipping.confirm(s, supervisor, signatory="ivan", not_ready_accepted=True)
    assert fb.ok, fb.message
    # On its way to the Market: the act is being signed with what was ready, the dock knows it already.
    assert board(s).act == {day["one"], day["two"]}
    Shipment.objects.filter(pk=s.pk).update(status="OUTBOUND_SIGNED", signed=True)
    return Shipment.objects.get(pk=s.pk)


def test_a_confirmed_shipments_dock_refuses_a_box_its_act_does_not_list(client, day, market, supervisor, packer):
    s = _confirmed(market, day, supervisor)
    # The late order is packed and made ready after the confirmation.
    Order.objects.filter(market_id=day["late"]).update(substatus="READY_TO_SHIP")
    with translation.override("ru"):
        result = dock.scan(s, f"{day['late']}-1", packer)
    assert not result.ok and result.loud
    assert "уже подтверждена" in result.message and "следующей отгрузкой" in result.message
    assert not HandoverScan.objects.filter(barcode=f"{day['late']}-1").exists()
    assert AuditEvent.objects.get(action="shipment.confirm").payload["orders"] == sorted([day["one"], day["two"]])
    b = board(s)
    assert b.all_scanned and [o.market_id for o in b.left_out] == [day["late"]] and b.planned == 2
    client.force_login(packer)
    page = client.get(reverse("dock", args=[s.pk])).content.decode()
    assert 'id="dock-confirmed"' in page and "подтверждена" in page
    client.force_login(supervisor)
    page = client.get(reverse("shipment", args=[s.pk])).content.decode()
    assert "Заказы, которые задерживают отгрузку" not in page and 'id="confirm-form"' not in page
    assert 'id="left-out"' in page and str(day["late"]) in page
    assert "акт подписан электронно</strong>" in page and "· акт подписан" not in page  # said once


def test_a_ready_order_without_boxes_holds_the_shipment_up_and_all_scanned_is_not_said(client, day, supervisor):
    s = day["shipment"]
    unboxed = Order.objects.get(market_id=day["two"])
    raw = unboxed.raw
    raw["delivery"].pop("boxesLayout", None)
    Order.objects.filter(pk=unboxed.pk).update(raw=raw)
    unboxed.boxes.all().delete()
    assert dock.scan(s, f"{day['one']}-1", supervisor).ok
    b = board(s)
    assert b.ready == 2 and b.unboxed == 1 and not b.all_scanned
    assert day["two"] in [x.market_id for x in b.blockers]
    client.force_login(supervisor)
    page = client.get(reverse("shipment", args=[s.pk])).content.decode()
    assert 'id="all-scanned"' not in page and "Отсканирована 1 коробка из 1." in page
    assert "не известно ни одной коробки" in page and "нет ярлыка для сканирования" in page


def test_a_delivered_order_is_not_counted_as_planned_or_ready(day):
    Order.objects.filter(market_id=day["one"]).update(status="DELIVERED", substatus="DELIVERED_USER_RECEIVED")
    b = board(day["shipment"])
    assert b.planned == 2 and b.ready == 1 and [o.market_id for o in b.delivered] == [day["one"]]
    assert f"{day['one']}-1" not in [x.barcode for x in b.boxes]


@pytest.mark.parametrize("value, words", [("USER_CHANGED_MIND", "покупатель передумал"),
                                          ("user_changed_mind", "покупатель передумал"),
                                          ("PICKUP_EXPIRED", "истёк срок хранения в пункте выдачи"),
                                          ("delivered_user_received", "получен покупателем"),
                                          ("READY_TO_SHIP", "готов к отгрузке"),
                                          ("SOMETHING_NEW", "")])
def test_substatuses_are_said_in_words_whatever_their_case(value, words):
    from fulfilment.packing.history import substatus_text
    with translation.override("ru"):
        assert substatus_text(value) == words


def test_the_shipments_order_table_has_no_codes(client, day, supervisor):
    Order.objects.filter(market_id=day["one"]).update(status="CANCELLED", substatus="USER_CHANGED_MIND")
    client.force_login(supervisor)
    page = client.get(reverse("shipment", args=[day["shipment"].pk])).content.decode()
    assert "Отменён: покупатель передумал" in page and "user_changed_mind" not in page.lower()


def test_a_refused_transfer_is_said_in_words_and_that_nothing_moved(day, supervisor):
    action = OutboxAction.objects.create(
        campaign=day["shipment"].campaign, kind=OutboxAction.Kind.TRANSFER, state=OutboxAction.State.FAILED,
        payload={"shipmentId": day["shipment"].market_id, "orderIds": [day["late"]]},
        market_errors=[{"code": "BAD_REQUEST", "message": "Orders can be transferred only while more than "
                                                          "30 minutes are left before the shipment is formed"}])
    with translation.override("ru"):
        r = refusal(action)
    assert "ничего не перенесено" in r.words and "30 минут" in r.words
    assert r.quoted[0].startswith("Orders can be transferred")


def test_a_refused_confirmation_keeps_what_was_typed(client, day, supervisor):
    client.force_login(supervisor)
    resp = client.post(reverse("shipment-confirm", args=[day["shipment"].pk]),
                       {"signatory": "ivan.petrov", "external_id": "SHIP-77", "not_ready_accepted": "yes"})
    page = resp.content.decode()
    assert "только после отсечки" in page and not OutboxAction.objects.filter(kind="CONFIRM_SHIPMENT").exists()
    assert 'value="ivan.petrov"' in page and 'value="SHIP-77"' in page
    assert 'name="not_ready_accepted" value="yes" checked' in page


def test_a_refused_transfer_keeps_the_ticked_orders(client, day, supervisor):
    client.force_login(supervisor)
    resp = client.post(reverse("shipment-transfer", args=[day["shipment"].pk]), {"orders": [str(day["late"])]})
    page = resp.content.decode()
    assert "Отметьте" in page and not OutboxAction.objects.filter(kind="TRANSFER").exists()
    assert f'value="{day["late"]}" form="transfer-form" aria-label="Перенести в следующую отгрузку" checked' in page
    ok = client.post(reverse("shipment-transfer", args=[day["shipment"].pk]),
                     {"orders": [str(day["late"])], "confirm": "yes"}, follow=True).content.decode()
    assert "отправляется в Маркет" in ok


def test_zero_pallets_for_a_shipment_with_ready_orders_is_refused_and_a_saved_count_is_shown(client, day, supervisor):
    s = day["shipment"]
    client.force_login(supervisor)
    page = client.post(reverse("shipment-pallets", args=[s.pk]), {"pallets": "0"}).content.decode()
    assert "хотя бы на 1 паллете" in page and not OutboxAction.objects.filter(kind="PALLETS").exists()
    assert 'name="pallets" min="0" max="999" inputmode="numeric" value="0"' in page  # as typed
    page = client.post(reverse("shipment-pallets", args=[s.pk]), {"pallets": "2"}, follow=True).content.decode()
    assert "2 паллеты: отправлено в Маркет" in page
    assert 'inputmode="numeric" value="2"' in page  # on its way: shown, not an empty field


def test_the_live_region_covers_the_lists_and_forms_and_answers_304_while_nothing_changed(client, day, supervisor):
    s = day["shipment"]
    client.force_login(supervisor)
    url = reverse("shipment-live", args=[s.pk])
    first = client.get(url)
    html = first.content.decode()
    assert first.status_code == 200 and "<html" not in html
    for part in ('id="blockers"', 'id="orders"', 'id="confirm-form"', 'id="pallets-form"', 'id="counts"'):
        assert part in html
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    dock.scan(s, f"{day['one']}-1", supervisor)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "Отсканирована 1 коробка из 2" in again.content.decode()
    Shipment.objects.filter(pk=s.pk).update(order_ids=[day["one"], day["two"]])  # the late order moved
    moved = client.get(url, HTTP_IF_NONE_MATCH=again["ETag"])
    assert moved.status_code == 200 and f'data-order="{day["late"]}"' not in moved.content.decode()


def test_the_shipments_list_follows_the_dock_without_a_reload(client, day, packer):
    client.force_login(packer)
    url = reverse("shipments-live")
    first = client.get(url)
    assert first.status_code == 200 and 'id="shipments"' in first.content.decode()
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    dock.scan(day["shipment"], f"{day['one']}-1", packer)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "1 / 2" in again.content.decode()
