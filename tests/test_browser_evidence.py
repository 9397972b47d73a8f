"""The workstation's camera at packing, in real Chromium with a fake camera (its own browser: the fake
media flags are for this test only): switched on at the order screen, it photographs the open box on
the photo command and at Finish; the photos are stored with the order and box, shown on the order
page, and are real JPEG images of what the camera saw."""

from __future__ import annotations

import random

import pytest

from fulfilment.orders.models import Order, PackingPhoto
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox import seed
from tests.builders import link_catalogue

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_browser_packing import login, scanner_type

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def camera_page(chromium, live_server, settings, tmp_path):
    settings.SESSION_COOKIE_SECURE = False  # live_server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *FAKE_CAMERA])
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    yield context.new_page()
    context.close()
    browser.close()


def idle(page) -> None:
    page.wait_for_function("() => document.getElementById('scan-queue').dataset.pending === '0'")


def test_the_camera_photographs_the_open_box_on_command_and_at_finish(camera_page, live_server, market, packer):
    page = camera_page
    placed = market.place([("SHOES-RUN-42", 2)], buyer_type="BUSINESS")
    sync_business(market.business.pk)
    order = link_catalogue(Order.objects.get(market_id=placed["orderId"]))
    rng = random.Random(11)
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.check("#camera-on")
    page.wait_for_function("() => document.getElementById('camera').videoWidth > 0")
    assert page.evaluate("localStorage.getItem('workstation-camera')") == "on"

    page.focus("#scan")
    for _ in range(2):
        scanner_type(page, seed.make_cis(seed.CATALOG["SHOES-RUN-42"], rng), "ctrl")
        idle(page)
    scanner_type(page, "CMD-PHOTO", "ctrl")
    page.wait_for_function("() => document.getElementById('camera-state').className === 'ok'")
    idle(page)
    scanner_type(page, "CMD-FINISH", "ctrl")
    for _ in range(50):
        if PackingPhoto.objects.filter(order=order).count() == 2:
            break
        page.wait_for_timeout(100)
    photos = list(PackingPhoto.objects.filter(order=order).order_by("taken_at"))
    assert [(p.reason, p.box_number, p.taken_by) for p in photos] == [("COMMAND", 1, packer), ("FINISH", 1, packer)]
    for p in photos:
        with p.image.open("rb") as f:
            content = f.read()
        assert content.startswith(b"\xff\xd8") and len(content) > 5000  # a JPEG of the fake camera's frame

    # The camera stays on for this workstation; the order page shows the photos.
    page.reload()
    assert page.is_checked("#camera-on")
    assert page.locator("#packing-photos figure.photo").count() == 2
    assert page.evaluate("document.querySelector('#packing-photos img').naturalWidth") > 0


def stored_variance(photo: PackingPhoto) -> float:
    """The pixel variance of a stored photo: an all-black (or any blank) frame has none."""
    from PIL import Image, ImageStat

    with photo.image.open("rb") as f:
        image = Image.open(f)
        image.load()
    return max(ImageStat.Stat(image.convert("L")).var)


def test_a_remembered_camera_photographs_a_real_frame_at_finish_on_another_order(camera_page, live_server, market,
                                                                                 packer):
    """The camera switched on at an earlier order (the setting kept in this browser): the next order's
    screen starts it by itself, and Finish stores a picture of what the camera saw, not a black frame."""
    page = camera_page
    placed = market.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    sync_business(market.business.pk)
    order = link_catalogue(Order.objects.get(market_id=placed["orderId"]))
    rng = random.Random(12)
    login(page, live_server)
    page.goto(f"{live_server.url}/")
    page.evaluate("localStorage.setItem('workstation-camera', 'on')")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    assert page.is_checked("#camera-on")
    page.focus("#scan")
    scanner_type(page, seed.make_cis(seed.CATALOG["SHOES-RUN-42"], rng), "ctrl")
    idle(page)
    scanner_type(page, "CMD-FINISH", "ctrl")
    for _ in range(100):
        if PackingPhoto.objects.filter(order=order).exists():
            break
        page.wait_for_timeout(100)
    photo = PackingPhoto.objects.get(order=order)
    assert photo.reason == "FINISH"
    page.wait_for_function("() => document.querySelectorAll('#packing-photos figure.photo').length === 1")
    assert stored_variance(photo) > 50  # the fake camera's moving test pattern, not an empty canvas
