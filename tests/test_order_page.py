"""The order page: what was sent to the Market, what it refused, retry and refresh; sync now."""

import datetime as dt
import json
import uuid

import pytest
from django.db import connection, transaction
from django.test.signals import template_rendered
from django.urls import reverse

from fulfilment.market.changes import BoxLayout
from fulfilment.orders import outbox
from fulfilment.orders.models import OutboxAction, Shipment
from fulfilment.sandbox.seed import CATALOG

from .builders import make_linked_order, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return make_order(items=(("MUG-001", 2),), flag_reason="Заказ отменён, пока его собирали / cancelled while packing")


@pytest.fixture
def failed(order):
    with transaction.atomic():
        action = outbox.enqueue(order.campaign, BoxLayout(()), order=order)
    OutboxAction.objects.filter(pk=action.pk).update(
        state=OutboxAction.State.FAILED, market_errors=[{"code": "INVALID_BOX_LAYOUT", "message": "1 of 2 units"}])
    return action


def test_it_shows_actions_with_the_markets_messages_and_the_flag(client, packer, order, failed):
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "INVALID_BOX_LAYOUT: 1 of 2 units" in html
    assert "cancelled while packing" in html and 'role="alert"' in html
    assert reverse("action-retry", args=[order.pk, failed.pk]) in html


def test_a_failed_action_is_sent_again(client, packer, order, failed, django_capture_on_commit_callbacks):
    client.force_login(packer)
    with django_capture_on_commit_callbacks() as callbacks:
        resp = client.post(reverse("action-retry", args=[order.pk, failed.pk]))
    assert resp.status_code == 302
    failed.refresh_from_db()
    assert failed.state == OutboxAction.State.PENDING and failed.market_errors == []
    assert len(callbacks) == 1  # the delivery task is queued after commit
    assert order.audit_events.filter(action="outbox.retry", user=packer).exists()


def test_a_delivered_action_is_not_resent(client, packer, order, failed):
    OutboxAction.objects.filter(pk=failed.pk).update(state=OutboxAction.State.DELIVERED)
    client.force_login(packer)
    client.post(reverse("action-retry", args=[order.pk, failed.pk]))
    failed.refresh_from_db()
    assert failed.state == OutboxAction.State.DELIVERED


