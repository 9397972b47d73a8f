"""The supervisor's shift view: a known set of audit events gives exact counts per hour per packer,
refusals by reason, the orders waiting; the page, its polled charts and its CSV; the roles."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.orders.models import AuditEvent
from fulfilment.packing import shift

from .builders import make_order
from .conftest import make_user

DAY = dt.date(2026, 11, 30)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def at(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


def event(action: str, when: dt.datetime, user=None, order=None, **payload: object) -> AuditEvent:
    e = AuditEvent.objects.create(action=action, user=user, order=order, payload=payload)
    AuditEvent.objects.filter(pk=e.pk).update(at=when)  # "at" is set on insert: move it to the test's hour
    return e


@pytest.fixture
def day_of_work(packer):
    ivan = make_user("ivan", "packer", first_name="Иван", last_name="Петров")
    a, b, c, d, old, late = (make_order(status="PROCESSING", substatus="READY_TO_SHIP") for _ in range(6))
    event("outbox.layout", at(DAY, 9, 10), packer, a)
    event("outbox.layout", at(DAY, 9, 50), packer, b)
    event("outbox.layout", at(DAY, 10, 5), packer, c)
    event("outbox.layout", at(DAY, 10, 30), packer, a)  # finished again after a change: still one order
    event("outbox.identifiers", at(DAY, 9, 20), ivan, d)  # DBS: codes and cargo places, one order
    event("outbox.cargo_places", at(DAY, 9, 21), ivan, d)
    event("outbox.layout", at(DAY - dt.timedelta(days=1), 23, 59), packer, old)  # the day before
    event("outbox.layout", at(DAY + dt.timedelta(days=1), 0, 0), packer, late)  # the day after
    event("outbox.delivered", at(DAY, 9, 30), None, a)  # not packing
    event("scan.refused", at(DAY, 9, 1), packer, a, code="4601", result="Unknown code 4601: not a product barcode.")
    event("scan.refused", at(DAY, 11, 2), ivan, d, code="77", result="Unknown code 77: not a product barcode.")
    event("scan.refused", at(DAY, 11, 3), ivan, d, code="", result="Empty scan.")
    event("scan.refused", at(DAY + dt.timedelta(days=1), 8, 0), ivan, d, code="", result="Empty scan.")
    for when in ("14:00", "14:00", "18:00"):
        make_order(shipment_date=DAY, shipment_time=when)
    make_order(shipment_date=DAY - dt.timedelta(days=2), shipment_time="14:00")  # overdue
    make_order(shipment_date=DAY + dt.timedelta(days=1), shipment_time="14:00")  # tomorrow's: waiting too (issue 16)
    make_order(shipment_date=DAY, shipment_time="12:00", status="PROCESSING", substatus="READY_TO_SHIP")
    return packer, ivan


def test_it_counts_orders_packed_per_hour_per_packer(day_of_work):
    s = shift.read(DAY)
    assert {name: dict(c) for name, c in s.packed.items()} == {"pavel": {9: 2, 10: 1}, "Иван Петров": {9: 1}}
    assert s.total_packed() == 4
    assert s.per_packer() == [("pavel", 3, Decimal("1.5")), ("Иван Петров", 1, Decimal("1.0"))]


def test_it_counts_refused_scans_by_reason_without_their_values(day_of_work):
    assert shift.read(DAY).refused == [("Unknown code …: not a product barcode.", 2), ("Empty scan.", 1)]


def test_it_counts_orders_waiting_by_shipment_and_the_cutoffs(day_of_work):
    s = shift.read(DAY)
    assert s.waiting == [("просрочено (прошлые дни)", 1), ("сегодня в 14:00", 2), ("сегодня в 18:00", 1),
                         ("завтра", 1)]
    assert s.cutoffs == {"12:00": 1, "14:00": 2, "18:00": 1}
    assert s.hours == list(range(8, 20))


def test_the_chart_stacks_each_hour_and_marks_the_cutoffs(day_of_work):
    chart = shift.packed_chart(shift.read(DAY))
    titles = sorted(b.title for b in chart["bars"])
    assert titles == ["09:00 pavel: 2", "09:00 Иван Петров: 1", "10:00 pavel: 1"]
    assert [t for _x, t, _n in chart["cutoffs"]] == ["12:00", "14:00", "18:00"]
    nine = [b for b in chart["bars"] if b.title.startswith("09:00")]
    assert sum(b.h for b in nine) == pytest.approx(chart["base"] - chart["top_y"])  # the tallest hour fills it


def test_the_shift_queries_use_the_action_and_time_index(day_of_work):
    start, end = shift.bounds(DAY)
    qs = AuditEvent.objects.filter(action__in=shift.PACKED_ACTIONS, at__gte=start, at__lt=end)
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")  # a tiny table would be read whole: ask which index fits
        plan = qs.explain()
        cur.execute("RESET enable_seqscan")
    # Either index bounds the read to the shift (on a big table the planner takes (action, at)).
    assert "Seq Scan" not in plan and ("audit_action_at_idx" in plan or "auditevent_at" in plan), plan
    assert "Index Cond" in plan and "at >=" in plan.split("Index Cond", 1)[1], plan


def test_the_page_shows_the_charts_and_polls_them_today(client, day_of_work, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("supervisor-shift"), {"day": DAY.isoformat()}).content.decode()
    assert "Упаковано: 4 заказа" in html and "<svg" in html and "Иван Петров" in html
    assert "every 60s" not in html  # a past day does not change
    today = client.get(reverse("supervisor-shift")).content.decode()
    assert 'hx-trigger="every 60s"' in today
    partial = client.get(reverse("supervisor-shift"), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="shift-charts"') and "<h1>" not in partial


def test_the_csv_has_the_same_numbers_in_russian_spreadsheet_form(client, day_of_work, supervisor):
    client.force_login(supervisor)
    resp = client.get(reverse("supervisor-shift-csv"), {"day": DAY.isoformat()})
    body = resp.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Раздел", "Час или причина", "Упаковщик", "Количество", "Заказов в час"]
    assert ["Упаковано", "09:00", "pavel", "2", ""] in rows
    assert ["Упаковано", "09:00", "Иван Петров", "1", ""] in rows
    assert ["Упаковано", "10:00", "pavel", "1", ""] in rows
    assert ["Упаковано за смену", "", "pavel", "3", "1,5"] in rows
    assert ["Отказы при сканировании", "Empty scan.", "", "1", ""] in rows
    assert ["Ждут сборки", "сегодня в 14:00", "", "2", ""] in rows


def test_a_bad_day_says_why_and_shows_today(client, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("supervisor-shift"), {"day": "30.13.2026"}).content.decode()
    assert "Введите правильную дату" in html and 'hx-trigger="every 60s"' in html


@pytest.mark.parametrize("name", ["supervisor-shift", "supervisor-shift-csv"])
def test_it_requires_the_supervisor_role(client, packer, name):
    client.force_login(packer)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["supervisor-shift", "supervisor-shift-csv"])
def test_it_takes_only_get(client, supervisor, name):
    client.force_login(supervisor)
    assert client.post(reverse(name)).status_code == 405
