"""A packer's session ends while packing, in real Chromium: the scans made meanwhile are kept, the
page says to log in again, and after a login in another tab they are delivered once, no reload.

Everything is real: the dashboard on a live server, the order synced from the sandbox Market over
HTTP, Debian's Chromium typing like a keyboard-wedge scanner.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from fulfilment.orders.models import AuditEvent, Business, Campaign, Order, PlacementModel, ProductBarcode
from fulfilment.orders.sync import sync_business
from fulfilment.packing.state import PackState
from fulfilment.sandbox import seed
from fulfilment.sandbox.seed import CATALOG

from .worker import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MUG, TEA = CATALOG["MUG-001"].ean13, CATALOG["TEA-GREEN-100"].ean13


@pytest.fixture
def campaign(sandbox):
    business = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Демо", api_base_url=sandbox.url,
                                       api_token=seed.DEMO_API_KEY)
    return Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID, business=business, name="demo-fbs",
                                   placement_model=PlacementModel.FBS)


def login(page, live_server, user="pavel"):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw-" + user)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def scan(page, code: str) -> None:
    page.keyboard.type(code, delay=2)
    page.keyboard.press("Enter")


def pending(page, order: Order) -> list[dict]:
    return page.evaluate("k => JSON.parse(localStorage.getItem(k) || '[]')", f"pending-scans-{order.pk}")


def placed(order: Order) -> dict[str, int]:
    order.refresh_from_db()
    return {st.item.offer_id: st.placed for st in PackState(order).items.values()}


def csrf_cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_scans_made_after_the_session_ended_are_kept_and_sent_after_logging_in_again(
        page, live_server, sandbox, campaign, packer):
    placed_order = sandbox.place([("MUG-001", 4), ("TEA-GREEN-100", 2)])
    sync_business(campaign.business_id, client=sandbox.client())
    order = Order.objects.get(market_id=placed_order["orderId"])
    ProductBarcode.objects.create(campaign=campaign, gtin="0" + MUG, offer_id="MUG-001")
    ProductBarcode.objects.create(campaign=campaign, gtin="0" + TEA, offer_id="TEA-GREEN-100")

    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.focus("#scan")
    scan(page, MUG)
    page.wait_for_selector("#feedback[data-state=ok]")
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page
    token = csrf_cookie(page)

    # The session ends on the server (expired, flushed, logged out elsewhere); the packer scans on.
    Session.objects.all().delete()
    later = [MUG, TEA, MUG, TEA, MUG]
    for code in later:
        scan(page, code)
    queue = page.locator("#scan-queue")
    page.wait_for_function("() => document.querySelector('#scan-queue').textContent.includes('Сохранено сканов: 5')",
                           timeout=10_000)
    assert "войдите снова" in queue.inner_text()
    assert queue.locator("a").get_attribute("href") == "/login/"
    assert [s["code"] for s in pending(page, order)] == later
    # Nothing of the login page is shown inside the order screen, and the server applied nothing.
    assert page.locator("#id_username").count() == 0 and page.locator("#panel").count() == 1
    assert page.url == f"{live_server.url}/orders/{order.pk}/"
    assert placed(order) == {"MUG-001": 1, "TEA-GREEN-100": 0}
    # The panel's htmx buttons get the same answer: no login page swapped into the panel.
    page.click("button:has-text('Новая коробка')")
    page.wait_for_timeout(500)
    assert page.locator("#id_username").count() == 0 and page.locator("#panel").count() == 1
    assert order.boxes.count() == 1 and "войдите снова" in queue.inner_text()
    # Still kept after a few more tries.
    page.wait_for_timeout(2_500)
    assert len(pending(page, order)) == 5 and placed(order)["MUG-001"] == 1

    # A login in another tab: a new session and a new CSRF token.
    other = page.context.new_page()
    login(other, live_server)
    assert csrf_cookie(page) != token
    page.bring_to_front()
    other.close()

    # Back in the first tab the kept scans go out by themselves, each applied exactly once.
    page.wait_for_selector("#scan-queue[data-pending='0']", timeout=15_000)
    wait_for(lambda: placed(order) == {"MUG-001": 4, "TEA-GREEN-100": 2}, 10, "the kept scans applied")
    assert pending(page, order) == []
    assert page.evaluate("window.sameDocument") is True
    assert "войдите снова" not in queue.inner_text()
    page.wait_for_selector("#feedback[data-state=ok]")
    scans = AuditEvent.objects.filter(order=order, action="scan")
    assert scans.count() == 6 and scans.values("request_id").distinct().count() == 6
    # And the screen keeps working with the new token: the next scan is refused (all placed), not lost.
    scan(page, MUG)
    page.wait_for_selector("#feedback[data-state=error]")
    assert placed(order) == {"MUG-001": 4, "TEA-GREEN-100": 2}
    assert AuditEvent.objects.filter(order=order, action__startswith="scan").count() == 7
    # A plain form of the same page posts the new token too (no 403 until a reload).
    page.click("button:has-text('Обновить из Маркета')")
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/orders/{order.pk}/" and page.locator("#scan").count() == 1


def test_only_the_scan_views_own_answer_takes_scans_off_the_queue(page, live_server, sandbox, campaign, packer):
    placed_order = sandbox.place([("MUG-001", 4)])
    sync_business(campaign.business_id, client=sandbox.client())
    order = Order.objects.get(market_id=placed_order["orderId"])
    ProductBarcode.objects.create(campaign=campaign, gtin="0" + MUG, offer_id="MUG-001")
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.focus("#scan")
    scan_url = f"{live_server.url}/orders/{order.pk}/scan/"

    # Something in between answers 200 with a page of its own (a portal, a proxy's login page).
    login_page = '<form><input id="id_username" name="username"></form>'
    page.route(scan_url, lambda route: route.fulfill(status=200, content_type="text/html", body=login_page))
    scan(page, MUG)
    scan(page, MUG)
    page.wait_for_function("() => document.querySelector('#scan-queue').textContent.includes('Нет связи')")
    assert len(pending(page, order)) == 2 and page.locator("#id_username").count() == 0

    # ... or redirects to a login page: not followed, the page says to log in again.
    page.unroute(scan_url)
    page.route(scan_url, lambda route: route.fulfill(status=302, headers={"Location": "/login/"}))
    scan(page, MUG)
    page.wait_for_function("() => document.querySelector('#scan-queue').textContent.includes('Сохранено сканов: 3')")
    assert "войдите снова" in page.inner_text("#scan-queue")
    assert len(pending(page, order)) == 3 and page.locator("#id_username").count() == 0
    assert placed(order) == {"MUG-001": 0}

    # The real scan view answers again: every kept scan is applied once.
    page.unroute(scan_url)
    page.wait_for_selector("#scan-queue[data-pending='0']", timeout=15_000)
    assert placed(order) == {"MUG-001": 3} and pending(page, order) == []
    assert AuditEvent.objects.filter(order=order, action="scan").count() == 3
