"""The returns screens: the list per shop (overdue first), a return received by scan with a loud
mismatch, grades, and a supervisor's decision; roles and methods."""

from __future__ import annotations

import random
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.market.notification_values import RefundStatus
from fulfilment.market.returns import DecisionType, DeclineReason, ReturnReason
from fulfilment.orders.models import MarketReturn, Match, OutboxAction
from fulfilment.orders.returns_mirror import sync_returns
from fulfilment.sandbox import seed
from tests.returns_support import buyer_returns, travel
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


def _item(record, n=0):
    return record.payload["items"][n]["decisions"][0]["returnItemId"]


def test_an_irreversible_decision_needs_the_confirmation(client, supervisor, record):
    client.force_login(supervisor)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert 'value="DECLINE_REFUND"' in page  # the Market's allowed decisions, asked now
    choice = {f"decision-{_item(record)}": "REFUND_MONEY"}
    resp = client.post(reverse("return-decide", args=[record.pk]), choice, follow=True)
    assert "нельзя отменить" in resp.content.decode()
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()
    client.post(reverse("return-decide", args=[record.pk]), {**choice, "confirm": "1"})
    assert OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).count() == 1


RAW = {str(v) for enum in (DecisionType, DeclineReason, ReturnReason, RefundStatus) for v in enum}


def _visible(html: str) -> str:
    """The page's text as read on screen: no tags, attributes or scripts."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))


def test_every_value_on_the_return_page_is_in_plain_russian(client, supervisor, record):
    client.force_login(supervisor)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    text = _visible(page)
    assert "бракованный товар" in text and "отказать в возврате" in text and "вернуть деньги за товар" in text
    assert "проблема с товаром не подтвердилась" in text and "ждёт решения продавца" in text
    assert not {w for w in re.findall(r"\b[A-Z][A-Z_]{3,}\b", text) if w in RAW}
    listing = _visible(client.get(reverse("returns")).content.decode())
    assert not {w for w in re.findall(r"\b[A-Z][A-Z_]{3,}\b", listing) if w in RAW}


def test_a_value_the_market_adds_later_is_said_as_other_not_bare(client, supervisor, record):
    payload = record.payload
    payload["items"][0]["decisions"][0]["reasonType"] = "SOMETHING_NEW"
    MarketReturn.objects.filter(pk=record.pk).update(payload=payload)
    client.force_login(supervisor)
    assert "другое (SOMETHING_NEW)" in _visible(client.get(reverse("return", args=[record.pk])).content.decode())


def test_each_item_gets_its_own_decision(client, supervisor, market, packer):
    order, _codes = packed_and_delivered(market, packer)
    ret = buyer_returns(market, order.market_id, [
        {"offerId": "SHOES-RUN-42", "count": 1, "reason": "BAD_QUALITY", "comment": "Отклеилась подошва"},
        {"offerId": "SHOES-RUN-42", "count": 1, "reason": "DOES_NOT_FIT", "comment": "Мала"}])
    sync_returns(market.business)
    record = MarketReturn.objects.get(market_id=ret["id"])
    first, second = _item(record, 0), _item(record, 1)
    client.force_login(supervisor)
    page = client.get(reverse("return", args=[record.pk])).content.decode()
    assert f'name="decision-{first}"' in page and f'name="decision-{second}"' in page
    # One item left without a decision: refused, nothing queued.
    resp = client.post(reverse("return-decide", args=[record.pk]),
                       {f"decision-{first}": "REFUND_MONEY", "confirm": "1"}, follow=True)
    assert "Выберите решение для SHOES-RUN-42 (товар не подошёл)" in resp.content.decode()
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()
    client.post(reverse("return-decide", args=[record.pk]), {
        f"decision-{first}": "REFUND_MONEY", f"decision-{second}": "DECLINE_REFUND",
        f"reason-{second}": "PRODUCT_APPEARANCE_COMPROMISED", f"comment-{second}": "Следы носки", "confirm": "1"})
    action = OutboxAction.objects.get(kind=OutboxAction.Kind.RETURN_DECISION)
    sent = {d["returnItemId"]: d for d in action.payload["returnItemDecisions"]}
    assert sent[first]["decisionType"] == "REFUND_MONEY" and "decisionReasonType" not in sent[first]
    assert sent[second] == {"returnItemId": second, "decisionType": "DECLINE_REFUND",
                            "decisionReasonType": "PRODUCT_APPEARANCE_COMPROMISED", "comment": "Следы носки"}


def test_a_batch_from_the_scan_queue_is_recorded_once_in_order(client, packer, record):
    client.force_login(packer)
    swapped = seed.make_cis(SHOES, random.Random(5))
    batch = {"scans": [{"id": str(uuid.uuid4()), "code": record.codes[0]}, {"id": str(uuid.uuid4()), "code": swapped},
                       {"id": str(uuid.uuid4()), "code": "nonsense"}]}
    url = reverse("return-scan", args=[record.pk])
    for _ in range(2):  # the browser sends the batch again when the first answer was lost
        resp = client.post(url, batch, content_type="application/json")
        assert resp["X-Pack-Update"] == "full" and resp["X-Pack-Done"] == "3"
    page = resp.content.decode()
    assert page.startswith('<div id="panel">') and "НЕСОВПАДЕНИЕ" in page and 'class="flagged mismatch"' in page
    assert list(record.units.order_by("scanned_at", "id").values_list("match", flat=True)) == [
        Match.MATCHED, Match.NEVER_SHIPPED]
    assert client.post(url, {"scans": "x"}, content_type="application/json").status_code == 400
    assert record.units.count() == 2


def test_a_packer_cannot_decide_and_a_get_cannot_scan(client, packer, outsider, record):
    client.force_login(packer)
    assert client.post(reverse("return-decide", args=[record.pk]), {"decision": "REFUND_MONEY"}).status_code == 403
    assert client.get(reverse("return-scan", args=[record.pk])).status_code == 405
    client.force_login(outsider)
    assert client.get(reverse("returns")).status_code == 403


def _chosen(page: str, name: str) -> str:
    """The option selected in the select ``name`` ("" for none)."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else ""


