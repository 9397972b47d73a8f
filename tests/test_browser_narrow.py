"""At a handheld's 360 CSS px the pages with wide tables (the start page, returns) do not scroll sideways,
and their words stay whole: the table scrolls inside its own box."""

from __future__ import annotations

import pytest

from fulfilment.orders.sync import sync_business

from .conftest import checked_context
from .test_browser_packing import login
from .test_returns_receiving import packed_and_delivered, returned

pytestmark = pytest.mark.browser
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# The narrowest a cell of the table gets: a letter or two wide means words were broken letter by letter.
NARROWEST_CELL = """() => Math.min(...[...document.querySelectorAll('table.grid td')]
    .filter(td => td.innerText.trim().length > 3).map(td => td.getBoundingClientRect().width))"""


@pytest.mark.django_db(transaction=True)
def test_the_start_page_and_a_return_fit_a_handheld(chromium, live_server, market, packer, supervisor, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    order, _codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    market.place([("MUG-001", 1)])
    sync_business(market.business.pk, client=market.client())
    context, violations = checked_context(chromium, viewport={"width": 360, "height": 640}, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, supervisor.username)
        for url in ("/", "/returns/", f"/returns/{record.pk}/"):
            page.goto(f"{live_server.url}{url}")
            assert page.evaluate(OVERFLOW) <= 0, f"{url} scrolls sideways at 360 px"
            assert page.evaluate(NARROWEST_CELL) >= 24, f"{url} breaks words letter by letter"
    finally:
        context.close()
    assert not violations
