"""The dock hand-over check: each box label of the shipment scanned once; a box of another shipment,
of a cancelled order or unknown is refused loudly; a second scan changes nothing; a box whose order
was cancelled after READY_TO_SHIP is called out to be taken off the pallet."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.models import AuditEvent, HandoverScan, Order, Shipment
from fulfilment.packing import dock
from fulfilment.packing.shipment_board import board

from .shipment_support import mirror, ready_at_market, set_cutoff, shipment_today, skip_near_midnight


@pytest.fixture
def day(market):
    skip_near_midnight()
    set_cutoff(market, 120)
    two = ready_at_market(market, boxes=2)
    one = ready_at_market(market)
    other = ready_at_market(market, shipment_in_days=1)
    mirror(market, market.business)
    return {"two": two, "one": one, "other": other, "shipment": shipment_today()}


def test_each_box_is_counted_once_and_a_second_scan_changes_nothing(day, packer):
    s = day["shipment"]
    assert dock.scan(s, f"{day['two']}-1", packer).ok
    again = dock.scan(s, f"{day['two']}-1", packer)
    assert not again.ok and not again.loud and "уже отсканирована" in again.message
    assert HandoverScan.objects.count() == 1
    b = board(s)
    assert [x.barcode for x in b.missing] == [f"{day['two']}-2", f"{day['one']}-1"] and not b.all_scanned


def test_a_box_of_another_shipment_is_refused_loudly_and_not_counted(day, packer):
    result = dock.scan(day["shipment"], f"{day['other']}-1", packer)
    tomorrow = Shipment.objects.exclude(pk=day["shipment"].pk).get()
    assert not result.ok and result.loud
    where = f"относится к отгрузке {tomorrow.market_id} от {tomorrow.shipment_date:%d.%m.%Y}, а не к этой"
    assert where in result.message
    assert not HandoverScan.objects.exists()
    assert AuditEvent.objects.filter(action="handover.refused").count() == 1  # the scan itself is kept


def test_an_unknown_label_and_a_cancelled_order_are_refused_loudly(day, market, packer):
    assert dock.scan(day["shipment"], "NOT-A-BOX", packer).loud
    Order.objects.filter(market_id=day["one"]).update(status="CANCELLED")
    result = dock.scan(day["shipment"], f"{day['one']}-1", packer)
    assert result.loud and "отменён" in result.message and not HandoverScan.objects.exists()


def test_all_boxes_scanned_is_said_and_a_box_cancelled_afterwards_is_called_out(client, day, market, supervisor):
    s = day["shipment"]
    for code in (f"{day['two']}-1", f"{day['two']}-2", f"{day['one']}-1"):
        assert dock.scan(s, code, supervisor).ok
    client.force_login(supervisor)
    assert "Отсканированы 3 коробки из 3 — все." in client.get(reverse("shipment", args=[s.pk])).content.decode()
    Order.objects.filter(market_id=day["one"]).update(status="CANCELLED")  # cancelled after READY_TO_SHIP
    page = client.get(reverse("dock", args=[s.pk])).content.decode()
    assert f"Коробка {day['one']}-1: заказ отменён — снимите её с паллеты" in page
    set_cutoff(market, -2)  # past the cutoff: only the box on the pallet stands in the way
    assert "Снимите с паллеты коробки отменённых заказов" in client.post(
        reverse("shipment-confirm", args=[s.pk]), follow=True).content.decode()
    kept = HandoverScan.objects.get(barcode=f"{day['two']}-1")
    assert "только коробку отменённого" in client.post(reverse("dock-take-off", args=[s.pk, kept.pk]),
                                                       follow=True).content.decode()
    scan = HandoverScan.objects.get(barcode=f"{day['one']}-1")
    client.post(reverse("dock-take-off", args=[s.pk, scan.pk]))
    assert not HandoverScan.objects.filter(pk=scan.pk).exists()
    assert "Отсканированы 2 коробки из 2 — все." in client.get(reverse("shipment", args=[s.pk])).content.decode()


def test_a_batch_of_scans_is_answered_with_the_panel_and_a_resent_batch_changes_nothing(client, day, packer):
    s = day["shipment"]
    client.force_login(packer)
    batch = {"scans": [{"id": str(uuid.uuid4()), "code": f"{day['two']}-1"},
                       {"id": str(uuid.uuid4()), "code": f"{day['other']}-1"}]}
    url = reverse("dock-scan", args=[s.pk])
    resp = client.post(url, json.dumps(batch), content_type="application/json")
    assert resp["X-Dock-Update"] == "full"
    html = resp.content.decode()
    assert 'id="dock-panel"' in html and "error loud" in html and "Отсканирована 1 коробка из 3." in html
    client.post(url, json.dumps(batch), content_type="application/json")
    assert HandoverScan.objects.count() == 1 and AuditEvent.objects.filter(action="handover.refused").count() == 1


def test_the_plain_form_counts_one_scan_and_bad_json_is_refused(client, day, packer):
    s = day["shipment"]
    client.force_login(packer)
    client.post(reverse("dock-scan", args=[s.pk]), {"code": f"{day['one']}-1"})
    assert HandoverScan.objects.count() == 1
    bad = client.post(reverse("dock-scan", args=[s.pk]), "{", content_type="application/json")
    assert bad.status_code == 400
    assert client.get(reverse("dock-scan", args=[s.pk])).status_code == 405


def test_the_dock_is_for_staff(client, day, outsider, packer):
    s = day["shipment"]
    client.force_login(outsider)
    assert client.get(reverse("dock", args=[s.pk])).status_code == 403
    scan = HandoverScan.objects.create(shipment=s, barcode="X")
    assert client.post(reverse("dock-take-off", args=[s.pk, scan.pk])).status_code == 403
    client.force_login(packer)
    assert client.get(reverse("dock", args=[s.pk])).status_code == 200
    assert client.get(reverse("dock-take-off", args=[s.pk, scan.pk])).status_code == 405
    assert Shipment.objects.count() >= 2


def test_the_packer_at_the_dock_marks_a_cancelled_orders_box_taken_off(client, day, packer):
    s = day["shipment"]
    assert dock.scan(s, f"{day['one']}-1", packer).ok
    Order.objects.filter(market_id=day["one"]).update(status="CANCELLED")  # cancelled after READY_TO_SHIP
    scan = HandoverScan.objects.get(barcode=f"{day['one']}-1")
    client.force_login(packer)
    page = client.get(reverse("dock", args=[s.pk])).content.decode()
    assert f"Коробка {day['one']}-1: заказ отменён — снимите её с паллеты" in page
    assert reverse("dock-take-off", args=[s.pk, scan.pk]) in page  # the packer has the button
    page = client.post(reverse("dock-take-off", args=[s.pk, scan.pk]), follow=True).content.decode()
    assert f"Коробка {day['one']}-1 снята с паллеты" in page
    assert not HandoverScan.objects.filter(pk=scan.pk).exists()
    event = AuditEvent.objects.get(action="handover.taken_off")
    assert event.user == packer and event.at is not None and event.payload["code"] == f"{day['one']}-1"
    assert f"{day['one']}-1 · {timezone.localtime(event.at):%H:%M} · {packer.get_username()}" in page  # who, when
    again = client.post(reverse("dock-take-off", args=[s.pk, scan.pk]), follow=True).content.decode()
    assert "уже нет в списке" in again and AuditEvent.objects.filter(action="handover.taken_off").count() == 1