def test_a_refused_decision_names_the_item_and_keeps_every_choice(client, supervisor, market, packer):
    order, _codes = packed_and_delivered(market, packer)
    ret = buyer_returns(market, order.market_id, [
        {"offerId": "SHOES-RUN-42", "count": 1, "reason": "BAD_QUALITY", "comment": "Отклеилась подошва"},
        {"offerId": "SHOES-RUN-42", "count": 1, "reason": "DOES_NOT_FIT", "comment": "Мала"}])
    sync_returns(market.business)
    record = MarketReturn.objects.get(market_id=ret["id"])
    first, second = _item(record, 0), _item(record, 1)
    client.force_login(supervisor)
    made = {f"decision-{first}": "DECLINE_REFUND", f"reason-{first}": "PRODUCT_APPEARANCE_COMPROMISED",
            f"comment-{first}": "Следы носки", f"reason-{second}": "CONFIGURATION_OR_PACKAGING_COMPROMISED",
            f"comment-{second}": "Царапины", "confirm": "1"}
    resp = client.post(reverse("return-decide", args=[record.pk]), made)
    assert resp.status_code == 400
    page = resp.content.decode()
    # The message says which item: the second one (its SKU and the buyer's reason), not the first.
    message = re.search(r'<ul class="messages">(.*?)</ul>', page, re.S).group(1)
    assert "SHOES-RUN-42" in message and "товар не подошёл" in message and "бракованный" not in message
    assert f'id="decide-{second}" class="error"' in page
    # Every choice made is still there.
    assert _chosen(page, f"decision-{first}") == "DECLINE_REFUND"
    assert _chosen(page, f"reason-{first}") == "PRODUCT_APPEARANCE_COMPROMISED"
    assert _chosen(page, f"reason-{second}") == "CONFIGURATION_OR_PACKAGING_COMPROMISED"
    assert 'value="Следы носки"' in page and 'value="Царапины"' in page
    assert re.search(r'<input type="checkbox" name="confirm" value="1" checked>', page)
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()


def test_an_unconfirmed_decision_keeps_the_choices_made(client, supervisor, record):
    client.force_login(supervisor)
    item = _item(record)
    made = {f"decision-{item}": "DECLINE_REFUND", f"reason-{item}": "ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED",
            f"comment-{item}": "Код не наш"}
    resp = client.post(reverse("return-decide", args=[record.pk]), made)
    page = resp.content.decode()
    assert resp.status_code == 400 and "нельзя отменить" in page
    assert _chosen(page, f"decision-{item}") == "DECLINE_REFUND" and 'value="Код не наш"' in page
    assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()


def test_a_unit_missing_from_the_parcel_is_said_and_marked_before_the_return_is_received(client, packer, outsider,
                                                                                         record):
    client.force_login(packer)
    _scan(client, record, record.codes[0])
    unit = record.units.get()
    client.post(reverse("return-grade", args=[record.pk, unit.pk]), {"grade": "FIT", "note": ""})
    refused = client.post(reverse("return-receive", args=[record.pk]), follow=True).content.decode()
    assert "Приняты не все единицы: SHOES-RUN-42 — 1 из 2" in refused
    assert "SHOES-RUN-42: принято 1 из 2." in refused and f'action="/returns/{record.pk}/missing/"' in refused
    assert MarketReturn.objects.get(pk=record.pk).received_at is None
    assert client.get(reverse("return-missing", args=[record.pk])).status_code == 405
    client.force_login(outsider)
    assert client.post(reverse("return-missing", args=[record.pk]), {"offer_id": "SHOES-RUN-42"}).status_code == 403
    client.force_login(packer)
    page = client.post(reverse("return-missing", args=[record.pk]), {"offer_id": "SHOES-RUN-42"},
                       follow=True).content.decode()
    assert "нет в посылке" in page and 'id="short"' not in page
    assert sorted(record.units.values_list("match", flat=True)) == [Match.MATCHED, Match.MISSING]
    client.post(reverse("return-receive", args=[record.pk]))
    assert MarketReturn.objects.get(pk=record.pk).received_at is not None
