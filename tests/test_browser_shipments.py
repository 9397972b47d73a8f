"""A shipment day in real Chromium against the sandbox Market over HTTP, with a real worker.

Two orders are packed and made ready on the order screen, two more are laid out in the Market's
cabinet (setup); one is late and one ships tomorrow. The supervisor prints the shipment's labels,
moves the late order, declares pallets; a packer scans the boxes at the dock (one missing is
flagged, one of tomorrow's shipment is refused); the confirmation before the cutoff is refused in
the Market's words, after it goes through; the act is downloaded. Asserts on what the sandbox got.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader

from fulfilment.market.types import LayoutBox
from fulfilment.orders.catalogue import sync_catalogue
from fulfilment.orders.models import Order, Shipment
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox.seed import CATALOG

from .shipment_support import ready_at_market, received, set_cutoff, shipment_today, skip_near_midnight
from .worker import Worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "test-artifacts"))


def login(page, live_server, user: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw-" + user)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def dock_scan(page, code: str) -> None:
    page.fill("#dock-scan", code)
    page.press("#dock-scan", "Enter")
    page.wait_for_selector(f"#dock-feedback:has-text('{code}')")
    page.wait_for_selector("#dock-queue[data-pending='0']", state="attached")


def test_a_shipment_day(page, live_server, market, packer, supervisor):
    skip_near_midnight(3)
    sandbox, business = market, market.business
    requests.post(f"{sandbox.url}/_sandbox/settings", json={"report_seconds": 0.5}, timeout=5).raise_for_status()
    set_cutoff(sandbox, 150)
    mug = sandbox.place([("MUG-001", 1)])["orderId"]
    tea = sandbox.place([("TEA-GREEN-100", 1)])["orderId"]
    two_boxes = ready_at_market(sandbox, boxes=2)  # laid out in the Market's cabinet (setup)
    one_box = ready_at_market(sandbox)
    late = sandbox.place([("SOCKS-3P", 1)])["orderId"]
    tomorrow = ready_at_market(sandbox, shipment_in_days=1)
    sync_business(business.pk, client=sandbox.client())
    sync_catalogue(business.pk, client=sandbox.client())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with Worker(concurrency=2) as worker:
        # The packer packs two orders and marks them ready.
        login(page, live_server, "pavel")
        for market_id, sku in ((mug, "MUG-001"), (tea, "TEA-GREEN-100")):
            order = Order.objects.get(market_id=market_id)
            page.goto(f"{live_server.url}/orders/{order.pk}/")
            page.focus("#scan")
            page.keyboard.type(CATALOG[sku].ean13, delay=2)
            page.keyboard.press("Enter")
            page.wait_for_selector("#feedback[data-state=ok]")
            page.click("button:has-text('Завершить упаковку')")
            page.wait_for_selector("button.ready:not([disabled])", timeout=60_000)
            page.click("button.ready")
            wait_for(lambda m=market_id: sandbox.stored(m)["substatus"] == "READY_TO_SHIP", 60, "ready", worker)
        sync_business(business.pk, client=sandbox.client())  # as the beat does: the Market's box barcodes

        # The supervisor reads the shipments (the worker asks the Market) and opens today's.
        login(page, live_server, "svetlana")
        page.goto(f"{live_server.url}/shipments/")
        page.click("button:has-text('Загрузить отгрузки из Маркета заново')")
        wait_for(lambda: Shipment.objects.count() == 2, 60, "shipments mirrored", worker)
        page.goto(f"{live_server.url}/shipments/")
        shipment = shipment_today()
        row = page.locator(f"tr[data-shipment='{shipment.market_id}']")
        assert "осталось" in row.locator(".countdown").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "shipments.png"), full_page=True)
        page.click(f"a:has-text('{shipment.market_id}')")
        assert page.locator("#blockers tr.blocker").count() == 1
        assert "Ещё не собран" in page.locator(f"tr.blocker[data-order='{late}']").inner_text()

        # All labels of the shipment as one PDF, in the order the packers meet the orders.
        page.click("button:has-text('Все ярлыки отгрузки')")
        link = page.wait_for_selector("a.report-file", timeout=60_000)
        labels = page.request.get(live_server.url + link.get_attribute("href"))
        pages, _ = pdf_text(labels.body())
        assert pages == 5
        asked = received(sandbox, "generateMassOrderLabelsReport")[-1]["body"]
        assert asked["orderIds"] == sorted([mug, tea, two_boxes, one_box])

        # The late order moves to tomorrow's shipment, after the quality-index warning is accepted.
        page.check(f"tr.blocker[data-order='{late}'] input[name=orders]")
        page.check("#transfer-form input[name=confirm]")
        page.click("#transfer-form button[type=submit]")
        wait_for(lambda: received(sandbox, "transferOrdersFromShipment"), 60, "the transfer", worker)
        page.fill("#pallets-form input[name=pallets]", "2")
        page.click("#pallets-form button[type=submit]")
        wait_for(lambda: received(sandbox, "setShipmentPalletsCount"), 60, "the pallets count", worker)
        wait_for(lambda: late not in Shipment.objects.get(pk=shipment.pk).order_ids, 60, "moved here", worker)

        # A packer at the dock: one box of tomorrow's shipment (refused), one scanned twice, one missing.
        login(page, live_server, "pavel")
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/dock/")
        boxes = {m: [b.barcode for b in sandbox_layout(sandbox, m)] for m in (mug, tea, two_boxes, one_box, tomorrow)}
        dock_scan(page, boxes[tomorrow][0])
        assert page.locator("#dock-feedback .loud").count() == 1
        assert "относится к отгрузке" in page.locator("#dock-feedback").inner_text()
        for code in boxes[mug] + boxes[tea] + boxes[two_boxes]:
            dock_scan(page, code)
        dock_scan(page, boxes[mug][0])
        assert "уже отсканирована" in page.locator("#dock-feedback").inner_text()
        assert page.locator("#dock-missing li").all_inner_texts() == [f"{boxes[one_box][0]} · заказ {one_box}"]
        page.screenshot(path=str(SCREENSHOTS / "dock.png"), full_page=True)

        # The supervisor: not every box scanned, so no confirmation; then the last box.
        login(page, live_server, "svetlana")
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        page.click("#confirm-form button[type=submit]")
        assert "1 коробка не отсканирована" in page.locator(".messages").inner_text()
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/dock/")
        dock_scan(page, boxes[one_box][0])
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        assert "Все 5 коробок отсканированы" in page.locator("#all-scanned").inner_text()

        # Before the cutoff the Market refuses; its words are on the page.
        page.click("#confirm-form button[type=submit]")
        page.wait_for_selector(".market-refusal:has-text('Cutoff time for shipments has not been reached yet')",
                               timeout=60_000)
        # The cutoff passes; the shipment is read again and confirmed.
        set_cutoff(sandbox, -2)
        page.click("button:has-text('Загрузить из Маркета заново')")
        page.fill("#confirm-form input[name=signatory]", "ivanov")
        page.screenshot(path=str(SCREENSHOTS / "shipment.png"), full_page=True)
        page.click("#confirm-form button[type=submit]")
        wait_for(lambda: Shipment.objects.get(pk=shipment.pk).status == "OUTBOUND_SIGNED", 60, "confirmed", worker)
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        act = page.request.get(live_server.url + page.get_attribute("#act-link", "href"))
        assert act.headers["content-type"] == "application/pdf"
        _, text = pdf_text(act.body())
        assert all(str(m) in text for m in (mug, tea, two_boxes, one_box)) and str(late) not in text

    # What the Market received, in order: the transfer, the pallets, a refused and an accepted confirmation.
    assert json.loads(sandbox.store.received("transferOrdersFromShipment")[0]["body"]) == {"orderIds": [late]}
    assert json.loads(sandbox.store.received("setShipmentPalletsCount")[0]["body"]) == {"placesCount": 2}
    confirmations = sandbox.store.received("confirmShipment")
    assert [c["status"] for c in confirmations] == [400, 200]
    assert json.loads(confirmations[1]["body"]) == {"signatory": "ivanov"}
    assert sandbox.stored(late)["delivery"]["shipment"]["shipmentDate"] != sandbox.stored(mug)["delivery"][
        "shipment"]["shipmentDate"]


def sandbox_layout(sandbox, market_id: int) -> list:
    """The order's boxes as the Market holds them (their label barcodes)."""
    return [LayoutBox.from_json(b) for b in sandbox.stored(market_id)["delivery"]["boxesLayout"]]
