"""The demo fills the Returns screen: the sandbox's demo data brings delivered orders back (a buyer's
return with photos waiting for a decision, unredeemed orders at a pickup point, one past its
deadline), and the dashboard's returns pass shows them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.models import MarketReturn
from fulfilment.orders.returns_mirror import sync_returns

pytestmark = pytest.mark.django_db


def test_the_demo_brings_orders_back_and_the_returns_screen_shows_them(market, client, supervisor):
    made = market.seeder.demo_returns()
    assert [r["returnType"] for r in made] == ["RETURN", "UNREDEEMED", "UNREDEEMED"]
    sync_returns(market.business)
    claim = MarketReturn.objects.get(kind="RETURN")
    assert claim.decision_till > timezone.now()
    assert all(c["images"] for i in claim.payload["items"] for c in i["decisions"])
    assert all(i["instances"][0]["cis"] for i in claim.payload["items"] if i["shopSku"] == "SHOES-RUN-42")
    waiting = MarketReturn.objects.filter(kind="UNREDEEMED", shipment_status="READY_FOR_PICKUP")
    assert sorted(r.is_overdue() for r in waiting) == [False, True]
    assert all(r.pickup_till for r in waiting)
    client.force_login(supervisor)
    page = client.get(reverse("returns")).content.decode()
    assert page.count('class="overdue flagged"') == 1 and "невыкуп" in page
    assert page.count("<td>готов к выдаче</td>") == 2 and "<td>в пути</td>" in page  # where each one is
    assert f'href="{reverse("return", args=[claim.pk])}"' in page.split('id="waiting"')[1]
    detail = client.get(reverse("return", args=[claim.pk])).content.decode()
    assert "отклеилась подошва" in detail and detail.count('alt="фото покупателя"') >= 3


def test_the_demo_seeder_includes_the_returns(sandbox):
    sandbox.seeder.demo()
    rows = sandbox.store.query("SELECT data FROM market_return")
    assert len(rows) == 3
