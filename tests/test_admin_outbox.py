"""The outbox and the notification log in the admin: filters, sending a refused action again (as the
order screen's "Send again" does), cancelling with a reason asked first and kept in the audit trail,
and refreshing again the events whose refresh gave up."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.market.changes import StatusChange
from fulfilment.notifications.models import NotificationEvent
from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, Order, OutboxAction
from fulfilment.orders.sync import sync_business

from .builders import make_campaign, make_order

pytestmark = pytest.mark.django_db
State = OutboxAction.State
CHANGELIST = "admin:orders_outboxaction_changelist"


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _refused(market) -> OutboxAction:
    """READY_TO_SHIP asked of an order with no boxes: the sandbox Market refuses it."""
    placed = market.place([("MUG-001", 1)])
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=placed["orderId"])
    action = outbox.enqueue(order.campaign, StatusChange("PROCESSING", "READY_TO_SHIP"), order=order)
    outbox.deliver(action.pk, client=market.client())
    action.refresh_from_db()
    assert action.state == State.FAILED and action.market_errors
    return action


def _act(client, name: str, actions: list[OutboxAction], **extra: str):
    return client.post(reverse(CHANGELIST), {"action": name, "_selected_action": [a.pk for a in actions], **extra})


def test_the_outbox_is_listed_and_filtered_by_kind_state_and_shop(admin_client):
    shop, other = make_campaign(), make_campaign()
    layout = OutboxAction.objects.create(campaign=shop, order=make_order(shop), kind="LAYOUT", state=State.FAILED)
    OutboxAction.objects.create(campaign=shop, order=make_order(shop), kind="STATUS", state=State.FAILED)
    OutboxAction.objects.create(campaign=other, order=make_order(other), kind="LAYOUT", state=State.FAILED)
    OutboxAction.objects.create(campaign=shop, order=make_order(shop), kind="LAYOUT", state=State.DELIVERED)
    resp = admin_client.get(reverse(CHANGELIST), {"kind__exact": "LAYOUT", "state__exact": "FAILED",
                                                  "campaign__id__exact": shop.pk})
    assert resp.status_code == 200
    assert list(resp.context["cl"].result_list) == [layout]
    assert admin_client.get(reverse("admin:orders_outboxaction_change", args=[layout.pk])).status_code == 200
    assert admin_client.get(reverse(CHANGELIST), {"q": str(layout.order.market_id)}).context["cl"].result_count == 1


def test_sending_again_requeues_only_refused_actions_as_the_order_screen_does(
        admin_client, admin_user, market, django_capture_on_commit_callbacks):
    refused = _refused(market)
    delivered = OutboxAction.objects.create(campaign=refused.campaign, kind="STATUS", state=State.DELIVERED)
    with django_capture_on_commit_callbacks() as callbacks:
        resp = _act(admin_client, "send_again", [refused, delivered])
    assert resp.status_code == 302
    refused.refresh_from_db()
    delivered.refresh_from_db()
    assert (refused.state, refused.market_errors, delivered.state) == (State.PENDING, [], State.DELIVERED)
    assert len(callbacks) == 1  # its delivery queued, the delivered one left alone
    assert AuditEvent.objects.get(action="outbox.retry").user == admin_user
    messages = [str(m) for m in resp.wsgi_request._messages]
    assert any("ещё раз" in m for m in messages) and any("оставлено как есть" in m for m in messages)


def test_cancelling_asks_for_a_reason_first_and_changes_nothing_without_one(admin_client, market):
    refused = _refused(market)
    page = _act(admin_client, "cancel_with_reason", [refused])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Почему это не нужно отправлять?" in html and 'name="confirm"' in html
    empty = _act(admin_client, "cancel_with_reason", [refused], confirm="yes", reason="  ")
    assert empty.status_code == 400 and "Обязательное поле" in empty.content.decode()
    refused.refresh_from_db()
    assert refused.state == State.FAILED and not AuditEvent.objects.filter(action="outbox.cancelled").exists()


def test_a_cancelled_action_is_never_sent_and_its_reason_is_in_the_audit_trail(
        admin_client, admin_user, market, django_capture_on_commit_callbacks):
    refused = _refused(market)
    order = refused.order
    later = outbox.enqueue(order.campaign, StatusChange("PROCESSING", "READY_TO_SHIP"), order=order)
    assert outbox.deliver(later.pk, client=market.client()) == (State.PENDING, None)  # waits behind the refusal
    sending = OutboxAction.objects.create(campaign=order.campaign, kind="STATUS", state=State.SENDING)
    with django_capture_on_commit_callbacks() as callbacks:
        resp = _act(admin_client, "cancel_with_reason", [refused, sending], confirm="yes",
                    reason="Товар отгружен вручную")
    assert resp.status_code == 302
    refused.refresh_from_db()
    sending.refresh_from_db()
    assert (refused.state, sending.state) == (State.CANCELLED, State.SENDING)
    event = AuditEvent.objects.get(action="outbox.cancelled")
    assert (event.order, event.user, event.payload["reason"]) == (order, admin_user, "Товар отгружен вручную")
    assert len(callbacks) == 1  # the order's next action no longer waits for it
    assert outbox.deliver(refused.pk, client=market.client())[0] == State.CANCELLED  # never sent
    calls = len(market.store.received("updateOrderStatus"))
    outbox.deliver(later.pk, client=market.client())
    assert len(market.store.received("updateOrderStatus")) == calls + 1  # sent now, answered by the Market
    later.refresh_from_db()
    assert later.state in (State.DELIVERED, State.FAILED) and later.attempts == 1


def test_cancelling_a_layout_means_the_packer_finishes_again(admin_client):
    order = make_order(layout_version=3, layout_sent_version=3)
    layout = OutboxAction.objects.create(campaign=order.campaign, order=order, kind="LAYOUT", state=State.PENDING)
    _act(admin_client, "cancel_with_reason", [layout], confirm="yes", reason="неверные коробки")
    order.refresh_from_db()
    assert order.layout_sent_version is None


def test_nothing_in_the_outbox_is_added_or_deleted_by_hand(admin_client):
    action = OutboxAction.objects.create(campaign=make_campaign(), kind="STATUS", state=State.DELIVERED)
    assert admin_client.get(reverse("admin:orders_outboxaction_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_outboxaction_delete", args=[action.pk])).status_code == 403


def test_notifications_are_filtered_and_a_given_up_refresh_is_asked_again(
        admin_client, django_capture_on_commit_callbacks):
    campaign = make_campaign()
    failed = NotificationEvent.objects.create(business=campaign.business, notification_type="ORDER_CREATED",
                                              key="a", order_market_id=1, state=NotificationEvent.State.FAILED,
                                              attempts=7, last_error="503")
    done = NotificationEvent.objects.create(business=campaign.business, notification_type="ORDER_CANCELLED",
                                            key="b", order_market_id=2, state=NotificationEvent.State.DONE)
    listing = reverse("admin:notifications_notificationevent_changelist")
    resp = admin_client.get(listing, {"notification_type__exact": "ORDER_CREATED", "state__exact": "FAILED"})
    assert list(resp.context["cl"].result_list) == [failed]
    assert list(admin_client.get(listing, {"order": "no"}).context["cl"].result_list) == []
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(listing, {"action": "refresh_again", "_selected_action": [failed.pk, done.pk]})
    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.state, failed.attempts, done.state) == (NotificationEvent.State.PENDING, 0,
                                                           NotificationEvent.State.DONE)
    assert len(callbacks) == 1
