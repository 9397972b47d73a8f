"""Open screens follow the Market in real Chromium: the sandbox cancels the order a packer has open,
the Market's notification reaches the dashboard, a real worker applies it, and the screen turns red
by itself; scans and finishing are refused with the reason. A new order appears on an open queue.

Everything is real: the sandbox over HTTP pushing to the dashboard's live server, a Celery worker,
Debian's Chromium. The banner's latency is measured and printed (bench/live_bench.py measures it
over many cancellations); the assertion only allows it generously."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import translation

from fulfilment.orders.models import Order, OutboxAction
from fulfilment.packing.state import cancelled_message
from fulfilment.sandbox import seed
from fulfilment.sandbox.seed import CATALOG

from .builders import link_catalogue
from .test_browser_packing import login
from .test_sandbox_notifications_live import control, place
from .worker import Worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BANNER = ".market-change.error"


@pytest.fixture
def wired(market, live_server, settings):
    """The sandbox pushing the demo business's notifications to the live server (heard from localhost)."""
    settings.MARKET_NOTIFICATION_SOURCES = ["127.0.0.1"]
    path = reverse("market-notification", args=[market.business.notification_secret]).removesuffix("/notification")
    assert control(market, "PUT", f"businesses/{seed.DEMO_BUSINESS_ID}/notification-url",
                   {"url": live_server.url + path}).status_code == 200
    return market


def mirrored(worker: Worker, market_id: int) -> Order:
    wait_for(lambda: Order.objects.filter(market_id=market_id).exists(), 20, "the order in the mirror", worker)
    return Order.objects.get(market_id=market_id)


def test_the_packer_sees_the_markets_cancellation_and_cannot_finish(page, live_server, wired, packer,
                                                                    record_property):
    with Worker() as worker:
        order = link_catalogue(mirrored(worker, place(wired)))  # MUG-001 × 1, its barcode from the catalogue
        login(page, live_server)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        page.focus("#scan")
        page.keyboard.type(CATALOG["MUG-001"].ean13, delay=2)
        page.keyboard.press("Enter")
        page.wait_for_selector("#feedback[data-state=ok]")
        page.wait_for_selector("#finish button.primary:not(.ready):not([disabled])")  # packed: it could be finished
        assert page.locator(BANNER).count() == 0
        page.evaluate("window.notReloaded = true")

        started = time.monotonic()
        assert control(wired, "POST", f"orders/{order.market_id}/buyer-cancel").status_code == 200
        page.wait_for_selector(BANNER, timeout=30_000)
        latency = time.monotonic() - started
        record_property("banner_latency_seconds", round(latency, 2))
        print(f"\nbanner {latency:.2f} s after the sandbox cancelled the order")
        with translation.override("ru"):  # the screen speaks Russian, the default
            reason = cancelled_message()
        assert reason in page.locator(BANNER).inner_text()
        assert page.evaluate("window.notReloaded") is True  # no reload: the banner came by itself
        # The header and the next step follow it, and the new step is said to a screen reader.
        assert "Отменён" in page.locator("#order-status").inner_text()
        assert reason in page.locator("#next-step").inner_text()
        page.wait_for_function("r => document.getElementById('announce').textContent.includes(r)", arg=reason)
        assert page.locator("#next-step").count() == 1 and page.locator("#order-status").count() == 1

        # Finishing, offered a moment ago, is refused with the reason.
        page.click("#finish button.primary:not(.ready)")
        page.wait_for_selector("#feedback[data-state=error]")
        assert reason in page.locator("#feedback").inner_text()
        # The panel comes back read-only (the order is not being packed): no Finish to press again.
        finish = page.locator("#finish button.primary:not(.ready)")
        assert finish.count() == 0 or finish.is_disabled()
        # So is the next scan.
        page.focus("#scan")
        page.keyboard.type(CATALOG["MUG-001"].ean13, delay=2)
        page.keyboard.press("Enter")
        page.wait_for_selector("#scan-queue[data-pending='0']")
        page.wait_for_selector("#feedback p.error")
        assert reason in page.locator("#feedback").inner_text()
    assert not OutboxAction.objects.filter(order=order).exists()  # nothing was sent for it
    assert order.boxes.get().lines.count() == 1  # the unit packed before stays as it was


def test_an_open_queue_shows_a_new_order_without_a_reload(page, live_server, wired, packer):
    with Worker() as worker:
        first = mirrored(worker, place(wired))
        login(page, live_server)
        page.goto(f"{live_server.url}/queue/")
        page.wait_for_selector(f"input[aria-label='{first.market_id}']")
        page.check(f"input[aria-label='{first.market_id}']")  # ticked for a sheet: stays ticked
        page.evaluate("window.notReloaded = true")
        started = time.monotonic()
        second = place(wired)
        page.wait_for_selector(f"input[aria-label='{second}']", timeout=30_000)
        print(f"\nqueue row {time.monotonic() - started:.2f} s after the sandbox placed the order")
        assert page.evaluate("window.notReloaded") is True
        assert page.is_checked(f"input[aria-label='{first.market_id}']")
