"""Receiving a return in real Chromium against the sandbox: a grade chosen but not saved survives the
table's redraw after the next scan and a reload, and once saved says who saved it and when; a product
scanned by mistake is removed with who and when and no longer holds the return back; at 360 px the
receiving, the buyer's and the decision tables are cards whose controls are all on screen."""

from __future__ import annotations

import pytest

from fulfilment.orders.models import Match
from fulfilment.sandbox import seed
from tests.test_returns_receiving import packed_and_delivered, returned

from .test_browser_packing import login, scanner_type

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def rows(page, n: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('#units tr[id^=unit-]').length === {n}")


def test_an_unsaved_grade_survives_the_next_scan_and_a_reload_and_a_saved_one_says_who(page, live_server, market,
                                                                                      packer):
    order, codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    login(page, live_server)
    page.goto(f"{live_server.url}/returns/{record.pk}/")
    page.focus("#scan")
    scanner_type(page, codes[0], "ctrl")
    rows(page, 1)
    first = record.units.get()
    row = page.locator(f"#unit-{first.pk}")
    row.locator("select[name=grade]").select_option("DEFECTIVE")
    row.locator("input[name=note]").fill("царапина на носке")
    page.focus("#scan")
    scanner_type(page, codes[1], "ctrl")
    rows(page, 2)  # the table is drawn again by the server
    row = page.locator(f"#unit-{first.pk}")
    assert row.locator("select[name=grade]").input_value() == "DEFECTIVE"
    assert row.locator("input[name=note]").input_value() == "царапина на носке"
    assert row.locator(".unsaved").is_visible()
    page.reload()
    row = page.locator(f"#unit-{first.pk}")
    assert row.locator("select[name=grade]").input_value() == "DEFECTIVE"
    first.refresh_from_db()
    assert first.grade == ""  # not saved yet: only kept in this browser
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    first.refresh_from_db()
    assert (first.grade, first.note, first.graded_by) == ("DEFECTIVE", "царапина на носке", packer)
    row = page.locator(f"#unit-{first.pk}")
    assert "сохранено, pavel" in row.inner_text() and not row.locator(".unsaved").is_visible()


def test_a_product_scanned_by_mistake_is_removed_with_who_and_when(page, live_server, market, packer):
    order, codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    login(page, live_server)
    page.goto(f"{live_server.url}/returns/{record.pk}/")
    page.focus("#scan")
    scanner_type(page, seed.CATALOG["MUG-001"].ean13, "ctrl")  # not in this order
    rows(page, 1)
    extra = record.units.get()
    assert extra.match == Match.NOT_IN_ORDER
    for code in codes:
        page.focus("#scan")
        scanner_type(page, code, "ctrl")
    rows(page, 3)
    with page.expect_navigation():
        page.locator(f"#unit-{extra.pk} .remove-form button").click()
    extra.refresh_from_db()
    assert extra.removed_by == packer and extra.removed_at is not None
    assert "убрано из возврата: pavel" in page.inner_text(f"#unit-{extra.pk}")  # still listed, as evidence
    for unit in record.units.filter(removed_at__isnull=True):
        row = page.locator(f"#unit-{unit.pk}")
        row.locator("select[name=grade]").select_option("FIT")
        with page.expect_navigation():
            row.locator("form.grade-form button").click()
    with page.expect_navigation():
        page.click("#return-receive button")
    assert page.locator("#received-banner").count() == 1


def test_at_360_px_every_control_of_receiving_and_deciding_is_on_screen(page, live_server, market, packer, supervisor):
    order, codes = packed_and_delivered(market, packer)
    record = returned(market, order)
    page.set_viewport_size({"width": 360, "height": 780})
    login(page, live_server, "svetlana")
    page.goto(f"{live_server.url}/returns/{record.pk}/")
    page.focus("#scan")
    scanner_type(page, codes[0], "ctrl")
    rows(page, 1)

    def on_screen(selector: str) -> None:
        box = page.locator(selector).first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, (selector, box)
        assert page.locator(selector).first.is_visible()

    for selector in ("#units select[name=grade]", "#units input[name=note]", "#units form.grade-form button",
                     "#claims td.decision", "#decisions select[name^=decision-]", "#decisions select[name^=reason-]",
                     "#decisions input[name^=comment-]", "#return-decide button[type=submit]"):
        on_screen(selector)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
