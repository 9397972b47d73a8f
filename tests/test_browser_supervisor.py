"""A supervisor and a DBS packer at work in real Chromium, in Russian: the cancellation countdown,
a rejected cancellation, a removal that needs its confirmation, a recipient change with the
Market's operation ids, the report and its CSV download, digital keys against the clock.

Everything is real: the dashboard on a live server, a Celery worker delivering the outbox, the
sandbox Market over HTTP.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from fulfilment.orders import outbox
from fulfilment.orders.models import Order, OutboxAction
from fulfilment.orders.sync import sync_business
from fulfilment.packing import finishing, scanning
from fulfilment.packing.kernel import attempt
from fulfilment.sandbox import seed

from .worker import Worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DBS = {"campaign_id": seed.DBS_CAMPAIGN_ID, "program": "DBS"}
LEFT = re.compile(r"осталось (\d+:)?\d+:\d\d")


def login(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw-" + user)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def ticks(page, selector: str) -> None:
    """The countdown shows the time left and counts down."""
    first = page.inner_text(selector)
    assert LEFT.search(first), first
    page.wait_for_function("([s, t]) => document.querySelector(s).textContent !== t", arg=[selector, first],
                           timeout=5_000)


def test_a_supervisor_decides_removes_changes_and_reports(page, live_server, market, supervisor):
    asked = market.place([("MUG-001", 1), ("TEA-GREEN-100", 1)], delivery_type="DELIVERY", status="DELIVERY",
                         substatus="DELIVERY_SERVICE_RECEIVED", cancel_requested=True, **DBS)
    short = market.place([("MUG-001", 3), ("TEA-GREEN-100", 2)], created_ago=dt.timedelta(days=1))
    # updateOrder is the LaaS model's: the recipient is changed on a LaaS courier order.
    courier = market.place([("NOTEBOOK-A5", 2)], delivery_type="DELIVERY", created_ago=dt.timedelta(days=1),
                           campaign_id=seed.LAAS_CAMPAIGN_ID, program="LAAS")
    sync_business(market.business.pk, client=market.client())
    short_order, courier_order = (Order.objects.get(market_id=p["orderId"]) for p in (short, courier))
    with Worker(concurrency=2) as worker:
        login(page, live_server, "svetlana")
        page.click("nav >> text=Старший смены")
        row = page.locator("#cancellations tr", has_text=str(asked["orderId"]))
        ticks(page, "#cancellations .countdown")
        # Accepting is irreversible: without the tick the browser does not send it (issue 13.12).
        row.locator("button[value=accept]").click()
        assert page.url.endswith("/supervisor/") and not OutboxAction.objects.exists()
        row.locator("select[name=reason]").select_option("ORDER_IN_DELIVERY")
        row.locator("button[value=reject]").click()
        page.wait_for_selector(".messages .success")
        assert "отклонена" in page.inner_text(".messages")
        wait_for(lambda: market.store.received("acceptOrderCancellation"), 30, "the decision sent", worker)
        body = json.loads(market.store.received("acceptOrderCancellation")[0]["body"])
        assert body == {"accepted": False, "reason": "ORDER_IN_DELIVERY"}

        # A removal is irreversible: without the tick the browser does not even send it.
        page.goto(f"{live_server.url}/supervisor/orders/{short_order.pk}/")
        mug = page.locator("tr", has_text="MUG-001")
        mug.locator("input[name=count]").fill("1")
        mug.locator("button.danger").click()
        assert page.url.endswith(f"/supervisor/orders/{short_order.pk}/")
        assert not OutboxAction.objects.filter(order=short_order).exists()
        mug.locator("input[name=confirm]").check()
        mug.locator("button.danger").click()
        page.wait_for_selector(".messages .success")
        wait_for(lambda: short_order.items.get(offer_id="MUG-001").count == 1, 30, "the removal applied", worker)
        assert [i["count"] for i in market.stored(short["orderId"])["items"] if i["offerId"] == "MUG-001"] == [1]

        # A new recipient: a wrong phone comes back with the reason and what was typed.
        page.goto(f"{live_server.url}/supervisor/orders/{courier_order.pk}/")
        page.fill("#id_last_name", "Орлова")
        page.fill("#id_first_name", "Мария")
        page.fill("#id_phone", "89990001122")
        page.click("#update button[type=submit]")
        assert "кодом страны" in page.inner_text("#update")
        assert page.input_value("#id_last_name") == "Орлова"
        page.fill("#id_phone", "+79990001122")
        page.click("#update button[type=submit]")
        page.wait_for_selector(".messages .success")
        wait_for(lambda: OutboxAction.objects.filter(order=courier_order, kind="UPDATE_ORDER", state="DELIVERED")
                 .exists(), 30, "the change delivered", worker)
        page.reload()
        assert "ORDER_RECIPIENT_UPDATE" in page.inner_text("body")
        assert market.stored(courier["orderId"])["_sandbox"]["buyer"]["lastName"] == "Орлова"

        # The report for the last week, and its file.
        page.click("nav >> text=Отчёты")
        page.click("button:has-text('Показать')")
        page.wait_for_selector("table.totals")
        assert "MUG-001" in page.inner_text("table.by-sku")
        with page.expect_download() as download:
            page.click("button:has-text('Скачать CSV')")
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
        assert {int(r["Заказ"]) for r in rows} >= {short["orderId"], courier["orderId"]}
        assert download.value.suggested_filename.startswith("orders-")


def test_a_packer_sends_digital_keys_against_the_clock(page, live_server, market, packer):
    placed = market.place([("GAME-KEY", 2)], delivery_type="DIGITAL", created_ago=dt.timedelta(minutes=3), **DBS)
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=placed["orderId"])
    with Worker(concurrency=2) as worker:
        login(page, live_server, "pavel")
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        ticks(page, ".deadline .countdown")
        item = order.items.get()
        page.fill(f"#id_codes-{item.pk}", "KEY-1\n")  # one key for two units
        page.fill(f"#id_slip-{item.pk}", "Активируйте в личном кабинете")
        page.fill(f"#id_till-{item.pk}", (dt.date.today() + dt.timedelta(days=365)).isoformat())
        page.click("button:has-text('Отправить ключи')")
        assert "Нужно ключей: 2, введено: 1" in page.inner_text("form.digital")
        assert page.input_value(f"#id_slip-{item.pk}") == "Активируйте в личном кабинете"
        page.fill(f"#id_codes-{item.pk}", "KEY-1\nKEY-2")
        page.click("button:has-text('Отправить ключи')")
        page.wait_for_selector(".messages .success")
        wait_for(lambda: market.stored(placed["orderId"])["status"] == "DELIVERED", 30, "keys delivered", worker)
        page.reload()
        assert "Ключи отправлены" in page.inner_text("main")


def test_bulk_ready_shows_the_markets_refusals_above_the_fold_before_the_successes(page, live_server, market,
                                                                                   supervisor):
    placed = [market.place([("MUG-001", 1)], created_ago=dt.timedelta(hours=2)) for _ in range(8)]
    sync_business(market.business.pk, client=market.client())
    orders = [Order.objects.get(market_id=p["orderId"]) for p in placed]
    for o in orders:
        scanning.choose_item(o.pk, supervisor, seed.CATALOG["MUG-001"].ean13, o.items.get().pk)
        assert attempt(o.pk, supervisor, "finish", finishing.finish).ok
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())
    # The buyer cancelled the last one at the Market after the sync: only the Market can say no.
    refused = orders[-1]
    stored = market.stored(refused.market_id)
    stored.update(status="CANCELLED", substatus="USER_CHANGED_MIND")
    market.store.save_order(stored)
    with Worker(concurrency=2) as worker:
        login(page, live_server, "svetlana")
        page.goto(f"{live_server.url}/queue/")
        for o in orders:
            page.check(f"input[name=order][value='{o.pk}']")
        page.click("button:has-text('Готовы к отгрузке (отмеченные)')")
        assert page.url.endswith("/queue/")  # swapped in place, not a new page
        wait_for(lambda: OutboxAction.objects.filter(kind="BULK_STATUS", state="DELIVERED").exists(), 30,
                 "the bulk request answered", worker)
        refusal = page.locator("#bulk-result li.refusal", has_text=str(refused.market_id))
        refusal.wait_for(timeout=10_000)  # the area asks again until the Market has answered
        assert "READY_TO_SHIP is possible from PROCESSING/STARTED, not CANCELLED" in refusal.inner_text()
        assert page.evaluate("window.scrollY") == 0
        box = refusal.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, box  # above the fold
        done = page.locator("#bulk-result details.done")
        assert "7 заказов переведены" in done.inner_text()
        assert done.bounding_box()["y"] > box["y"]  # failures first, successes after, collapsed
        assert not page.locator("#bulk-result details.done p").is_visible()
