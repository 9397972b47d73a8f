"""A supervisor's decision on a return, through the page and a real worker against the sandbox: a
decision the Market refused is replaced by the next one (withdrawn with the reason kept) and the next
one reaches the Market; a refusal without its reason, or a decision the Market does not allow now, is
refused here with nothing sent; the Market's refusals are said in Russian first, its words quoted."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, MarketReturn, OutboxAction
from fulfilment.orders.returns_mirror import sync_returns
from fulfilment.packing.views.returns import REFRESH_KEY
from tests.returns_support import buyer_returns
from tests.test_returns_receiving import packed_and_delivered, returned
from tests.worker import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DECISION = OutboxAction.Kind.RETURN_DECISION


def _item(record: MarketReturn, n: int = 0) -> int:
    return [c for i in record.payload["items"] for c in i["decisions"]][n]["returnItemId"]


def _state(action_id: int) -> str:
    return OutboxAction.objects.get(pk=action_id).state


def test_after_a_refusal_the_next_decision_replaces_it_and_reaches_the_market(client, market, packer, supervisor):
    order, _codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    client.force_login(supervisor)
    refund = {f"decision-{_item(record)}": "REFUND_MONEY", "confirm": "1"}
    with Worker(concurrency=1) as worker:
        market.store.set_setting("refuse_return_decisions", "Решение по этому возврату уже принято в кабинете")
        assert client.post(reverse("return-decide", args=[record.pk]), refund).status_code == 302
        first = OutboxAction.objects.get(kind=DECISION).pk
        wait_for(lambda: _state(first) == OutboxAction.State.FAILED, 30, "the refusal", worker)
        page = client.get(reverse("return", args=[record.pk])).content.decode()
        assert "Маркет не принял решение" in page and "«Решение по этому возврату уже принято в кабинете»" in page

        market.store.set_setting("refuse_return_decisions", None)
        assert client.post(reverse("return-decide", args=[record.pk]), refund).status_code == 302
        second = OutboxAction.objects.filter(kind=DECISION).exclude(pk=first).get().pk
        wait_for(lambda: _state(second) == OutboxAction.State.DELIVERED, 30, "the new decision delivered", worker)
    assert _state(first) == OutboxAction.State.CANCELLED
    withdrawn = AuditEvent.objects.get(action="outbox.cancelled", payload__action=first)
    assert withdrawn.user == supervisor and "new decision" in withdrawn.payload["reason"]
    assert len(market.store.received("submitReturnDecision")) == 2  # the refused one and the new one


def test_a_refusal_without_its_reason_is_refused_here_with_the_choices_kept(client, market, packer, supervisor):
    order, _codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    client.force_login(supervisor)
    item = _item(record)
    resp = client.post(reverse("return-decide", args=[record.pk]),
                       {f"decision-{item}": "DECLINE_REFUND", f"comment-{item}": "Код не наш", "confirm": "1"})
    assert resp.status_code == 400
    page = resp.content.decode()
    assert "нужна причина" in page and f'id="decide-{item}" class="error"' in page
    assert 'value="Код не наш"' in page
    assert re.search(rf'name="decision-{item}".*?value="DECLINE_REFUND" selected', page, re.S)
    assert not OutboxAction.objects.filter(kind=DECISION).exists()
    assert market.store.received("submitReturnDecision") == []


def test_a_decision_the_market_does_not_allow_now_is_refused_here(client, market, packer, supervisor):
    order, _codes = packed_and_delivered(market, packer)
    ret = buyer_returns(market, order.market_id, [{"offerId": "SHOES-RUN-42", "count": 1, "reason": "DOES_NOT_FIT"}])
    sync_returns(market.business)
    record = MarketReturn.objects.get(market_id=ret["id"])
    client.force_login(supervisor)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert 'value="REPAIR"' not in page  # a fit item: only a refund or a refusal
    resp = client.post(reverse("return-decide", args=[record.pk]), {f"decision-{_item(record)}": "REPAIR"})
    assert resp.status_code == 400 and "не среди тех, что Маркет разрешает" in resp.content.decode()
    assert not OutboxAction.objects.filter(kind=DECISION).exists()
    assert market.store.received("submitReturnDecision") == []


def test_refresh_now_reads_a_new_return_through_the_worker_once(client, market, packer):
    order, _codes = packed_and_delivered(market, packer)
    ret = buyer_returns(market, order.market_id, [{"offerId": "SHOES-RUN-42", "count": 1, "reason": "BAD_QUALITY"}])
    assert not MarketReturn.objects.filter(market_id=ret["id"]).exists()  # no pass yet
    cache.delete(REFRESH_KEY)  # a press of an earlier run, within its minute
    client.force_login(packer)
    assert 'id="returns-refresh"' in client.get(reverse("returns")).content.decode()
    with Worker(concurrency=1) as worker:
        first = client.post(reverse("returns-refresh"), follow=True).content.decode()
        again = client.post(reverse("returns-refresh"), follow=True).content.decode()
        wait_for(lambda: MarketReturn.objects.filter(market_id=ret["id"]).exists(), 30, "the return mirrored", worker)
    assert "читаются из Маркета" in first and "уже читаются" in again
    page = client.get(reverse("returns")).content.decode()
    assert str(ret["id"]) in page


def test_sending_a_refused_refund_again_needs_the_confirmation(client, market, packer, supervisor):
    order, _codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    client.force_login(supervisor)
    market.store.set_setting("refuse_return_decisions", "Временно не принимаем")
    client.post(reverse("return-decide", args=[record.pk]), {f"decision-{_item(record)}": "REFUND_MONEY",
                                                              "confirm": "1"})
    action = OutboxAction.objects.get(kind=DECISION)
    assert outbox.deliver(action.pk)[0] == OutboxAction.State.FAILED
    # The order screen's «Send again» sends the supervisor to the return's page; nothing is sent.
    resp = client.post(reverse("action-retry", args=[order.pk, action.pk]))
    assert resp.status_code == 302 and resp["Location"] == reverse("return", args=[record.pk])
    assert _state(action.pk) == OutboxAction.State.FAILED
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert 'id="decision-retry"' in page and 'name="confirm"' in page.split('id="decision-retry"')[1][:600]
    resp = client.post(reverse("return-decision-retry", args=[record.pk]), follow=True)
    assert "нельзя отменить" in resp.content.decode() and _state(action.pk) == OutboxAction.State.FAILED
    client.post(reverse("return-decision-retry", args=[record.pk]), {"confirm": "1"})
    assert _state(action.pk) == OutboxAction.State.PENDING
