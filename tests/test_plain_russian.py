"""Plain Russian on screen: statuses, code kinds and label formats in words, the history as sentences,
plural forms that agree with the number, one word per thing (issue 16)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders.models import AuditEvent
from fulfilment.packing import history, scanning
from fulfilment.packing.state import PackState
from fulfilment.sandbox.seed import CATALOG

from .builders import make_linked_order

pytestmark = pytest.mark.django_db
MUG = CATALOG["MUG-001"].ean13
SHOES = ("0104601234567893215Ek!qZ7w+Ta0r\u001d91EE06\u001d92FMTahov29ELSZgnu18DKRYfmt07CJQXelsz6BIPWdkry5AHOVcjqx4"
         "/GNUbipw3+FMTahov29ELSZgnu18DKRYf=")


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def test_statuses_code_kinds_and_label_formats_are_words():
    assert history.status_text("READY_TO_SHIP") == "Готов к отгрузке"
    assert history.status_text("PROCESSING") == "В обработке"
    assert history.status_text("CANCELLED_IN_PROCESSING") == "Отменён во время сборки"
    assert history.status_text("SOMETHING_NEW") == "SOMETHING_NEW"  # the Market's new value, as it said it
    assert history.kinds_text(["CIS", "CIS_OPTIONAL"]) == "Код Честного ЗНАКа, Код Честного ЗНАКа (необязательно)"
    assert history.label_format_text("A9_HORIZONTALLY") == "Этикетка A9, горизонтальная (52×37 мм)"


def test_the_only_unit_already_in_a_box_is_said_in_the_singular(packer):
    order = make_linked_order(items=(("MUG-001", 1),))
    assert scanning.scan(order.pk, packer, MUG).ok
    again = scanning.scan(order.pk, packer, MUG)
    assert not again.ok and again.message == "Единственная единица MUG-001 уже в коробке."


def test_codes_missing_agree_with_the_number_and_the_kind_is_said_once(packer):
    order = make_linked_order(items=(("SHOES-RUN-42", 1),), buyer_type="BUSINESS")
    item = order.items.get()
    item.required_instance_types = ["CIS"]
    item.save()
    scanning.scan(order.pk, packer, CATALOG["SHOES-RUN-42"].ean13)
    order.refresh_from_db()
    problems = PackState(order).layout_problems()
    assert "SHOES-RUN-42: отсканировано 0 из 1 кода (Код Честного ЗНАКа)." in problems
    fb = scanning.scan(order.pk, packer, SHOES)
    assert fb.ok and fb.message.startswith("Код Честного ЗНАКа для SHOES-RUN-42 (1 из 1)"), fb.message
    assert "Код «Код" not in fb.message


def test_the_history_is_in_words_never_event_names_or_data(client, packer):
    order = make_linked_order(items=(("MUG-001", 2),))
    scanning.scan(order.pk, packer, MUG)
    scanning.scan(order.pk, packer, "12345")
    AuditEvent.objects.create(order=order, action="outbox.delivered", payload={"action": 1, "kind": "LAYOUT"})
    AuditEvent.objects.create(order=order, action="item.reduce", user=packer,
                              payload={"item": 5, "sku": "MUG-001", "from": 2, "to": 1})
    AuditEvent.objects.create(order=order, action="something.new", payload={"x": 1})
    texts = [history.event_text(e) for e in order.audit_events.all()]
    assert "Маркет принял: раскладка по коробкам" in texts
    assert "Товар MUG-001: количество уменьшено с 2 до 1" in texts
    assert "Другое событие" in texts
    assert any(t.startswith("Скан 12345 не принят: ") for t in texts), texts
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "scan.refused" not in html and "outbox.delivered" not in html and "{&#x27;" not in html
    assert "Скан 12345 не принят" in html


def test_the_queue_says_which_orders_need_codes_in_words(client, packer):
    # Честный ЗНАК is a must for a business buyer, optional for a person (as the order screen says).
    order = make_linked_order(items=(("SHOES-RUN-42", 1),), buyer_type="BUSINESS")
    order.items.update(required_instance_types=["CIS"])
    client.force_login(packer)
    html = client.get(reverse("queue")).content.decode()
    assert "Нужны коды" in html and "placeholder=\"Заказ, SKU или название\"" in html
    assert "В обработке / Начат" in html and "/ STARTED<" not in html
    assert '<td data-label="Нужны коды">да</td>' in html
    order.buyer_type = "PERSON"
    order.save(update_fields=["buyer_type"])
    html = client.get(reverse("queue")).content.decode()
    assert '<td data-label="Нужны коды">необязательно</td>' in html


def test_the_sandbox_has_one_name():
    from pathlib import Path

    po = (Path(__file__).resolve().parent.parent / "fulfilment/locale/ru/LC_MESSAGES/django.po").read_text("utf-8")
    msgstrs = "\n".join(line for line in po.splitlines() if line.startswith("msgstr"))
    assert "есочниц" not in msgstrs and "Sandbox" not in msgstrs


def test_the_report_shows_the_last_seven_days_at_once(client, market, supervisor):
    import datetime as dt

    market.place([("MUG-001", 2)], created_ago=dt.timedelta(days=1))
    client.force_login(supervisor)
    page = client.get(reverse("supervisor-report"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<th>Заказов</th><td>1</td>" in html or "<th>Заказы</th><td>1</td>" in html, html[html.find("<h2"):][:600]


@pytest.mark.django_db
def test_a_packer_on_a_supervisors_page_is_told_in_russian_and_led_back(client, packer):
    client.force_login(packer)
    resp = client.get("/supervisor/")
    html = resp.content.decode()
    assert resp.status_code == 403 and "Нет доступа" in html and "старшему смены" in html
    assert 'href="/"' in html and "Forbidden" not in html


@pytest.mark.django_db
def test_an_unknown_address_is_a_page_in_russian(client, packer, settings):
    settings.DEBUG = False
    client.force_login(packer)
    resp = client.get("/no-such-page/")
    assert resp.status_code == 404 and "Страница не найдена" in resp.content.decode()
