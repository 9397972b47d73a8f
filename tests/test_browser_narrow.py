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


# The placeholder's width in the field's own font against the room inside the field.
PLACEHOLDER_FITS = """(sel) => { const i = document.querySelector(sel), s = getComputedStyle(i);
    const c = document.createElement('canvas').getContext('2d'); c.font = s.font;
    const room = i.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    return [c.measureText(i.placeholder).width, room]; }"""
BOX = "(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return [r.width, r.height]; }"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [360, 320])
def test_the_header_the_queue_and_the_scan_field_fit_a_handheld(chromium, live_server, packer, settings, width):
    """Issue 16: the header menu in one row (it wrapped to three, ~130 px of 640), 44 px targets
    (the language select, the queue's ticks), the scan field's placeholder whole, the no-date chip in words."""
    from .builders import make_order

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    order = make_order()  # no shipment date
    context, violations = checked_context(chromium, viewport={"width": width, "height": 640}, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, packer.username)
        page.goto(f"{live_server.url}/queue/")
        assert page.evaluate(BOX, ".topbar")[1] <= 60, f"the header takes more than one row at {width} px"
        assert page.evaluate(OVERFLOW) <= 0, f"the queue scrolls sideways at {width} px"
        assert page.evaluate(BOX, ".topbar select")[1] >= 44
        hit = page.evaluate(BOX, "td.pick label.hit")
        assert hit[0] >= 44 and hit[1] >= 44, hit
        page.click("td.pick label.hit")  # the label takes the tap
        assert page.is_checked("td.pick input")
        assert "без даты: 1" in page.inner_text("#queue-groups")
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        text, room = page.evaluate(PLACEHOLDER_FITS, "#scan")
        assert text <= room, f"the scan field's placeholder is cut at {width} px ({text:.0f} > {room:.0f})"
        assert page.evaluate(BOX, ".topbar")[1] <= 60
    finally:
        context.close()
    assert not violations
