"""What the order screen says of each code once the Market has it (issue 13.9): an RNPT or GTD in a
delivered layout and the codes of a DBS order sent by PUT identifiers are accepted by the Market,
not "not sent"; a CIS of a delivered layout is being checked until the Market's check answers.
Delivered to the sandbox Market over HTTP."""

from __future__ import annotations

import random
import re

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders import outbox
from fulfilment.orders.catalogue import sync_catalogue
from fulfilment.orders.models import Instance, Order, OutboxAction, Verification
from fulfilment.orders.sync import sync_business
from fulfilment.orders.verification import check_identifiers
from fulfilment.packing import boxes, finishing, scanning
from fulfilment.packing.kernel import attempt
from fulfilment.sandbox import seed

pytestmark = pytest.mark.django_db
DBS = {"campaign_id": seed.DBS_CAMPAIGN_ID, "program": "DBS"}


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def _sync(market) -> None:
    sync_business(market.business.pk, client=market.client())
    sync_catalogue(market.business.pk, client=market.client())


def _deliver_all(market) -> None:
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())


def _code_states(client, order: Order) -> dict[str, str]:
    """Each code's row on the order screen: its value → the state the row says."""
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    rows = re.findall(r'<tr class="code verification-[a-z_]+">(.*?)</tr>', html, re.S)
    out = {}
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        value = re.search(r"<code>(.*?)</code>", row, re.S).group(1)
        out[value] = re.sub(r"<[^>]+>", "", cells[4]).strip()
    return out


def test_rnpt_and_gtd_in_a_delivered_layout_are_accepted_by_the_market(market, packer, client):
    placed = market.place([("FRIDGE-IMP", 1), ("TV-IMP-55", 1), ("SHOES-RUN-42", 1)])
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    shoes = seed.make_cis(seed.CATALOG["SHOES-RUN-42"], random.Random(5))
    for scan in (seed.CATALOG["FRIDGE-IMP"].ean13, "10702070/010124/3012345/001", "CN",
                 seed.CATALOG["TV-IMP-55"].ean13, "10702070/010124/3012345", "CN", shoes):
        fb = scanning.scan(order.pk, packer, scan)
        assert fb.ok, (scan, fb.message)
    assert attempt(order.pk, packer, "finish", finishing.finish).ok
    client.force_login(packer)
    before = _code_states(client, order)
    assert set(before.values()) == {"Не отправлен"}, before

    _deliver_all(market)
    after = _code_states(client, order)
    assert after["10702070/010124/3012345/001"] == "Принят Маркетом"
    assert after["10702070/010124/3012345"] == "Принят Маркетом"
    shoes_row = next(v for k, v in after.items() if k not in ("10702070/010124/3012345/001", "10702070/010124/3012345"))
    assert shoes_row == "Проверяется"  # sent, and the Market's check of a CIS follows
    check_identifiers(order.pk, client=market.client())
    assert Instance.objects.get(order=order, kind="CIS").verification == Verification.OK
    # An RNPT or GTD is not what the Market checks asynchronously: ready to ship goes through.
    assert attempt(order.pk, packer, "ready", finishing.ready).ok


def test_codes_of_a_dbs_order_sent_by_put_identifiers_are_accepted_by_the_market(market, packer, client):
    placed = market.place([("TSHIRT-M", 1), ("MUG-001", 1)], delivery_type="DELIVERY", **DBS)
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    cis = seed.make_cis(seed.CATALOG["TSHIRT-M"], random.Random(11))
    assert scanning.scan(order.pk, packer, cis).ok
    assert attempt(order.pk, packer, "new_box", boxes.new_box).ok
    assert scanning.scan(order.pk, packer, seed.CATALOG["MUG-001"].ean13).ok
    assert attempt(order.pk, packer, "finish", finishing.finish).ok
    client.force_login(packer)
    assert list(_code_states(client, order).values()) == ["Не отправлен"]

    _deliver_all(market)
    assert market.store.received("provideOrderItemIdentifiers")
    assert list(_code_states(client, order).values()) == ["Принят Маркетом"]
    assert Instance.objects.get(order=order).verification == Verification.DELIVERED

