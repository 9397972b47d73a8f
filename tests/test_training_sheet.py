"""The training sheet prints what a scanner reads: full product barcodes, check digit included, and
the kinds of codes in words (issue 16)."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image, ImageDraw

from fulfilment.sandbox.seed import CATALOG

from .builders import make_business, make_campaign
from .test_packing import coded_order

pytestmark = pytest.mark.django_db
SCALE = 4  # pixels per SVG unit: bars of 0.54 units come out two pixels wide


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "img":
            self.images.append({k: v or "" for k, v in attrs})

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def ean13_ok(code: str) -> bool:
    """GS1's check digit, computed here rather than by the code under test."""
    weights = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code[:12]))
    return code.isdigit() and len(code) == 13 and int(code[12]) == (10 - weights % 10) % 10


def read_code128(data_url: str) -> list[str]:
    """What a scanner reads from one of the sheet's barcode images: its bars drawn as pixels, decoded."""
    svg = base64.b64decode(data_url.split(",", 1)[1]).decode()
    width = float(re.search(r'<svg width="([\d.]+)"', svg).group(1))
    image = Image.new("L", (int(width * SCALE) + 40, 40 * SCALE), 255)
    draw = ImageDraw.Draw(image)
    for x, w in re.findall(r'<rect x="([\d.]+)" y="0" width="([\d.]+)" height="[\d.]+" style="[^"]*fill: rgb\(0%', svg):
        left = 20 + float(x) * SCALE
        draw.rectangle([left, 10, left + float(w) * SCALE - 1, 30 * SCALE], fill=0)
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.fixture
def sheet(client, packer):
    sandbox = make_campaign(business=make_business(api_base_url="http://127.0.0.1:8001/sandbox"))
    order = coded_order((("SHOES-RUN-42", 1, ["CIS"]), ("RING-585", 1, ["UIN"]), ("TV-IMP-55", 1, ["GTD"]),
                         ("FRIDGE-IMP", 1, ["RNPT"]), ("MUG-001", 1, [])), campaign=sandbox)
    client.force_login(packer)
    client.cookies["django_language"] = "ru"
    parser = _Images()
    parser.feed(client.get(reverse("training-sheet"), {"order": order.pk}).content.decode())
    return order, parser


def test_product_barcodes_decode_to_the_full_ean13_with_its_check_digit(sheet):
    order, parser = sheet
    products = [i for i in parser.images if i.get("class") == "code128" and len(i["alt"]) == 13
                and i["alt"].isdigit()]
    read = [code for i in products for code in read_code128(i["src"])]
    expected = sorted(CATALOG[sku].ean13 for sku in ("SHOES-RUN-42", "RING-585", "TV-IMP-55", "FRIDGE-IMP",
                                                     "MUG-001"))
    assert sorted(read) == expected
    assert all(ean13_ok(code) for code in read), read
    assert "4601234567893" in read  # the walkthrough's shoes: the check digit is printed
    order_barcode = [i for i in parser.images if i.get("alt") == str(order.market_id)]
    assert read_code128(order_barcode[0]["src"]) == [str(order.market_id)]


def test_the_kinds_of_codes_are_words_not_the_markets_names(sheet):
    _order, parser = sheet
    text = " ".join(parser.text)
    for raw in ("CIS", "UIN", "RNPT", "GTD"):
        assert not re.search(rf"(?<![\w-]){raw}(?![\w-])", text), raw
    for words in ("Код Честного ЗНАКа", "УИН ювелирного изделия", "РНПТ", "ГТД"):
        assert words in text


def test_a_scanner_that_drops_the_ean13_check_digit_is_told_how_to_fix_it(packer):
    """The walkthrough's 460123456789: twelve digits that are no UPC-A are an EAN-13 without its last
    digit (a scanner setting); the refusal says so, with the whole barcode, and nothing is packed."""
    import uuid

    from django.utils import translation

    from fulfilment.packing import scanning

    from .builders import make_linked_order

    order = make_linked_order(items=(("SHOES-RUN-42", 1),))
    with translation.override("ru"):
        fb = scanning.scan(order.pk, packer, "460123456789", uuid.uuid4())
    assert not fb.ok and "4601234567893" in fb.message and "контрольн" in fb.message, fb.message
    assert not order.boxes.exists()
