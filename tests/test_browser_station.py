"""The pack station in real Chromium at a desktop's 1366×768 and a handheld's 360×640 (and 320 px):
an FBS order with marking codes and a split packed by scans alone, commands included, the labels
printed from the hidden frame by themselves and again by command, the next order opened by Enter;
and the offline state, with each refusal shown and sounded after the connection is back.

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
    PlacementModel,
    ProductBarcode,
)
from fulfilment.orders.sync import sync_business
from fulfilment.packing.state import PackState
from fulfilment.sandbox import seed
from fulfilment.sandbox.seed import CATALOG, make_cis

from .builders import make_linked_order
from .conftest import checked_context
from .worker import Worker

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
# DOCS_SCREENSHOTS=1 refreshes the README's pictures; otherwise they go with the other test artifacts.
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("DOCS_SCREENSHOTS") == "1" else Path(
    os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts"))
DESKTOP, HANDHELD = {"width": 1366, "height": 768}, {"width": 360, "height": 640}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def business(sandbox):
    b = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Демо", api_base_url=sandbox.url,
                                api_token=seed.DEMO_API_KEY)
    Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID, business=b, name="demo-fbs",
                            placement_model=PlacementModel.FBS)
    return b


@pytest.fixture
def station(chromium, live_server, settings, request):
    """A browser context of the given size (``indirect`` parameter), logged-in flows left to the test."""
    settings.SESSION_COOKIE_SECURE = False  # live_server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    context, violations = checked_context(chromium, viewport=request.param, has_touch=request.param["width"] < 500)
    page = context.new_page()
    yield page
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def login(page, live_server, user="pavel"):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw-" + user)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def scan(page, code: str) -> None:
    """A keyboard-wedge scanner: the code a few ms per key, GS as Ctrl+], Enter at the end."""
    for n, part in enumerate(code.split("\x1d")):
        if n:
            page.keyboard.press("Control+BracketRight")
        page.keyboard.type(part, delay=2)
    page.keyboard.press("Enter")


def no_overflow(page) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"scrolls sideways at {page.viewport_size['width']} px"


def small_targets(page) -> list[str]:
    """Visible buttons and selects of the order screen under 44 px high."""
    return page.evaluate("""() => [...document.querySelectorAll('#pack button, #pack select')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
        .map(e => e.outerHTML.slice(0, 80))""")


def above_the_fold(page) -> None:
    """The answer and the next step start on the first screen, whatever its size."""
    for element in ("#feedback", "#next-step"):
        assert page.locator(element).bounding_box()["y"] < page.viewport_size["height"] - 40, element


def answered(page, text: str) -> None:
    page.wait_for_selector(f"#feedback[data-state=ok]:has-text('{text}')")
    page.wait_for_selector("#scan-queue[data-pending='0']")


@pytest.mark.parametrize("station", [DESKTOP, HANDHELD], indirect=True, ids=["1366x768", "360x640"])
def test_an_fbs_order_with_codes_and_a_split_is_packed_by_scans_alone(station, live_server, sandbox, business,
                                                                     packer):
    page, width = station, station.viewport_size["width"]
    size = f"{width}x{station.viewport_size['height']}"
    rng = random.Random(16)
    this = sandbox.place([("MILK-1L", 2), ("AC-SPLIT-9", 1)], buyer_type="BUSINESS")
    later = sandbox.place([("MUG-001", 1)], shipment_in_days=2)
    sooner = sandbox.place([("MUG-001", 1)], shipment_in_days=1)
    sync_business(business.pk, client=sandbox.client())
    sync_catalogue(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=this["orderId"])
    nxt = Order.objects.get(market_id=sooner["orderId"])
    milk = [make_cis(CATALOG["MILK-1L"], rng) for _ in range(2)]
    labels = []
    page.on("response", lambda r: labels.append(r) if "/labels/" in r.url else None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Worker(concurrency=2):
        login(page, live_server)
        page.goto(f"{live_server.url}/queue/")
        no_overflow(page)
        page.screenshot(path=str(SHOTS / f"queue-{size}.png"))
        page.focus("#scan")
        scan(page, str(order.market_id))
        page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
        assert page.get_attribute("#scan", "inputmode") == "none"
        above_the_fold(page)

        scan(page, milk[0])
        answered(page, "MILK-1L")
        scan(page, milk[1])
        answered(page, "MILK-1L")
        scan(page, "CMD-UNDO")  # the second code taken back, then scanned again
        answered(page, "Отменено")
        assert Instance.objects.filter(order=order).count() == 1
        scan(page, milk[1])
        answered(page, "MILK-1L")
        scan(page, "CMD-NEW-BOX")
        answered(page, "Коробка 2")
        scan(page, CATALOG["AC-SPLIT-9"].ean13)
        answered(page, "AC-SPLIT-9")
        scan(page, "CMD-SPLIT-2")
        page.wait_for_selector("#box-3")
        assert page.locator(".problems").count() == 0
        no_overflow(page)
        assert small_targets(page) == []
        above_the_fold(page)
        page.screenshot(path=str(SHOTS / f"order-{size}.png"))
        if width < 500:  # the smallest handhelds: nothing is cut at 320 CSS px either
            page.set_viewport_size({"width": 320, "height": 640})
            no_overflow(page)
            page.set_viewport_size(HANDHELD)

        # Finish by scan: once the Market has the boxes, the labels print by themselves.
        scan(page, "CMD-FINISH")
        page.wait_for_selector("#pack[data-printed*='/labels/']", state="attached", timeout=60_000)
        assert page.get_attribute("#pack", "data-print-failed") is None
        # The frame holds what the labels URL answered: the Market's PDF.
        first = next(r for r in labels if r.status == 200)
        assert first.headers["content-type"] == "application/pdf"
        assert page.get_attribute("#print-frame", "src").startswith("blob:")
        frame_pdf = page.evaluate("async () => { const b = await (await fetch("
                                  "document.getElementById('print-frame').src)).arrayBuffer();"
                                  " return [b.byteLength, String.fromCharCode(...new Uint8Array(b.slice(0, 4)))]; }")
        assert frame_pdf[0] > 500 and frame_pdf[1] == "%PDF"
        order.refresh_from_db()
        assert order.labels_printed_version == order.layout_version
        # Printed again by command: the frame loads the PDF anew.
        before, printed = len(labels), page.get_attribute("#pack", "data-printed")
        scan(page, "CMD-LABELS")
        answered(page, "Печатаю ярлыки")
        page.wait_for_function("p => document.getElementById('pack').dataset.printed !== p", arg=printed)
        assert [(r.status, r.headers["content-type"]) for r in labels[before:]] == [(200, "application/pdf")]

        page.wait_for_selector("button.ready:not([disabled])", timeout=60_000)
        scan(page, "CMD-READY")
        page.wait_for_selector("#done a.next-order", timeout=60_000)
        # What comes next is said again once the Market has the order ready, not the step before.
        page.wait_for_function("() => document.getElementById('announce').textContent.includes('Готово')")
        assert "ярлык" not in page.locator("#announce").inner_text()
        assert page.locator("#done a.next-order").get_attribute("data-order") == str(nxt.market_id)
        assert str(later["orderId"]) not in page.locator("#done").inner_text()
        no_overflow(page)
        page.screenshot(path=str(SHOTS / f"done-{size}.png"))
        # Enter on the empty field opens the next order the screen offers.
        page.focus("#scan")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/orders/{nxt.pk}/")

    layouts = [r for r in sandbox.store.received("setOrderBoxLayout") if r["status"] == 200]
    items = {i["offerId"]: i["id"] for i in this["items"]}
    assert json.loads(layouts[-1]["body"]) == {"boxes": [
        {"items": [{"id": items["MILK-1L"], "fullCount": 2, "instances": [{"cis": c} for c in milk]}]},
        {"items": [{"id": items["AC-SPLIT-9"], "partialCount": {"current": 1, "total": 2}}]},
        {"items": [{"id": items["AC-SPLIT-9"], "partialCount": {"current": 2, "total": 2}}]},
    ]}
    assert sandbox.stored(order.market_id)["substatus"] == "READY_TO_SHIP"


@pytest.mark.parametrize("station", [HANDHELD], indirect=True, ids=["360x640"])
def test_offline_is_its_own_state_and_each_refusal_after_it_is_shown_and_sounded(station, live_server, sandbox,
                                                                                 business, packer):
    page = station
    placed = sandbox.place([("MUG-001", 3)])
    sync_business(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=placed["orderId"])
    mug = CATALOG["MUG-001"].ean13
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + mug, offer_id="MUG-001")
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.focus("#scan")
    scan(page, mug)
    answered(page, "MUG-001")
    assert page.is_hidden("#offline")

    page.context.set_offline(True)
    for code in (mug, "NOT-A-CODE", mug, "4601234567890"):
        scan(page, code)
    page.wait_for_selector("#offline", state="visible")
    page.wait_for_selector("#offline-count:text-is('4')")
    assert page.is_hidden("#feedback")  # the last green answer is not left on screen
    no_overflow(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "offline-360x640.png"))
    sounds_before = page.get_attribute("#pack", "data-sounds")

    page.context.set_offline(False)
    page.wait_for_selector("#scan-queue[data-pending='0']", timeout=30_000)
    page.wait_for_selector("#offline", state="hidden")
    page.wait_for_selector("#feedback[data-state=error][data-refusals='2']")
    refusals = page.locator("#feedback p.refusal").all_inner_texts()
    assert len(refusals) == 2 and "NOT-A-CODE" in refusals[0] and "4601234567890" in refusals[1]
    # Each refusal sounds on its own: two error tones after the reconnect.
    page.wait_for_function("([before]) => document.getElementById('pack').dataset.sounds.length >= "
                           "before.length + ' error error'.length", arg=[sounds_before])
    assert page.get_attribute("#pack", "data-sounds").endswith("error error")
    assert "отклонены" in page.inner_text("#announce") or "отклонены" in page.inner_text("#feedback")
    order.refresh_from_db()
    assert {st.item.offer_id: st.placed for st in PackState(order).items.values()} == {"MUG-001": 3}
    # The command sheet fits a handheld too (its barcodes shrink to the screen).
    page.goto(f"{live_server.url}/help/scanner/")
    assert page.locator("[data-command] img.code128").count() >= 12
    for width in (360, 320):
        page.set_viewport_size({"width": width, "height": 640})
        no_overflow(page)


@pytest.mark.parametrize("station", [HANDHELD], indirect=True, ids=["360x640"])
def test_a_terminal_whose_scanner_sends_enter_as_text_is_set_once_and_typing_by_hand_opens_the_keyboard(
        station, live_server, sandbox, business, packer):
    page = station
    placed = sandbox.place([("MUG-001", 3)])
    sync_business(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=placed["orderId"])
    mug = CATALOG["MUG-001"].ean13
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + mug, offer_id="MUG-001")
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.click("#station-settings summary")
    page.check("#enter-as-text")
    page.reload()  # a setting of this terminal: kept in the browser across pages
    assert page.is_checked("#enter-as-text")
    page.focus("#scan")
    page.keyboard.insert_text(mug + "\n")  # what a scanner service sends as text, not as a key
    answered(page, "(1 из 3)")
    page.keyboard.insert_text(mug + "\t")
    answered(page, "(2 из 3)")
    assert page.input_value("#scan") == ""
    page.keyboard.type(mug, delay=2)
    page.keyboard.press("Enter")  # a real Enter key still works
    answered(page, "(3 из 3)")
    # The on-screen keyboard stays shut until asked for.
    assert page.get_attribute("#scan", "inputmode") == "none"
    page.click("#keyboard")
    assert page.get_attribute("#scan", "inputmode") == "text"
    assert page.get_attribute("#keyboard", "aria-pressed") == "true"
    assert page.evaluate("document.activeElement.id") == "scan"


def in_view(page, selector: str) -> bool:
    """The element's first lines are on the visible screen (not above or below it)."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


@pytest.mark.parametrize("station", [DESKTOP, HANDHELD], indirect=True, ids=["1366x768", "360x640"])
def test_labels_the_printer_could_not_read_are_not_printed_and_the_packer_sees_why(station, live_server, sandbox,
                                                                                   business, packer):
    page = station
    this = sandbox.place([("MUG-001", 1)])
    sync_business(business.pk, client=sandbox.client())
    sync_catalogue(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=this["orderId"])
    with Worker(concurrency=2):
        login(page, live_server)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        page.focus("#scan")
        scan(page, CATALOG["MUG-001"].ean13)
        answered(page, "MUG-001")
        scan(page, "CMD-FINISH")
        page.wait_for_selector("#pack[data-printed*='/labels/']", state="attached", timeout=60_000)
        # As the packer does: A9 chosen below, «Print labels» pressed there. At 203 dpi its bars are
        # too fine to read (orders/label_check.py).
        page.select_option("#labels-form select[name=format]", "A9")
        page.click("#labels")
        page.wait_for_selector("#pack[data-print-failed*='format=A9']", state="attached", timeout=60_000)
    # Said where the packer looks: the answer panel, red, in view, sounded and read out.
    feedback = page.locator("#feedback")
    page.wait_for_function("() => document.getElementById('announce').textContent.includes('203 dpi')")
    assert feedback.get_attribute("data-state") == "error"
    assert "203 dpi" in feedback.inner_text() and "не печатаются" in feedback.inner_text()
    assert in_view(page, "#feedback")
    assert page.get_attribute("#pack", "data-sounds").split()[-1] == "error"
    assert page.locator("#print-frame").get_attribute("src").startswith("blob:")  # the first labels, not these
    order.refresh_from_db()
    assert order.labels_printed_version == order.layout_version  # the A7 ones printed by themselves


@pytest.mark.parametrize("station", [HANDHELD], indirect=True, ids=["360x640"])
def test_a_button_far_down_that_is_refused_brings_the_answer_into_view(station, live_server, business, packer):
    page = station
    order = make_linked_order(business.campaigns.get(), items=(("MUG-001", 1),))
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.locator("#split-form button").scroll_into_view_if_needed()
    assert not in_view(page, "#feedback")
    page.click("#split-form button")
    page.wait_for_selector("#feedback[data-state=error]:has-text('MUG-001')")
    page.wait_for_function("() => { const r = document.getElementById('feedback').getBoundingClientRect();"
                           " return r.top >= 0 && r.top < window.innerHeight - 40; }")
    assert page.get_attribute("#pack", "data-sounds").split()[-1] == "error"


@pytest.mark.parametrize("station", [DESKTOP, HANDHELD], indirect=True, ids=["1366x768", "360x640"])
def test_ready_pressed_while_the_market_takes_the_boxes_leaves_one_answer(station, live_server, sandbox,
                                                                          business, packer):
    page = station
    this = sandbox.place([("MUG-001", 1)])
    sync_business(business.pk, client=sandbox.client())
    sync_catalogue(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=this["orderId"])
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.focus("#scan")
    scan(page, CATALOG["MUG-001"].ean13)
    answered(page, "MUG-001")
    with Worker(concurrency=2) as worker:
        # The buttons while nothing is delivered: the layout waits to be sent and the panel's body polls.
        worker.kill()
        page.click("#finish button.primary:not(.ready)")
        page.wait_for_selector("#feedback[data-state=ok]:has-text('Упаковано')")
        page.click("#finish button.ready")
        page.wait_for_selector("#feedback[data-state=ok]:has-text('готовый к отгрузке')")
        assert page.locator("#feedback").count() == 1 and page.locator("#teach").count() == 1
        worker.start()
        page.wait_for_selector("#done", timeout=60_000)
    assert page.locator("#feedback").count() == 1 and page.locator("#panel").count() == 1
    assert page.locator("#teach").count() == 1
    assert "Упаковано" not in page.locator("#feedback").inner_text()
    # Once ready, what comes next is not the labels step behind the packer.
    next_step = page.locator("#next-step").inner_text()
    assert "Готово" in next_step and "Наклейте" not in next_step
