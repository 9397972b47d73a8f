"""The Content-Security-Policy and Permissions-Policy every page carries, and that the browser enforces them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_every_page_carries_the_policies(client, packer):
    client.force_login(packer)
    for url in ("/", "/queue/", "/help/scanner/", "/login/"):
        resp = client.get(url, follow=True)
        policy = resp["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, policy
        assert "'unsafe-inline'" not in policy and "object-src 'none'" in policy and "base-uri 'none'" in policy
        assert "camera=(self)" in resp["Permissions-Policy"] and "microphone=()" in resp["Permissions-Policy"]


@pytest.mark.browser
def test_chromium_refuses_an_injected_script_and_the_tests_would_see_it(page, live_server, packer):
    from .test_browser_packing import login

    login(page, live_server, packer.username)
    page.goto(f"{live_server.url}/queue/")
    ran = page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                                   document.body.append(s); return window.__ran === 1; }""")
    assert ran is False
    page.wait_for_timeout(300)  # the violation event is dispatched after the refusal
    assert any("script-src" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # provoked on purpose


@pytest.mark.browser
def test_the_admin_and_the_printed_sheets_run_under_the_policy(page, live_server, admin_user):
    from .builders import make_business, make_campaign, make_order
    from .test_browser_packing import login

    business = make_business()
    order = make_order(make_campaign(business))
    login(page, live_server, admin_user.username)
    for url in ("/admin/", "/admin/orders/order/", f"/admin/orders/order/{order.pk}/change/",
                f"/admin/orders/business/{business.pk}/change/",
                f"/queue/sheet/?order={order.pk}", "/help/scanner/"):
        resp = page.goto(f"{live_server.url}{url}")
        assert resp.status == 200, url
    page.wait_for_timeout(300)
