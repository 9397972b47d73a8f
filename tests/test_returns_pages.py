"""The returns screens: the list per shop (overdue first), a return received by scan with a loud
mismatch, grades, and a supervisor's decision; roles and methods."""

from __future__ import annotations

import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.models import MarketReturn, Match, OutboxAction
from fulfilment.sandbox import seed
from tests.returns_support import travel
from tests.test_returns_receiving import SHOES, packed_and_delivered, returned


@pytest.fixture
def record(market, packer):
    order, codes = packed_and_delivered(market, packer)
    rec = returned(market, order)
    rec.codes = codes
    return rec


def _scan(client, record, code):
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    scan_id = re.search(r'name="scan_id" value="([^"]+)"', page).group(1)
    return client.post(reverse("return-scan", args=[record.pk]), {"scan_id": scan_id, "code": code}, follow=True)


def test_the_list_shows_an_overdue_return_first_in_red(client, packer, market, record):
    travel(market, record.market_id, "IN_TRANSIT", "READY_FOR_PICKUP")
    from fulfilment.orders.returns_mirror import sync_returns  # after the sandbox moved it

    sync_returns(market.business)
    MarketReturn.objects.filter(pk=record.pk).update(pickup_till=timezone.now() - timezone.timedelta(hours=1))
    client.force_login(packer)
    page = client.get(reverse("returns")).content.decode()
    assert f'id="return-{record.pk}" class="overdue flagged"' in page
    assert "просрочено" in page and "Пункт возврата" in page


def test_a_scan_opens_the_return_by_its_order_label(client, packer, record):
    client.force_login(packer)
    resp = client.post(reverse("returns-open"), {"code": f"{record.order_market_id}-1"})
    assert resp.url == reverse("return", args=[record.pk])
    bad = client.post(reverse("returns-open"), {"code": "nonsense"}, follow=True)
    assert "Нет возврата" in bad.content.decode()


def test_receiving_by_scan_flags_a_swapped_unit_loudly(client, packer, record):
    client.force_login(packer)
    _scan(client, record, record.codes[0])
    resp = _scan(client, record, seed.make_cis(SHOES, random.Random(5)))
    page = resp.content.decode()
    assert "НЕСОВПАДЕНИЕ" in page and 'class="flagged mismatch"' in page
    assert sorted(record.units.values_list("match", flat=True)) == [Match.MATCHED, Match.NEVER_SHIPPED]


def test_a_resubmitted_scan_form_records_nothing_twice(client, packer, record):
    client.force_login(packer)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    scan_id = re.search(r'name="scan_id" value="([^"]+)"', page).group(1)
    for _ in range(2):
        client.post(reverse("return-scan", args=[record.pk]), {"scan_id": scan_id, "code": record.codes[0]})
    assert record.units.count() == 1


def test_an_irreversible_decision_needs_the_confirmation(client, supervisor, record):
    client.force_login(supervisor)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert 'value="DECLINE_REFUND"' in page  # the Market's allowed decisions, asked now
    resp = client.post(reverse("return-decide", args=[record.pk]), {"decision": "REFUND_MONEY"}, follow=True)
    assert "нельзя отменить" in resp.content.decode()
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()
    client.post(reverse("return-decide", args=[record.pk]), {"decision": "REFUND_MONEY", "confirm": "1"})
    assert OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).count() == 1


def test_a_packer_cannot_decide_and_a_get_cannot_scan(client, packer, outsider, record):
    client.force_login(packer)
    assert client.post(reverse("return-decide", args=[record.pk]), {"decision": "REFUND_MONEY"}).status_code == 403
    assert client.get(reverse("return-scan", args=[record.pk])).status_code == 405
    client.force_login(outsider)
    assert client.get(reverse("returns")).status_code == 403
