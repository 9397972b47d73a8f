"""The supervisor's shift view in real Chromium under the page policy: the charts drawn from the
day's audit trail, each packer in the legend, the polled partial swapped in place, at desktop and
handheld width without sideways scrolling."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from fulfilment.orders.models import AuditEvent

from .builders import make_order
from .conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
# DOCS_SCREENSHOTS=1 refreshes the README's picture; otherwise it goes with the other test artifacts.
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("DOCS_SCREENSHOTS") == "1" else Path(
    os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts"))


def _event(action, hour, minute, user, order, **payload):
    e = AuditEvent.objects.create(action=action, user=user, order=order, payload=payload)
    when = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour, minute)))
    AuditEvent.objects.filter(pk=e.pk).update(at=when)


def test_the_supervisor_watches_the_shift(page, live_server, supervisor):
    anna = make_user("anna", "packer", first_name="Анна", last_name="Смирнова")
    boris = make_user("boris", "packer", first_name="Борис", last_name="Котов")
    today = timezone.localdate()
    for n, (who, hour) in enumerate([(anna, 9), (anna, 9), (boris, 9), (anna, 10), (boris, 10), (boris, 10),
                                     (anna, 11), (anna, 12), (boris, 13), (anna, 13), (anna, 14), (boris, 15)]):
        _event("outbox.layout", hour, 5 + n, who, make_order(substatus="READY_TO_SHIP"))
    order = make_order(shipment_date=today, shipment_time="16:00")
    unknown = "Неизвестный код {}: это не штрихкод товара, не код маркировки и не команда."
    for code in ("4601", "4602", "4603"):
        _event("scan.refused", 10, 1, anna, order, code=code, result=unknown.format(code))
    _event("scan.refused", 11, 1, boris, order, code="", result="Пустой скан.")
    for _ in range(3):
        make_order(shipment_date=today, shipment_time="16:00")
    make_order(shipment_date=today - dt.timedelta(days=1), shipment_time="12:00")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "svetlana")
    page.fill("#id_password", "pw-svetlana")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/supervisor/")
    page.click("a:text-is('Смена')")
    page.wait_for_url("**/supervisor/shift/")
    assert "Упаковано: 12 заказов" in page.inner_text("#shift-packed h2")
    assert page.locator("#shift-packed svg.chart rect").count() == 10  # one bar part per packer and hour
    assert page.locator("#shift-packed line.cutoff").count() == 1
    legend = page.inner_text("#shift-packed figcaption")
    assert "Анна Смирнова" in legend and "Борис Котов" in legend
    assert "Неизвестный код …: это не штрихкод" in page.inner_text("#shift-refused")
    waiting = page.inner_text("#shift-waiting")
    assert "просрочено (прошлые дни)" in waiting and "16:00" in waiting
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(SHOTS / "shift-1366x768.png"), full_page=True)

    # The polled partial replaces the charts in place with the new numbers.
    _event("outbox.layout", 15, 30, anna, make_order(substatus="READY_TO_SHIP"))
    page.evaluate(  # no minute's wait: ask as the poll would
        "htmx.ajax('GET', location.pathname, {target: '#shift-charts', swap: 'outerHTML'})")
    page.wait_for_function("document.querySelector('#shift-packed h2').textContent.includes('13')")
    assert page.locator("#shift-charts").count() == 1

    page.set_viewport_size({"width": 360, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