@pytest.mark.parametrize("name", ["order", "order-refresh", "action-retry"])
def test_people_without_a_role_get_403(client, outsider, order, failed, name):
    client.force_login(outsider)
    args = [order.pk, failed.pk] if name == "action-retry" else [order.pk]
    method = client.get if name == "order" else client.post
    assert method(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize("name", ["order-refresh", "action-retry", "sync-now"])
def test_changing_endpoints_refuse_get(client, packer, order, failed, name):
    client.force_login(packer)
    args = {"order-refresh": [order.pk], "action-retry": [order.pk, failed.pk],
            "sync-now": [order.campaign.business.pk]}[name]
    assert client.get(reverse(name, args=args)).status_code == 405


def test_sync_now_queues_a_sync(client, packer, order, django_capture_on_commit_callbacks):
    client.force_login(packer)
    with django_capture_on_commit_callbacks() as callbacks:
        resp = client.post(reverse("sync-now", args=[order.campaign.business.pk]))
    assert resp.status_code == 302 and len(callbacks) == 1


def test_the_start_page_lists_orders_that_need_attention(client, packer, order):
    client.force_login(packer)
    html = client.get(reverse("home")).content.decode()
    assert reverse("order", args=[order.pk]) in html


def test_the_start_page_counts_to_pack_what_the_queue_lists(client, packer):
    """Issue 13 item 13: one definition of "to pack" (PACKAGING counts, a reported problem does not)."""
    from .builders import make_campaign

    campaign = make_campaign()
    started = make_order(campaign=campaign)
    packaging = [make_order(campaign=campaign, substatus="PACKAGING") for _ in range(2)]
    make_order(campaign=campaign, substatus="READY_TO_SHIP")
    make_order(campaign=campaign, problem="MISSING")
    client.force_login(packer)
    queue = client.get(reverse("queue")).context["page"].object_list
    assert {o.pk for o in queue} == {started.pk, *(o.pk for o in packaging)}
    shops = {c.pk: c for c in client.get(reverse("home")).context["campaigns"]}
    assert shops[campaign.pk].to_pack == 3


def test_the_start_page_counts_as_needing_attention_every_order_it_lists(client, packer):
    """Issue 13 item 13: "needs attention 0" while listing a problem order."""
    from .builders import make_campaign

    campaign = make_campaign()
    orders = [make_order(campaign=campaign, problem="MISSING"), make_order(campaign=campaign, flag_reason="cancelled"),
              make_order(campaign=campaign)]
    make_order(campaign=campaign)  # nothing to look at
    for _ in range(2):  # two refused actions are still one order
        with transaction.atomic():
            action = outbox.enqueue(campaign, BoxLayout(()), order=orders[2])
        OutboxAction.objects.filter(pk=action.pk).update(state=OutboxAction.State.FAILED)
    client.force_login(packer)
    resp = client.get(reverse("home"))
    assert {o.pk for o in resp.context["attention"]} == {o.pk for o in orders}
    assert {c.pk: c for c in resp.context["campaigns"]}[campaign.pk].flagged == 3


@pytest.mark.django_db(transaction=True)
def test_a_scan_renders_its_answer_after_its_transaction(client, packer):
    """The order row stays locked only while the scan is applied: rendering (and anything slow)
    comes after the commit, so a second packer on the order waits for the scan, not for a template."""
    order = make_linked_order(items=(("MUG-001", 3),))
    client.force_login(packer)
    in_transaction: list[bool] = []

    def rendered(sender, template, context, **kwargs):
        in_transaction.append(connection.in_atomic_block)

    template_rendered.connect(rendered)
    try:
        for code in (CATALOG["MUG-001"].ean13, "CMD-NEW-BOX", "junk"):
            r = client.post(reverse("order-scan", args=[order.pk]),
                            json.dumps({"scans": [{"id": str(uuid.uuid4()), "code": code}]}),
                            content_type="application/json")
            assert r.status_code == 200
    finally:
        template_rendered.disconnect(rendered)
    assert in_transaction and not any(in_transaction)
    order.refresh_from_db()
    assert order.version == 2


@pytest.mark.parametrize("status, substatus", [("DELIVERED", ""), ("CANCELLED", "SHOP_FAILED"),
                                               ("PROCESSING", "SHIPPED")])
def test_an_order_not_being_packed_is_shown_read_only_with_why(client, packer, status, substatus):
    order = make_linked_order(items=(("MUG-001", 1),), status=status, substatus=substatus)
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    # Why, in words, and no field or button inviting a scan or a change.
    assert 'id="read-only"' in html and "ничего изменить в нём нельзя" in html
    assert 'id="scan"' not in html and "Коробок ещё нет" not in html
    for url in ("order-finish", "order-new-box", "order-teach", "order-split-unit", "order-ready"):
        assert reverse(url, args=[order.pk]) not in html, url


def test_an_order_being_packed_has_its_scan_field_and_buttons(client, packer):
    order = make_linked_order(items=(("MUG-001", 1),))
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert 'id="scan"' in html and 'id="read-only"' not in html
    assert reverse("order-finish", args=[order.pk]) in html and "Коробок ещё нет" in html


@pytest.mark.parametrize("listed, status, later", [(False, "OUTBOUND_CONFIRMED", True),
                                                   (True, "OUTBOUND_CONFIRMED", False),
                                                   (False, "OUTBOUND_CREATED", False)])
def test_an_order_made_ready_after_its_shipment_was_confirmed_goes_with_the_next_one(client, packer, listed,
                                                                                     status, later):
    order = make_linked_order(items=(("MUG-001", 1),), substatus="READY_TO_SHIP", layout_sent_version=1,
                              layout_version=1, shipment_id=77_000_001)
    Shipment.objects.create(campaign=order.campaign, market_id=77_000_001, shipment_date=dt.date(2026, 12, 1),
                            status=status, order_ids=[order.market_id] if listed else [])
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert 'id="done"' in html
    assert ('id="later-shipment"' in html) is later
    if later:
        assert "77000001" in html and "следующей отгрузкой" in html
