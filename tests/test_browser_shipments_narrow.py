"""The Shipments screens on a handheld (360 CSS px): the list, a shipment and the dock show every count,
status and box without swiping (cards, not tables cut at the edge), and their fields are targets a
thumb hits (44 px and more)."""

from __future__ import annotations

import pytest

from .conftest import checked_context
from .shipment_support import mirror, ready_at_market, set_cutoff, shipment_today, skip_near_midnight
from .test_browser_packing import login

pytestmark = pytest.mark.browser
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# Cells whose content is cut off or off-screen: wider than their box, past the screen's right edge, or in
# a table that scrolls inside its own box.
CLIPPED = """() => [...document.querySelectorAll('table.grid')].flatMap(t => {
    const cut = [...t.querySelectorAll('th, td')].filter(c => c.offsetParent !== null && (
        c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > window.innerWidth + 1))
      .map(c => (t.id || t.className) + ': ' + c.innerText.trim().slice(0, 30));
    return t.scrollWidth > t.clientWidth + 1 ? [...cut, (t.id || t.className) + ' scrolls'] : cut;
  })"""


def size(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box, f"{selector} is not on the page"
    return box["width"], box["height"]


@pytest.mark.django_db(transaction=True)
def test_the_shipment_screens_fit_a_handheld(chromium, live_server, market, supervisor, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    skip_near_midnight()
    set_cutoff(market, 120)
    ready_at_market(market, boxes=2)
    ready_at_market(market)
    ready_at_market(market, ready=False)
    mirror(market, market.business)
    s = shipment_today()
    context, violations = checked_context(chromium, viewport={"width": 360, "height": 640}, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, supervisor.username)
        for url in ("/shipments/", f"/shipments/{s.pk}/", f"/shipments/{s.pk}/dock/"):
            page.goto(f"{live_server.url}{url}")
            assert page.evaluate(OVERFLOW) <= 0, f"{url} scrolls sideways at 360 px"
            assert page.evaluate(CLIPPED) == [], f"{url} cuts off cells at 360 px"
        page.goto(f"{live_server.url}/shipments/")
        for words in ("Формирование", "Статус", "Ярлыки напечатаны", "Не готовы", "Отсканировано коробок"):
            assert page.locator(f'#shipments td[data-label="{words}"]').first.is_visible(), words
        page.goto(f"{live_server.url}/shipments/{s.pk}/")
        for words in ("Ярлыки напечатаны", "Не готовы", "Паллеты"):
            assert page.locator(f'#counts td[data-label="{words}"]').first.is_visible(), words
        width, height = size(page, "#pallets-form input[name=pallets]")
        assert height >= 44 and width >= 88
        assert size(page, "#confirm-form input[name=signatory]")[1] >= 44
        assert min(size(page, "#blockers label.tick")) >= 44
        page.goto(f"{live_server.url}/shipments/{s.pk}/dock/")
        width, height = size(page, "#dock-scan")
        assert height >= 44 and width >= 300
    finally:
        context.close()
    assert not violations
