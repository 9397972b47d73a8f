"""The order screen's banner asks the server less while scans are answered (their answers carry the
order's state), and every second again once the packer stops (``data-live-quiet``, static/js/live.js)."""

from __future__ import annotations

import time

import pytest

from fulfilment.sandbox.seed import CATALOG

from .builders import make_linked_order
from .test_browser_packing import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_banner_asks_every_three_seconds_while_scanning_then_every_second(page, live_server, packer):
    order = make_linked_order(items=(("MUG-001", 20),))
    asked: list[float] = []
    page.on("request", lambda r: asked.append(time.monotonic()) if "/live/" in r.url else None)
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    start = time.monotonic()
    for _ in range(8):  # a scan every 0.6 s for about 5 s
        page.focus("#scan")
        page.keyboard.type(CATALOG["MUG-001"].ean13, delay=2)
        page.keyboard.press("Enter")
        page.wait_for_selector("#feedback[data-state=ok] >> nth=0", timeout=10_000)
        page.wait_for_timeout(600)
    scanning = time.monotonic()
    assert len([t for t in asked if start <= t <= scanning]) <= 2, (asked, start, scanning)
    page.wait_for_timeout(3500)
    assert len([t for t in asked if t > scanning]) >= 2  # left alone: every second again
