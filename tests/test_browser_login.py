"""A packer logs in with a real Chromium and lands on the Russian start page."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_packer_logs_in_in_chromium(page, live_server, packer):
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "pavel")
    page.fill("#id_password", "pw-pavel")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert "pavel" in page.inner_text("header")


def test_a_wrong_password_shows_an_alert(page, live_server, packer):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "pavel")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").is_visible()
