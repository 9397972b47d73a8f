"""One order's whole journey in real Chromium with a fake camera, against the sandbox Market over HTTP
and a real Celery worker: a packer packs it code by code with the workstation's camera on, and the
camera photographs the open box at Finish; the layout goes to the sandbox through the outbox; the
sandbox delivers the order and the buyer returns it (its control plane); a supervisor receives that
return — one unit the code we shipped, one swapped (flagged loudly), a bad scan refused — grades both,
sends the decision and the packing photo to the order's chat. The sandbox's own records say what it
received: the decision as chosen, and the very photo taken at Finish."""

from __future__ import annotations

import json
import random

import pytest
import requests

from fulfilment.orders.models import MarketReturn, Match, Order, OutboxAction, PackingPhoto
from fulfilment.orders.returns_mirror import sync_returns
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox import seed
from tests.builders import link_catalogue
from tests.returns_support import buyer_returns, control
from tests.test_returns_receiving import SHOES

from .conftest import CHROMIUM, CHROMIUM_ARGS, checked_context
from .test_browser_evidence import FAKE_CAMERA, idle
from .test_browser_packing import login, scanner_type
from .worker import Worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def camera_browser(chromium, live_server, settings, tmp_path):
    """Chromium with a fake camera (its own browser: the flags are for this test only); CSP checked."""
    settings.SESSION_COOKIE_SECURE = False  # live_server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *FAKE_CAMERA])
    seen: list[list[str]] = []  # each context's CSP violations

    def new_page():
        context, violations = checked_context(browser)
        seen.append(violations)
        return context.new_page()

    yield new_page
    for context in browser.contexts:
        context.close()
    browser.close()
    violations = [v for each in seen for v in each]
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def test_an_order_packed_with_a_photo_at_finish_comes_back_is_received_and_decided(
        camera_browser, live_server, market, packer, supervisor):
    placed = market.place([("SHOES-RUN-42", 2)], buyer_type="BUSINESS")
    sync_business(market.business.pk)
    order = link_catalogue(Order.objects.get(market_id=placed["orderId"]))
    rng = random.Random(19)
    codes = [seed.make_cis(SHOES, rng) for _ in range(2)]
    swapped = seed.make_cis(SHOES, random.Random(5))  # the same product, a code this shop never shipped

    with Worker(concurrency=1) as worker:
        # --- Packing, the camera on; Finish photographs the open box.
        page = camera_browser()
        login(page, live_server)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        page.check("#camera-on")
        page.wait_for_function("() => document.getElementById('camera').videoWidth > 0")
        page.focus("#scan")
        for code in codes:
            scanner_type(page, code, "ctrl")
            idle(page)
        scanner_type(page, "CMD-FINISH", "ctrl")
        photo = wait_for(lambda: PackingPhoto.objects.filter(order=order, reason="FINISH").first(), 10,
                         "the photo taken at Finish", worker)
        assert (photo.box_number, photo.taken_by) == (1, packer)
        with photo.image.open("rb") as f:
            taken = f.read()
        assert taken.startswith(b"\xff\xd8") and len(taken) > 5000  # a JPEG of the fake camera's frame
        wait_for(lambda: OutboxAction.objects.filter(order=order, kind=OutboxAction.Kind.LAYOUT,
                                                     state=OutboxAction.State.DELIVERED).exists(),
                 30, "the layout delivered", worker)
        page.context.close()

        # --- At the Market: delivered, then returned by the buyer; the returns pass mirrors it.
        control(market, "POST", f"/orders/{order.market_id}", {"status": "DELIVERED", "substatus": "DELIVERY_SERVED"})
        ret = buyer_returns(market, order.market_id, [{"offerId": "SHOES-RUN-42", "count": 2, "reason": "BAD_QUALITY",
                                                       "comment": "Пришли не те кроссовки", "photos": 1}])
        sync_returns(market.business)
        record = MarketReturn.objects.get(market_id=ret["id"])
        assert record.order == order

        # --- Receiving that return: opened by the order's box label.
        page = camera_browser()
        login(page, live_server, "svetlana")
        page.goto(f"{live_server.url}/returns/")
        page.fill("#return-open input[name=code]", f"{order.market_id}-1")
        page.press("#return-open input[name=code]", "Enter")
        page.wait_for_url(f"{live_server.url}/returns/{record.pk}/")
        # The packing photo beside it, served by the dashboard under the CSP.
        assert page.locator("#packing-photos figure.photo").count() == 1
        assert page.evaluate("document.querySelector('#packing-photos img').naturalWidth") > 0

        page.focus("#scan")
        scanner_type(page, codes[0], "ctrl")
        page.wait_for_function("() => document.querySelectorAll('#units tr[id^=unit-]').length === 1")
        scanner_type(page, swapped, "ctrl")
        page.wait_for_function("() => document.querySelectorAll('#units tr.flagged.mismatch').length === 1")
        assert "НЕСОВПАДЕНИЕ" in page.inner_text("#feedback")
        scanner_type(page, "hello", "ctrl")
        page.wait_for_function("() => document.getElementById('feedback').innerText.includes('ничего не записано')")
        assert sorted(record.units.values_list("match", flat=True)) == [Match.MATCHED, Match.NEVER_SHIPPED]

        for unit, grade in zip(record.units.order_by("scanned_at", "id"), ("FIT", "WRONG_ITEM"), strict=True):
            row = page.locator(f"#unit-{unit.pk}")
            row.locator("select[name=grade]").select_option(grade)
            if grade == "WRONG_ITEM":
                row.locator("input[name=note]").fill("другая пара, код не наш")
            with page.expect_navigation():
                row.locator("button[type=submit]").click()
        with page.expect_navigation():
            page.click("#return-receive button")
        assert page.locator("#received-banner").count() == 1

        # --- The decision: refused once (not confirmed) with the choices kept, then sent by the worker.
        item = record.payload["items"][0]["decisions"][0]["returnItemId"]
        form = page.locator("#return-decide")
        form.locator(f"select[name=decision-{item}]").select_option("DECLINE_REFUND")
        form.locator(f"select[name=reason-{item}]").select_option("ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED")
        form.locator(f"input[name=comment-{item}]").fill("Вернулась другая пара: код маркировки не наш")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "нельзя отменить" in page.inner_text("ul.messages")
        form = page.locator("#return-decide")
        assert form.locator(f"select[name=decision-{item}]").input_value() == "DECLINE_REFUND"
        assert form.locator(f"input[name=comment-{item}]").input_value().startswith("Вернулась другая пара")
        form.locator("input[name=confirm]").check()
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "отправляется на Маркет" in page.inner_text("ul.messages")
        wait_for(lambda: OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION,
                                                     state=OutboxAction.State.DELIVERED).exists(),
                 30, "the decision delivered", worker)

        # --- The packing photo to the order's chat with the buyer.
        with page.expect_navigation():
            page.click("#photos-to-chat button")
        assert "отправлены в чат" in page.inner_text("ul.messages")

    # What the sandbox received.
    at_market = control(market, "GET", f"/returns/{record.market_id}")
    claim = at_market["items"][0]["decisions"][0]
    assert claim["decisionType"] == "DECLINE_REFUND"
    assert at_market["refundStatus"] == "PREMODERATION_DECISION_MADE"
    sent = market.store.received("submitReturnDecision")
    assert len(sent) == 1  # the refused first submit sent nothing
    assert json.loads(sent[0]["body"])["returnItemDecisions"] == [{
        "returnItemId": item, "decisionType": "DECLINE_REFUND",
        "decisionReasonType": "ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED",
        "comment": "Вернулась другая пара: код маркировки не наш"}]
    chat = next(c for c in control(market, "GET", "/chats")["chats"] if c["orderId"] == order.market_id)
    assert chat["context"]["type"] == "ORDER"
    got = requests.get(f"{market.url}/_sandbox/chat-files/{chat['chatId']}/1", timeout=10)
    assert got.content == taken and got.headers["Content-Type"] == "image/jpeg"
