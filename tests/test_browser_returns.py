"""A supervisor receives a return in real Chromium, against the sandbox Market over HTTP.

The order is packed here code by code and its layout delivered to the sandbox through the outbox;
the sandbox delivers it and the buyer returns it (control plane); the returns pass mirrors it. In the
browser: the Returns screen, the return opened by its order label, one unit that is the code we
shipped and one swapped (flagged loudly), a scan typed while offline kept and sent on reconnect, a
bad scan refused, both units graded, the return received, a decision per item sent by a real worker
— and the sandbox's own record of the return says what it received. A second submit and a decision
past its deadline get a clear message and change nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest
from django.utils import timezone

from fulfilment.orders.models import MarketReturn, Match, OutboxAction
from fulfilment.orders.returns_mirror import sync_returns
from fulfilment.sandbox import seed
from tests.returns_support import control
from tests.test_returns_receiving import SHOES, packed_and_delivered, returned

from .test_browser_packing import login, scanner_type
from .worker import Worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "test-artifacts"))


def units_shown(page) -> int:
    return page.locator("#units tbody tr[id^=unit-]").count()


def test_a_supervisor_receives_a_swapped_unit_grades_and_decides(page, live_server, market, packer, supervisor):
    order, codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    late_order, _ = packed_and_delivered(market, packer, rng=random.Random(8))
    late = returned(market, late_order, reason="DOES_NOT_FIT")
    market.seeder.demo_returns()  # the rest of the screen: unredeemed orders at a pickup point, one overdue
    sync_returns(market.business)
    swapped = seed.make_cis(SHOES, random.Random(5))  # the same product, a code this shop never shipped
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with Worker(concurrency=1) as worker:
        login(page, live_server, "svetlana")
        page.goto(f"{live_server.url}/returns/")
        assert page.locator("#coming tr.overdue").count() == 1
        assert page.locator("#waiting").get_by_text(str(record.market_id)).count() == 1
        page.screenshot(path=str(SCREENSHOTS / "returns.png"), full_page=True)

        # The return opened by scanning its order's label.
        page.fill("#return-open input[name=code]", f"{record.order_market_id}-1")
        page.press("#return-open input[name=code]", "Enter")
        page.wait_for_url(f"{live_server.url}/returns/{record.pk}/")
        assert "бракованный товар" in page.inner_text("#claims")

        # Offline: the scan is kept (in the page and in localStorage) and goes once the network is back.
        page.context.set_offline(True)
        page.focus("#scan")
        scanner_type(page, codes[0], "ctrl")
        page.wait_for_function("() => document.getElementById('scan-queue').dataset.pending === '1'")
        page.wait_for_function("() => document.getElementById('scan-queue').innerText.includes('сохранены')")
        assert record.units.count() == 0
        page.context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_function("() => document.querySelectorAll('#units tr[id^=unit-]').length === 1")
        assert page.evaluate(f"localStorage.getItem('pending-scans-return-{record.pk}')") == "[]"

        # The swapped unit: loud.
        scanner_type(page, swapped, "ctrl")
        page.wait_for_function("() => document.querySelectorAll('#units tr.flagged.mismatch').length === 1")
        assert "НЕСОВПАДЕНИЕ" in page.inner_text("#feedback")
        assert page.get_attribute("#feedback", "data-state") == "error"
        page.screenshot(path=str(SCREENSHOTS / "return-mismatch.png"), full_page=True)

        # A bad scan: said clearly, nothing recorded.
        scanner_type(page, "hello", "ctrl")
        page.wait_for_function("() => document.getElementById('feedback').innerText.includes('ничего не записано')")
        assert units_shown(page) == 2 and record.units.count() == 2
        assert sorted(record.units.values_list("match", flat=True)) == [Match.MATCHED, Match.NEVER_SHIPPED]

        # Graded, then received.
        for unit, grade in zip(record.units.order_by("scanned_at", "id"), ("FIT", "WRONG_ITEM"), strict=True):
            row = page.locator(f"#unit-{unit.pk}")
            row.locator("select[name=grade]").select_option(grade)
            row.locator("input[name=note]").fill("" if grade == "FIT" else "другая пара, код не наш")
            with page.expect_navigation():
                row.locator("button[type=submit]").click()
        with page.expect_navigation():
            page.click("#return-receive button")
        assert page.locator("#received-banner").count() == 1
        assert sorted(record.units.values_list("grade", flat=True)) == ["FIT", "WRONG_ITEM"]

        # The decision, per item, confirmed; the worker sends it; the sandbox has it.
        item = record.payload["items"][0]["decisions"][0]["returnItemId"]
        form = page.locator("#return-decide")
        form.locator(f"select[name=decision-{item}]").select_option("DECLINE_REFUND")
        form.locator(f"select[name=reason-{item}]").select_option("ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED")
        form.locator(f"input[name=comment-{item}]").fill("Вернулась другая пара: код маркировки не наш")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "нельзя отменить" in page.inner_text("ul.messages")  # not confirmed: nothing sent
        assert not OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).exists()
        # The choices made are kept: only the confirmation is still to tick.
        assert form.locator(f"select[name=reason-{item}]").input_value() == "ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED"
        form.locator("input[name=confirm]").check()
        other_tab = page.context.new_page()  # the same return open in a second tab: the double submit below
        other_tab.goto(f"{live_server.url}/returns/{record.pk}/")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "отправляется на Маркет" in page.inner_text("ul.messages")
        action = wait_for(lambda: OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION,
                                                               state=OutboxAction.State.DELIVERED).first(),
                          30, "the decision delivered", worker)
        at_market = control(market, "GET", f"/returns/{record.market_id}")
        claim = at_market["items"][0]["decisions"][0]
        assert claim["decisionType"] == "DECLINE_REFUND"
        assert at_market["refundStatus"] == "PREMODERATION_DECISION_MADE"

        # A second submit, from the other tab: refused here, nothing more queued or sent.
        form = other_tab.locator("#return-decide")
        form.locator(f"select[name=decision-{item}]").select_option("REFUND_MONEY")
        form.locator("input[name=confirm]").check()
        with other_tab.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "уже отправлено" in other_tab.inner_text("ul.messages")
        other_tab.close()
        assert OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).count() == 1
        assert control(market, "GET", f"/returns/{record.market_id}")["items"][0]["decisions"][0] == claim
        assert action.pk

        # A decision made after its deadline (the page was opened in time): refused, nothing sent.
        page.goto(f"{live_server.url}/returns/{late.pk}/")
        MarketReturn.objects.filter(pk=late.pk).update(
            created_at_market=timezone.now() - dt.timedelta(hours=73))  # the supervisor waited too long
        late_item = late.payload["items"][0]["decisions"][0]["returnItemId"]
        form = page.locator("#return-decide")
        form.locator(f"select[name=decision-{late_item}]").select_option("REFUND_MONEY")
        form.locator("input[name=confirm]").check()
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "Срок решения прошёл" in page.inner_text("ul.messages")
        assert OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION).count() == 1
        assert not control(market, "GET", f"/returns/{late.market_id}")["items"][0]["decisions"][0].get(
            "decisionType")
