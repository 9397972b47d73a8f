"""A shipment day in real Chromium against the sandbox Market over HTTP, with a real worker.

Every order is packed and made ready on the order screen by a packer, one of them in two boxes; one
is late and one ships tomorrow. The supervisor prints the shipment's labels (their barcodes read),
moves the late order, declares pallets; a packer scans the boxes at the dock (one missing is flagged,
one of tomorrow's shipment is refused); a confirmation before the cutoff is refused here and never
sent; after it, with the Market's clock behind ours, the Market's refusal appears on the screen by
itself, in words and as received; then the shipment is confirmed and the act downloaded. Asserts on
what the sandbox got.
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
from fulfilment.orders.label_check import read_pages
from fulfilment.orders.models import Order, Shipment
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox.seed import CATALOG

from .shipment_support import received, set_cutoff, shipment_today, skip_near_midnight
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


def pack(page, live_server, market_id: int, boxes: list[list[str]]) -> None:
    """Pack the order on its screen as a packer does, box by box (a product's barcode per unit), then Finish."""
    order = Order.objects.get(market_id=market_id)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    for n, skus in enumerate(boxes, start=1):
        if n > 1:
            page.click("button:has-text('Новая коробка')")
            page.wait_for_selector(f"#box-{n}.current")
        for sku in skus:
            page.focus("#scan")
            page.keyboard.type(CATALOG[sku].ean13, delay=2)
            page.keyboard.press("Enter")
            page.wait_for_selector("#feedback[data-state=ok]")
            page.wait_for_selector("#scan-queue[data-pending='0']", state="attached")
    page.click("button:has-text('Завершить упаковку'):not([disabled])")


def test_a_shipment_day(page, live_server, market, packer, supervisor):
    skip_near_midnight(3)
    sandbox, business = market, market.business
    requests.post(f"{sandbox.url}/_sandbox/settings", json={"report_seconds": 0.5}, timeout=5).raise_for_status()
    set_cutoff(sandbox, 150)
    mug = sandbox.place([("MUG-001", 1)])["orderId"]
    tea = sandbox.place([("TEA-GREEN-100", 1)])["orderId"]
    two_boxes = sandbox.place([("MUG-001", 2)])["orderId"]
    one_box = sandbox.place([("SOCKS-3P", 1)])["orderId"]
    late = sandbox.place([("SOCKS-3P", 1)])["orderId"]
    tomorrow = sandbox.place([("TEA-GREEN-100", 1)], shipment_in_days=1)["orderId"]
    sync_business(business.pk, client=sandbox.client())
    sync_catalogue(business.pk, client=sandbox.client())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    packing = {mug: [["MUG-001"]], tea: [["TEA-GREEN-100"]], two_boxes: [["MUG-001"], ["MUG-001"]],
               one_box: [["SOCKS-3P"]], tomorrow: [["TEA-GREEN-100"]]}

    with Worker(concurrency=2) as worker:
        # The packer packs every order but the late one and marks each ready, on the order screen.
        login(page, live_server, "pavel")
        for market_id, boxes in packing.items():
            pack(page, live_server, market_id, boxes)
            page.wait_for_selector("button.ready:not([disabled])", timeout=60_000)
            page.click("button.ready")
            wait_for(lambda m=market_id: sandbox.stored(m)["substatus"] == "READY_TO_SHIP", 60, "ready", worker)
        assert len(sandbox.stored(two_boxes)["delivery"]["boxesLayout"]) == 2
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
        assert "В обработке: готов к отгрузке" in page.locator(f"#orders tr[data-order='{mug}']").inner_text()

        # All labels of the shipment as one PDF, in the order the packers meet the orders; every
        # label carries its box's barcode, read as the printer prints it.
        page.click("button:has-text('Все ярлыки коробок отгрузки')")
        link = page.wait_for_selector("a.report-file", timeout=60_000)
        labels = page.request.get(live_server.url + link.get_attribute("href"))
        pages, _ = pdf_text(labels.body())
        assert pages == 5
        asked = received(sandbox, "generateMassOrderLabelsReport")[-1]["body"]
        assert asked["orderIds"] == sorted([mug, tea, two_boxes, one_box])
        boxes = {m: [b.barcode for b in sandbox_layout(sandbox, m)] for m in (mug, tea, two_boxes, one_box, tomorrow)}
        assert [codes for codes in read_pages(labels.body())] == [[c] for m in sorted(boxes) if m != tomorrow
                                                                  for c in boxes[m]]

        # The late order moves to tomorrow's shipment, after the quality-index warning is accepted.
        page.check(f"tr.blocker[data-order='{late}'] input[name=orders]")
        page.check("#transfer-form input[name=confirm]")
        page.click("#transfer-form button[type=submit]")
        wait_for(lambda: received(sandbox, "transferOrdersFromShipment"), 60, "the transfer", worker)
        page.fill("#pallets-form input[name=pallets]", "2")
        page.click("#pallets-form button[type=submit]")
        wait_for(lambda: received(sandbox, "setShipmentPalletsCount"), 60, "the pallets count", worker)
        wait_for(lambda: late not in Shipment.objects.get(pk=shipment.pk).order_ids, 60, "moved here", worker)
        # The page follows by itself: the moved order leaves the list, the count stays in its field.
        page.wait_for_selector(f"#orders tr[data-order='{late}']", state="detached", timeout=30_000)
        assert page.input_value("#pallets-form input[name=pallets]") == "2"

        # Before the cutoff a confirmation is refused here, in words, and nothing goes to the Market.
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        page.fill("#confirm-form input[name=signatory]", "ivanov")
        page.fill("#confirm-form input[name=external_id]", "SHIP-1")
        page.click("#confirm-form button[type=submit]")
        assert "Подтвердить отгрузку можно только после отсечки" in page.locator(".messages").inner_text()
        assert not received(sandbox, "confirmShipment")
        assert page.input_value("#confirm-form input[name=signatory]") == "ivanov"  # kept as typed
        assert page.input_value("#confirm-form input[name=external_id]") == "SHIP-1"

        # A packer at the dock: one box of tomorrow's shipment (refused), one scanned twice, one missing.
        login(page, live_server, "pavel")
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/dock/")
        dock_scan(page, boxes[tomorrow][0])
        assert page.locator("#dock-feedback .loud").count() == 1
        assert "относится к отгрузке" in page.locator("#dock-feedback").inner_text()
        for code in boxes[mug] + boxes[tea] + boxes[two_boxes]:
            dock_scan(page, code)
        dock_scan(page, boxes[mug][0])
        assert "уже отсканирована" in page.locator("#dock-feedback").inner_text()
        assert page.locator("#dock-missing li").all_inner_texts() == [f"{boxes[one_box][0]} · заказ {one_box}"]
        page.screenshot(path=str(SCREENSHOTS / "dock.png"), full_page=True)

        # The cutoff passes here, but the Market's clock is ten minutes behind ours.
        set_cutoff(sandbox, -2)
        requests.post(f"{sandbox.url}/_sandbox/clock", json={"offsetSeconds": -600}, timeout=5).raise_for_status()
        # The supervisor: not every box scanned, so no confirmation; then the last box.
        login(page, live_server, "svetlana")
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        page.click("#confirm-form button[type=submit]")
        assert "1 коробка не отсканирована" in page.locator(".messages").inner_text()
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/dock/")
        dock_scan(page, boxes[one_box][0])
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        assert "Отсканированы 5 коробок из 5 — все." in page.locator("#all-scanned").inner_text()

        # The Market refuses (by its clock the cutoff has not come): said on the screen by itself.
        page.click("#confirm-form button[type=submit]")
        page.evaluate("window.sameDocument = true")  # gone if anything reloads the page
        refusal = page.wait_for_selector(".market-refusal", timeout=60_000)
        assert "по его часам отсечка ещё не наступила" in refusal.inner_text()
        said = page.locator(".market-refusal q").all_inner_texts()
        assert said == ["Cutoff time for shipments has not been reached yet"]  # as received
        assert page.evaluate("window.sameDocument") is True
        page.screenshot(path=str(SCREENSHOTS / "shipment.png"), full_page=True)

        # The Market's clock is right again; the shipment is read again and confirmed.
        requests.post(f"{sandbox.url}/_sandbox/clock", json={"offsetSeconds": 0}, timeout=5).raise_for_status()
        page.click("button:has-text('Загрузить из Маркета заново')")
        page.fill("#confirm-form input[name=signatory]", "ivanov")
        page.click("#confirm-form button[type=submit]")
        wait_for(lambda: Shipment.objects.get(pk=shipment.pk).status == "OUTBOUND_SIGNED", 60, "confirmed", worker)
        # Confirmed: the forms and the orders holding it up leave the page by themselves.
        page.wait_for_selector("#confirm-form", state="detached", timeout=30_000)
        assert page.locator("#blockers").count() == 0 and page.locator("#confirmed-note").is_visible()
        page.goto(f"{live_server.url}/shipments/{shipment.pk}/")
        act = page.request.get(live_server.url + page.get_attribute("#act-link", "href"))
        assert act.headers["content-type"] == "application/pdf"
        _, text = pdf_text(act.body())
        assert all(str(m) in text for m in (mug, tea, two_boxes, one_box)) and str(late) not in text

    # What the Market received: the boxes laid out by the dashboard, the transfer, the pallets, and
    # two confirmations (the one its clock refused, the one it accepted), none before the cutoff.
    layouts = [r["path"] for r in received(sandbox, "setOrderBoxLayout") if r["status"] == 200]
    assert all(any(f"/orders/{m}/" in path for path in layouts) for m in packing)
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
