"""The order page: what was sent to the Market, what it refused, retry and refresh; sync now."""

import pytest
from django.db import transaction
from django.urls import reverse

from fulfilment.orders import outbox
from fulfilment.orders.models import OutboxAction

from .builders import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return make_order(items=(("MUG-001", 2),), flag_reason="Заказ отменён, пока его собирали / cancelled while packing")


@pytest.fixture
def failed(order):
    with transaction.atomic():
        action = outbox.enqueue(order.campaign, OutboxAction.Kind.LAYOUT, {"boxes": []}, order=order)
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
