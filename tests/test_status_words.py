"""Every status and substatus of the Market's enums is said in words on every screen that shows an
order: a delivered or cancelled order mirrored with its last substatus included (issue 16)."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest
import yaml
from django.urls import reverse

from fulfilment.orders.models import Order

from .builders import make_campaign, make_order

pytestmark = pytest.mark.django_db


def _enum(name: str) -> list[str]:
    with open(os.environ.get("MARKET_OPENAPI_SPEC", "../shared/market-api/partner-openapi.yaml")) as f:
        return yaml.safe_load(f)["components"]["schemas"][name]["enum"]


class _Visible(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("script", "style", "template")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style", "template") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _raw_enums(html: str, values: set[str]) -> set[str]:
    parser = _Visible()
    parser.feed(html)
    tokens = set(re.findall(r"(?<![\w-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*(?![\w-])", " ".join(parser.parts)))
    return {t for t in tokens if t in values or "_" in t}


@pytest.fixture
def every_state():
    """One order per substatus of ``OrderSubstatusType``, its status cycling through ``OrderStatusType``."""
    statuses, substatuses = _enum("OrderStatusType"), _enum("OrderSubstatusType")
    campaign = make_campaign()
    orders = [make_order(campaign, items=(("MUG-001", 1),), status=statuses[i % len(statuses)], substatus=sub)
              for i, sub in enumerate(substatuses)]
    orders.append(make_order(campaign, items=(("GAME-KEY", 1),), status="CANCELLED", substatus="USER_CHANGED_MIND",
                             delivery_type="DIGITAL"))
    return orders, set(statuses) | set(substatuses)


def test_no_order_screen_shows_a_raw_status_or_substatus(client, supervisor, every_state):
    orders, values = every_state
    client.force_login(supervisor)
    client.cookies["django_language"] = "ru"
    seen: dict[str, set[str]] = {}
    pages = [reverse("home"), reverse("supervisor"), reverse("queue")]
    pages += [f"{reverse('queue')}?status={s}" for s in _enum("OrderStatusType")]
    for o in orders:
        pages += [reverse("order", args=[o.pk]), reverse("supervisor-order", args=[o.pk])]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        raw = _raw_enums(response.content.decode(), values)
        if raw:
            seen[url] = raw
    assert not seen, seen


def test_the_header_of_a_delivered_order_says_its_substatus_in_words(client, supervisor):
    order = make_order(status="DELIVERED", substatus="DELIVERED_USER_RECEIVED")
    client.force_login(supervisor)
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "Доставлен / Получен покупателем" in html
    assert Order.objects.filter(pk=order.pk, substatus="DELIVERED_USER_RECEIVED").exists()  # kept as the Market said


def test_every_return_shipment_status_of_the_spec_is_in_words():
    from django.utils import translation

    from fulfilment.orders.models import MarketReturn

    with translation.override("ru"):
        for value in _enum("ReturnShipmentStatusType"):
            said = MarketReturn(shipment_status=value).shipment_label
            assert value not in said and not re.search(r"[A-Z]{2,}_?", said), (value, said)
