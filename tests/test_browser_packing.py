"""A packer packs an order in real Chromium at scanner speed; the sandbox Market gets exactly the layout.

Everything is real: the dashboard on a live server, a Celery worker delivering the outbox, the
sandbox Market over HTTP, Debian's Chromium typing like a keyboard-wedge scanner.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from fulfilment.orders.catalogue import sync_catalogue
from fulfilment.orders.models import (
    Business,
    Campaign,
    Instance,
    Order,
    OutboxAction,
    PlacementModel,
    ProductBarcode,
)
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox import seed
from fulfilment.sandbox.seed import CATALOG, make_cis

from .worker import Worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
GS = "\x1d"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "test-artifacts"))


@pytest.fixture
def business(sandbox):
    b = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Демо", api_base_url=sandbox.url,
                                api_token=seed.DEMO_API_KEY)
    Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID, business=b, name="demo-fbs",
                            placement_model=PlacementModel.FBS)
    return b


def login(page, live_server, user="pavel"):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw-" + user)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def scanner_type(page, code: str, how: str) -> None:
    """Type a code as a keyboard-wedge scanner does: a few ms per key, Enter at the end. ``how`` is
    what the scanner does with GS: sends Ctrl+], types a substitute, or drops it."""
    parts = code.split(GS)
    for n, part in enumerate(parts):
        if n:
            if how == "ctrl":
                page.keyboard.press("Control+BracketRight")
            elif how == "substitute":
                page.keyboard.type("<GS>", delay=2)
        page.keyboard.type(part, delay=2)
    page.keyboard.press("Enter")


def test_a_packer_packs_an_order_at_scanner_speed(page, live_server, sandbox, business, packer):
    rng = random.Random(7)
    placed = sandbox.place([("WATER-05", 26), ("MILK-1L", 6), ("AC-SPLIT-9", 1)], buyer_type="BUSINESS")
    sync_business(business.pk, client=sandbox.client())
    sync_catalogue(business.pk, client=sandbox.client())  # as the worker does after each sync
    order = Order.objects.get(market_id=placed["orderId"])
    water, milk = [make_cis(CATALOG["WATER-05"], rng) for _ in range(26)], [make_cis(CATALOG["MILK-1L"], rng)
                                                                            for _ in range(6)]
    with Worker(concurrency=2) as worker:
        login(page, live_server)
        page.goto(f"{live_server.url}/queue/")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "queue.png"))
        # The order is opened by scanning its number on the queue.
        page.focus("#scan")
        scanner_type(page, str(order.market_id), "ctrl")
        page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
        assert page.evaluate("document.activeElement.id") == "scan"

        # The first water code: its GTIN is the catalogue's barcode of WATER-05, so no question.
        scanner_type(page, water[0], "ctrl")
        page.wait_for_selector("#feedback[data-state=ok]")

        # A burst of 31 codes at scanner speed: GS as Ctrl+], as a substitute, or dropped.
        burst = [(milk[0], "ctrl")] + [(c, ("ctrl", "substitute", "drop")[n % 3]) for n, c in enumerate(water[1:])]
        burst += [(c, ("drop", "substitute")[n % 2]) for n, c in enumerate(milk[1:])]
        assert len(burst) >= 30
        for code, how in burst:
            scanner_type(page, code, how)
        wait_for(lambda: Instance.objects.filter(order=order).count() == 32, 60, "every scan saved", worker)
        page.wait_for_selector("#scan-queue[data-pending='0']")
        errors = page.locator("#feedback p.error").all_inner_texts()
        assert not errors, errors
        # The screen shows what the server has (partial updates included): every count is complete.
        assert page.locator("tr.item.done").count() == 2
        assert page.locator("#codes tr").count() == 32

        # The air conditioner travels in two boxes: scan it, then split it.
        scanner_type(page, CATALOG["AC-SPLIT-9"].ean13, "ctrl")
        page.wait_for_selector("#feedback[data-state=ok]:has-text('AC-SPLIT-9')")
        split = page.locator("#split-form")
        split.locator("select[name=item]").select_option(label="AC-SPLIT-9")
        split.locator("select[name=parts]").select_option("2")
        split.locator("button").click()
        page.wait_for_selector("#box-3")
        page.screenshot(path=str(SCREENSHOTS / "order.png"), full_page=True)
        assert page.locator(".problems").count() == 0

        page.click("button:has-text('Завершить упаковку')")
        # The worker sends the layout, then polls the Market's code check; the screen polls too.
        page.wait_for_selector("button.ready:not([disabled])", timeout=60_000)

        labels = page.request.get(f"{live_server.url}/orders/{order.pk}/labels/?format=A7")
        assert labels.status == 200 and labels.body().startswith(b"%PDF")
        page.click("button.ready")
        wait_for(lambda: sandbox.stored(order.market_id)["substatus"] == "READY_TO_SHIP", 60, "ready to ship", worker)
        page.wait_for_selector(".sent.state-delivered >> nth=1", timeout=30_000)

    # What the Market received: exactly one layout, exactly these codes, GS as \u001d, nothing doubled.
    layouts = [r for r in sandbox.store.received("setOrderBoxLayout") if r["status"] == 200]
    assert len(layouts) == 1
    items = {i["offerId"]: i["id"] for i in placed["items"]}
    assert json.loads(layouts[0]["body"]) == {"boxes": [
        {"items": [
            {"id": items["WATER-05"], "fullCount": 26, "instances": [{"cis": c} for c in water]},
            {"id": items["MILK-1L"], "fullCount": 6, "instances": [{"cis": c} for c in milk]},
        ]},
        {"items": [{"id": items["AC-SPLIT-9"], "partialCount": {"current": 1, "total": 2}}]},
        {"items": [{"id": items["AC-SPLIT-9"], "partialCount": {"current": 2, "total": 2}}]},
    ]}
    assert layouts[0]["body"].count("\\u001d") == 32 and "\\\\u001d" not in layouts[0]["body"]
    statuses = [r for r in sandbox.store.received("updateOrderStatus") if r["status"] == 200]
    assert len(statuses) == 1 and statuses[0]["id"] > layouts[0]["id"]
    assert not OutboxAction.objects.exclude(state=OutboxAction.State.DELIVERED).exists()
    assert sorted(Instance.objects.filter(order=order).values_list("value", flat=True)) == sorted(water + milk)


def test_a_packer_scans_each_unit_then_splits_it_and_no_box_is_left_empty(page, live_server, sandbox, business,
                                                                           packer):
    placed = sandbox.place([("AC-SPLIT-9", 2)])
    sync_business(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=placed["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + CATALOG["AC-SPLIT-9"].ean13,
                                  offer_id="AC-SPLIT-9")
    ac = CATALOG["AC-SPLIT-9"].ean13
    with Worker(concurrency=1) as worker:
        login(page, live_server)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        split = page.locator("#split-form")
        # Split before any scan: refused, nothing counts as packed.
        split.locator("button").click()
        page.wait_for_selector("#feedback[data-state=error]:has-text('Сначала отсканируйте')")
        assert page.locator(f"#item-{order.items.get().pk} .placed").inner_text() == "0"
        for n in (1, 2):  # each physical unit: scanned into the current box, then split
            page.focus("#scan")
            scanner_type(page, ac, "ctrl")
            page.wait_for_selector(f"#feedback[data-state=ok]:has-text('({n} из 2)')")
            page.locator("#split-form button").click()
            page.wait_for_selector(f"#box-{2 * n}")
        assert page.locator(".box").count() == 4
        assert page.locator(".problems").count() == 0
        page.click("button:has-text('Завершить упаковку')")
        wait_for(lambda: OutboxAction.objects.filter(order=order, state=OutboxAction.State.DELIVERED).exists(),
                 60, "the layout delivered", worker)
    layouts = [r for r in sandbox.store.received("setOrderBoxLayout") if r["status"] == 200]
    item = placed["items"][0]["id"]
    assert json.loads(layouts[-1]["body"]) == {"boxes": [
        {"items": [{"id": item, "partialCount": {"current": part, "total": 2}}]} for part in (1, 2, 1, 2)]}


def test_after_ready_to_ship_the_screen_stays_green_shows_the_status_and_opens_the_next_order(
        page, live_server, sandbox, business, packer):
    later = sandbox.place([("MUG-001", 1)], shipment_in_days=2)
    this = sandbox.place([("MUG-001", 1)])
    sooner = sandbox.place([("MUG-001", 1)], shipment_in_days=1)
    sync_business(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=this["orderId"])
    nxt = Order.objects.get(market_id=sooner["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + CATALOG["MUG-001"].ean13, offer_id="MUG-001")
    with Worker(concurrency=1) as worker:
        login(page, live_server)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        page.focus("#scan")
        scanner_type(page, CATALOG["MUG-001"].ean13, "ctrl")
        page.wait_for_selector("#feedback[data-state=ok]")
        scanner_type(page, "CMD-FINISH", "ctrl")
        page.wait_for_selector("button.ready:not([disabled])", timeout=60_000)
        scanner_type(page, "CMD-READY", "ctrl")
        page.wait_for_selector("#done", timeout=60_000)
        wait_for(lambda: sandbox.stored(order.market_id)["substatus"] == "READY_TO_SHIP", 30, "ready", worker)
        # Green, the header follows the Market, and no red "not being packed".
        assert "Готов к отгрузке" in page.locator("#order-status").inner_text()  # the status in words
        assert page.locator(".banner.error").count() == 0
        assert page.locator("#feedback p.error").count() == 0 and page.locator("#feedback p.ok").count() >= 1
        link = page.locator("#done a.next-order")
        assert link.get_attribute("data-order") == str(nxt.market_id)
        assert str(later["orderId"]) not in page.locator("#done").inner_text()
        # Scanning the next order's number opens it.
        page.focus("#scan")
        scanner_type(page, str(nxt.market_id), "ctrl")
        page.wait_for_url(f"{live_server.url}/orders/{nxt.pk}/")


def test_a_question_holds_the_scans_behind_it_and_teach_mode_links_once(page, live_server, sandbox, business, packer):
    """A burst of one new GTIN in teach mode: the first scan asks, the others wait (and say so) and
    are applied once the question is answered; without teach mode the new GTIN is refused."""
    rng = random.Random(13)
    placed = sandbox.place([("WATER-05", 4), ("MILK-1L", 1)], buyer_type="BUSINESS")
    sync_business(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=placed["orderId"])
    water = [make_cis(CATALOG["WATER-05"], rng) for _ in range(4)]
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.focus("#scan")
    # No catalogue link and teach mode off: refused as not in this order, no buttons.
    scanner_type(page, water[0], "ctrl")
    page.wait_for_selector("#feedback[data-state=error]")
    assert page.locator(".prompt").count() == 0
    page.click("#teach button")
    page.wait_for_selector("#teach.banner")
    page.focus("#scan")
    for code in water[1:]:
        scanner_type(page, code, "drop")
    page.wait_for_selector(".prompt button")
    page.wait_for_selector("#scan-queue[data-pending='2']")
    assert "2" in page.inner_text(".prompt-held")
    assert not Instance.objects.filter(order=order).exists()
    page.click(".prompt button:has-text('WATER-05')")
    page.wait_for_selector("#scan-queue[data-pending='0']")
    wait_for(lambda: Instance.objects.filter(order=order).count() == 3, 30, "the held scans applied")
    assert page.locator(".prompt").count() == 0 and page.locator("#teach.banner").count() == 0  # one link, then off
    link = ProductBarcode.objects.get(campaign=order.campaign, gtin=water[0][2:16])
    assert (link.offer_id, link.source, link.learnt_by) == ("WATER-05", ProductBarcode.Source.CONFIRMED, packer)
    errors = page.locator("#feedback p.error").all_inner_texts()
    assert not errors, errors
    # The first code, refused before, is taken now that the GTIN is linked.
    scanner_type(page, water[0], "ctrl")
    wait_for(lambda: Instance.objects.filter(order=order).count() == 4, 30, "the first code")
