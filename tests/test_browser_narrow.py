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


@pytest.mark.django_db(transaction=True)
def test_the_order_screen_with_pictures_fits_a_handheld_even_when_one_does_not_load(
        chromium, live_server, market, packer, settings, tmp_path):
    """The catalogue's picture beside each item: one shown, one whose copy is lost (404): neither moves
    the row nor makes the page scroll sideways at 360 px."""
    from fulfilment.orders import catalogue, pictures
    from fulfilment.orders.models import CatalogueOffer, Order

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    placed = market.place([("MUG-001", 1), ("TEA-GREEN-100", 2)])
    sync_business(market.business.pk, client=market.client())
    catalogue.sync_catalogue(market.business.pk, client=market.client())
    for offer in CatalogueOffer.objects.all():
        pictures.keep_picture(offer.pk)
    lost = CatalogueOffer.objects.get(offer_id="TEA-GREEN-100")
    lost.picture_file.storage.delete(lost.picture_file.name)
    order = Order.objects.get(market_id=placed["orderId"])
    context, violations = checked_context(chromium, viewport={"width": 360, "height": 640}, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, packer.username)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        page.wait_for_load_state("networkidle")
        shown = page.evaluate("""() => [...document.querySelectorAll('img.product-picture')].map(i => {
            const box = i.getBoundingClientRect();
            return [i.naturalWidth, Math.round(box.width), Math.round(box.height)]; })""")
        assert sorted(shown) == [[0, 48, 48], [160, 48, 48]], shown  # the lost one keeps its box
        assert page.evaluate(OVERFLOW) <= 0, "the order screen scrolls sideways at 360 px"
        assert page.locator(".product-barcode").count() == 2
    finally:
        context.close()
    assert not [v for v in violations if "img-src" in str(v)], violations
    assert not violations
