"""Open screens follow the Market: the live regions of the order screen, the queue and the supervisor's
cancellation requests answer 304 while nothing changed and the new content when something did."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.orders import flags
from fulfilment.orders.models import Order, OrderItem
from fulfilment.packing import finishing, scanning
from fulfilment.packing.kernel import attempt
from fulfilment.sandbox.seed import CATALOG

from .builders import make_campaign, make_linked_order, make_order

pytestmark = pytest.mark.django_db
CANCELLED = "The Market cancelled this order"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def login(client, user) -> None:
    """Logged in with English chosen (pages are checked in English here)."""
    client.force_login(user)
    client.post(reverse("language"), {"language": "en"})


def live_url(page: str, region: str) -> str:
    """The URL a live region of a page asks again (its data-live-url)."""
    found = re.search(rf'id="{region}"[^>]*data-live-url="([^"]+)"', page)
    assert found, f"no live region {region}"
    return html.unescape(found.group(1))


def ask(client, url: str, etag: str = ""):
    return client.get(url, headers={"If-None-Match": etag} if etag else {})


def cancel(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(status="CANCELLED", substatus="USER_CHANGED_MIND",
                                             updated_at_market=timezone.now())


@pytest.fixture
def order():
    return make_linked_order(items=(("MUG-001", 2),))


@pytest.fixture
def screen(client, packer, order):
    """The order screen as the packer opened it: the URL its banner asks again."""
    login(client, packer)
    return live_url(client.get(reverse("order", args=[order.pk])).content.decode(), "market-live")


def test_the_order_banner_answers_304_while_nothing_changed(client, screen):
    first = ask(client, screen)
    assert first.status_code == 200 and first["ETag"]
    assert CANCELLED not in first.content.decode()
    again = ask(client, screen, first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert "no-cache" in again["Cache-Control"]


def test_the_stamps_reads_are_compiled_once_not_the_orms_fallback(client, screen):
    from fulfilment.orders.compiled_sql import _SQL

    ask(client, screen)
    compiled = [c for (_db, key), (_sql, c) in _SQL.items() if key.startswith("live-")]
    assert len(compiled) == 2 and all(c.ok for c in compiled)


def test_an_etag_a_compressing_proxy_marked_still_matches(client, screen):
    etag = ask(client, screen)["ETag"]
    assert ask(client, screen, etag[:-1] + '-zstd"').status_code == 304  # Caddy's encode
    assert ask(client, screen, "W/" + etag).status_code == 304  # nginx's gzip
    assert ask(client, screen, '"something-else"').status_code == 200


def test_the_order_banner_turns_red_when_the_market_cancels_the_order(client, screen, order):
    etag = ask(client, screen)["ETag"]
    cancel(order)
    resp = ask(client, screen, etag)
    assert resp.status_code == 200 and resp["ETag"] != etag
    page = resp.content.decode()
    assert 'class="banner error market-change"' in page and CANCELLED in page


def test_the_header_status_and_the_next_step_follow_the_cancellation(client, screen, order):
    """The red banner is not alone: the header's status and the «Next:» line come with it (live.js
    puts each in place of the element of its id), so neither says the old state until the next scan."""
    cancel(order)
    page = ask(client, screen).content.decode()
    header = page.split('<small id="order-status" hx-swap-oob="outerHTML">')[1].split("</small>")[0]
    assert "Cancelled / The buyer changed their mind" in header
    step = page.split('<p id="next-step" class="next-step" hx-swap-oob="outerHTML">')[1].split("</p>")[0]
    assert CANCELLED in step


def test_a_flag_of_the_sync_is_on_the_banner(client, screen, order):
    Order.objects.filter(pk=order.pk).update(flag_reason=flags.flag(flags.ITEM_REMOVED, sku="MUG-001"))
    assert "MUG-001: item removed from the order" in ask(client, screen).content.decode()


def test_the_banner_says_the_items_changed_after_the_screen_was_opened(client, screen, order):
    etag = ask(client, screen)["ETag"]
    OrderItem.objects.filter(order=order).update(count=1)
    # The Market's change brings a new updateDate: the stamp of the order changes with it.
    Order.objects.filter(pk=order.pk).update(updated_at_market=timezone.now())
    page = ask(client, screen, etag).content.decode()
    assert "changed the items of this order" in page
    assert f'href="{reverse("order", args=[order.pk])}"' in page  # load the screen again
    # Drawn again, the screen shows the new items and no longer says so.
    again = live_url(client.get(reverse("order", args=[order.pk])).content.decode(), "market-live")
    assert "changed the items" not in ask(client, again).content.decode()


def test_a_refusal_that_comes_back_after_the_green_answer_is_on_the_banner(client, screen, order):
    from fulfilment.orders.models import OutboxAction

    etag = ask(client, screen)["ETag"]
    action = OutboxAction.objects.create(campaign=order.campaign, order=order, kind=OutboxAction.Kind.LAYOUT,
                                         payload={}, state=OutboxAction.State.SENDING)
    assert ask(client, screen, etag).status_code == 304  # on its way: nothing to say yet
    OutboxAction.objects.filter(pk=action.pk).update(
        state=OutboxAction.State.FAILED,
        market_errors=[{"code": "STATUS_NOT_ALLOWED", "message": "the order is CANCELLED"}])
    resp = ask(client, screen, etag)
    assert resp.status_code == 200
    assert "The Market refused «box layout»: STATUS_NOT_ALLOWED: the order is CANCELLED" in html.unescape(
        resp.content.decode())


def test_a_buyers_cancellation_request_is_a_warning(client, screen, order):
    Order.objects.filter(pk=order.pk).update(cancel_requested=True)
    assert 'class="banner warn market-change"' in ask(client, screen).content.decode()


def test_the_banner_speaks_the_readers_language(client, screen, order):
    cancel(order)
    etag = ask(client, screen)["ETag"]
    client.post(reverse("language"), {"language": "ru", "next": "/"})
    resp = ask(client, screen, etag)
    assert resp.status_code == 200 and "Маркет отменил этот заказ" in resp.content.decode()


def test_the_pace_is_written_for_javascript_in_every_language(client, packer, order, settings):
    settings.LIVE_ORDER_SECONDS = 1.5
    client.force_login(packer)  # Russian, the default: a decimal comma must not reach parseFloat
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    assert 'data-live-every="1.5"' in page


def test_a_scan_on_a_cancelled_order_is_refused_with_the_reason(packer, order):
    cancel(order)
    fb = scanning.scan(order.pk, packer, CATALOG["MUG-001"].ean13, uuid.uuid4())
    assert not fb.ok and fb.message.startswith(CANCELLED)
    assert not order.boxes.exists()


def test_finishing_a_cancelled_order_is_refused_with_the_reason(packer, order):
    assert scanning.scan(order.pk, packer, CATALOG["MUG-001"].ean13, uuid.uuid4()).ok
    cancel(order)
    fb = attempt(order.pk, packer, "finish", finishing.finish)
    assert not fb.ok and fb.message.startswith(CANCELLED)
    assert not order.outbox.exists()


def test_the_queue_region_shows_a_new_order(client, packer):
    shop = make_campaign()
    make_order(shop)
    login(client, packer)
    url = live_url(client.get(reverse("queue")).content.decode(), "queue-live")
    etag = ask(client, url)["ETag"]
    assert ask(client, url, etag).status_code == 304
    new = make_order(shop)
    resp = ask(client, url, etag)
    assert resp.status_code == 200 and f'aria-label="{new.market_id}"' in resp.content.decode()


def test_the_queue_region_keeps_the_screens_filters(client, packer):
    shown, other = make_campaign(), make_campaign()
    make_order(shown)
    login(client, packer)
    url = live_url(client.get(reverse("queue"), {"campaign": shown.pk}).content.decode(), "queue-live")
    etag = ask(client, url)["ETag"]
    make_order(other)  # not on this screen: nothing to redraw
    assert ask(client, url, etag).status_code == 304
    assert f"campaign={shown.pk}" in url


def test_the_cancellation_requests_follow_the_market(client, supervisor):
    login(client, supervisor)
    url = live_url(client.get(reverse("supervisor")).content.decode(), "cancellations-live")
    first = ask(client, url)
    assert "No cancellation requests." in first.content.decode()
    assert ask(client, url, first["ETag"]).status_code == 304
    asked = make_order(make_campaign(placement_model="DBS"), status="DELIVERY", substatus="", cancel_requested=True,
                       cancel_requested_at=timezone.now())
    resp = ask(client, url, first["ETag"])
    page = resp.content.decode()
    assert resp.status_code == 200 and str(asked.market_id) in page
    # A decision made from the refreshed list comes back to the supervisor's page, not to this region.
    assert f'name="next" value="{reverse("supervisor")}"' in page


def test_the_live_regions_ask_the_role_and_the_method(client, packer, outsider, order):
    order_live = reverse("order-live", args=[order.pk])
    login(client, packer)
    assert client.get(reverse("supervisor-cancellations-live")).status_code == 403
    assert client.post(order_live).status_code == 405
    assert client.post(reverse("queue-live")).status_code == 405
    assert client.get(reverse("order-live", args=[order.pk + 10_000])).status_code == 404
    login(client, outsider)
    assert client.get(order_live).status_code == 403
    assert client.get(reverse("queue-live")).status_code == 403
    client.logout()
    assert client.get(order_live).status_code in (302, 401)


def test_the_queue_counts_follow_the_table(client, packer):
    """The header's count and the shipment dates' counts come with the table when it changes."""
    shop = make_campaign()
    make_order(shop)
    login(client, packer)
    url = live_url(client.get(reverse("queue")).content.decode(), "queue-live")
    etag = ask(client, url)["ETag"]
    make_order(shop)
    page = ask(client, url, etag).content.decode()
    total = page.split('<small id="queue-total" hx-swap-oob="outerHTML">')[1].split("</small>")[0]
    assert total == "2 orders"
    groups = page.split('<p class="groups" id="queue-groups" hx-swap-oob="outerHTML">')[1].split("</p>")[0]
    assert ": 2</a>" in groups


def test_the_digital_goods_screen_has_the_live_banner(client, packer):
    order = make_order(items=(("GAME-KEY", 1),), delivery_type="DIGITAL")
    login(client, packer)
    url = live_url(client.get(reverse("order", args=[order.pk])).content.decode(), "market-live")
    etag = ask(client, url)["ETag"]
    cancel(order)
    resp = ask(client, url, etag)
    assert resp.status_code == 200 and CANCELLED in resp.content.decode()
    assert 'id="next-step"' not in resp.content.decode()  # no packing steps for keys
