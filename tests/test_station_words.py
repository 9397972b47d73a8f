"""What the packer station says, as a new packer read it (issue 16): the problem report confirmed on
the queue, optional codes called optional, every waiting order on the shift view, refusals for the
order's state apart from packing mistakes, the history in words, every split on the command sheet."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.models import AuditEvent, Order, OrderItem
from fulfilment.packing import scanning, shift
from fulfilment.packing.history import event_text, event_who
from fulfilment.packing.station import SPLIT_PARTS
from fulfilment.sandbox.seed import CATALOG, make_cis

from .builders import make_campaign, make_order

pytestmark = pytest.mark.django_db


def _codes_cell(html: str, market_id: int) -> str:
    """The «Нужны коды» cell of the queue's row for that order."""
    start = html.index(f'aria-label="{market_id}"')
    return re.search(r'data-label="Нужны коды">(.*?)</td>', html[start:], re.S).group(1).strip()


def test_a_problem_reported_by_scan_is_confirmed_on_the_queue(client, packer):
    order = make_order()
    fb = scanning.scan(order.pk, packer, "CMD-PROBLEM-DEFECTIVE")
    assert fb.ok and fb.redirect
    client.force_login(packer)
    html = client.get(fb.redirect).content.decode()
    box = re.search(r'<div id="reported"[^>]*>(.*?)</div>', html, re.S)
    assert box, "no confirmation on the queue after the report"
    assert 'role="status"' in box.group(0) and 'aria-live="polite"' in box.group(0)
    text = box.group(1)
    assert str(order.market_id) in text and "Товар с браком" in text
    assert "старш" in text.lower() and "вернуть" in text  # who decides, and how it is put back
    assert 'aria-describedby="reported"' in html  # read out with the scan field's focus
    # Said once: the page links do not carry it on.
    assert not re.search(r'href="\?[^"]*reported=', html)


def test_the_confirmation_is_only_for_the_packer_who_reported_it(client, packer, supervisor):
    order = make_order()
    scanning.scan(order.pk, packer, "CMD-PROBLEM-MISSING")
    client.force_login(supervisor)
    assert 'id="reported"' not in client.get(reverse("queue") + f"?reported={order.pk}").content.decode()


def test_the_queue_calls_optional_codes_optional_as_the_order_screen_does(client, packer):
    campaign = make_campaign()
    optional = make_order(campaign, items=(("A", 2),), buyer_type="PERSON")
    cis_person = make_order(campaign, items=(("B", 1),), buyer_type="PERSON")
    cis_business = make_order(campaign, items=(("C", 1),), buyer_type="BUSINESS")
    uin = make_order(campaign, items=(("D", 1),), buyer_type="PERSON")
    none = make_order(campaign, items=(("E", 1),))
    OrderItem.objects.filter(order=optional).update(required_instance_types=["CIS_OPTIONAL"])
    OrderItem.objects.filter(order__in=(cis_person, cis_business)).update(required_instance_types=["CIS"])
    OrderItem.objects.filter(order=uin).update(required_instance_types=["UIN"])
    client.force_login(packer)
    html = client.get(reverse("queue")).content.decode()
    assert _codes_cell(html, optional.market_id) == "необязательно"
    assert _codes_cell(html, cis_person.market_id) == "необязательно"  # Честный ЗНАК: optional for a person
    assert _codes_cell(html, cis_business.market_id) == "да"
    assert _codes_cell(html, uin.market_id) == "да"
    assert _codes_cell(html, none.market_id) == "—"
    page = client.get(reverse("order", args=[optional.pk])).content.decode()
    assert "необязательно" in page


def test_the_shift_view_shows_every_waiting_order_by_shipment_in_words(client, supervisor, packer):
    today = timezone.localdate()
    campaign = make_campaign()
    for date, n in ((today - dt.timedelta(days=1), 1), (today, 2), (today + dt.timedelta(days=1), 3),
                    (today + dt.timedelta(days=5), 4), (None, 5)):
        for _i in range(n):
            make_order(campaign, shipment_date=date)
    waiting = dict(shift.read(today).waiting)
    later = f"позже: {(today + dt.timedelta(days=5)).day} "
    assert waiting["просрочено (прошлые дни)"] == 1 and waiting["завтра"] == 3 and waiting["без даты отгрузки"] == 5
    assert [n for label, n in waiting.items() if label.startswith(later)] == [4]
    assert sum(waiting.values()) == Order.objects.to_pack().count() == 15
    client.force_login(packer)
    assert "15 заказов" in client.get(reverse("queue")).content.decode()  # the queue's count is the same
    client.force_login(supervisor)
    html = client.get(reverse("supervisor-shift")).content.decode()
    section = html[html.index('id="shift-waiting"'):]
    assert "завтра" in section and "без даты отгрузки" in section and later.strip() in section


def test_refusals_for_the_orders_state_are_not_counted_as_packing_mistakes(client, supervisor, packer):
    open_order = make_order()
    cancelled = make_order(status="CANCELLED", substatus="SHOP_FAILED")
    delivered = make_order(status="DELIVERED", substatus="")
    scanning.scan(open_order.pk, packer, "CMD-LABELS")  # labels before Finish
    scanning.scan(cancelled.pk, packer, "CMD-NEW-BOX")
    scanning.scan(delivered.pk, packer, "CMD-NEW-BOX")
    unknown = "XYZ-NOT-A-CODE-AT-ALL-1234567890"
    scanning.scan(open_order.pk, packer, unknown)  # a packing mistake
    data = shift.read(timezone.localdate())
    assert sum(n for _r, n in data.refused) == 1
    assert sum(n for _r, n in data.not_mistakes) == 3
    client.force_login(supervisor)
    html = client.get(reverse("supervisor-shift")).content.decode()
    assert "не ошибки сборки" in html
    # The reason whole (it wraps), not cut at 40 characters.
    mistake = data.refused[0][0]
    assert len(mistake) > 40 and mistake in html.replace("&#x27;", "'").replace("&quot;", '"')


def test_the_history_says_market_and_shortens_marking_codes(packer):
    order = make_order()
    flagged = AuditEvent.objects.create(order=order, user=None, action="flagged", payload={"reason": "x"})
    assert event_who(flagged) == "Маркет"
    code = make_cis(CATALOG["MUG-001"], random.Random(7)).replace("\x1d", "<GS>")
    assert len(code) > 60
    scan = AuditEvent.objects.create(order=order, user=packer, action="scan.refused",
                                     payload={"code": code, "result": "нет"})
    assert event_who(scan) == packer.username
    text = event_text(scan)
    assert "<GS>" not in text and len(text) < 80, text
    assert CATALOG["MUG-001"].gtin.zfill(14) in text and "…" in text
    full = event_text(scan, full=True)
    assert "<GS>" not in full and "␝" in full and code.replace("<GS>", "␝") in full


def test_the_history_on_the_order_screen_shows_them(client, packer):
    order = make_order()
    AuditEvent.objects.create(order=order, user=None, action="flagged", payload={"reason": "x"})
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    history = html[html.index('class="history"'):]
    assert "· Маркет ·" in history


def test_the_command_sheet_prints_every_split_the_station_knows(client, packer):
    client.force_login(packer)
    html = client.get(reverse("scanner-sheet")).content.decode()
    assert list(SPLIT_PARTS) == [2, 3, 4, 5, 6]
    for n in SPLIT_PARTS:
        assert f"CMD-SPLIT-{n}" in html, n
    assert f"CMD-SPLIT-{SPLIT_PARTS[-1] + 1}" not in html
