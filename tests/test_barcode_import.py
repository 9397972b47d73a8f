"""Product barcodes in and out of the admin as CSV or XLSX: the export lists every link; an import
is previewed first (the library's dry run), and a file with a refused row (a wrong check digit, an
unknown shop, a barcode of another SKU of the shop or of the catalogue) says why and changes nothing."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from fulfilment.orders.barcode_file import ProductBarcodeResource, normal_gtin
from fulfilment.orders.models import AuditEvent, CatalogueOffer, ProductBarcode

from .builders import make_campaign

pytestmark = pytest.mark.django_db
IMPORT = "admin:orders_productbarcode_import"
CSV_FORMAT, XLSX_FORMAT = "0", "1"


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


@pytest.fixture
def shop():
    shop = make_campaign()
    ProductBarcode.objects.create(campaign=shop, gtin="04601234567893", offer_id="SHOES-42",
                                  source=ProductBarcode.Source.CATALOGUE)
    CatalogueOffer.objects.create(business=shop.business, offer_id="MILK-1L", barcodes=["4650117240408"],
                                  fetched_at=timezone.now())
    return shop


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _csv(rows: list[tuple[object, ...]]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["campaign", "gtin", "sku"])
    writer.writerows(rows)
    return SimpleUploadedFile("barcodes.csv", out.getvalue().encode(), content_type="text/csv")


def _xlsx(rows: list[tuple[object, ...]]) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append(["campaign", "gtin", "sku"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("barcodes.xlsx", out.getvalue())


def _links() -> list[tuple[int, str, str]]:
    return list(ProductBarcode.objects.order_by("gtin").values_list("campaign__market_id", "gtin", "offer_id"))


def test_normal_gtin_takes_every_length_and_refuses_a_wrong_check_digit():
    assert normal_gtin("4601234567893") == normal_gtin(4601234567893) == normal_gtin(4601234567893.0) == \
        "04601234567893"
    assert normal_gtin("96385074") == "00000096385074"  # EAN-8
    assert normal_gtin("4601234567890") is None  # the check digit is 3
    assert normal_gtin("0000000000000") is None and normal_gtin("46O1234567893") is None and normal_gtin("") is None


@pytest.mark.parametrize(("row", "words"), [
    (("{shop}", "4601234567890", "TSHIRT-M"), "контрольной цифрой"),
    (("999", "4650117240422", "TSHIRT-M"), "Здесь нет магазина с идентификатором кампании 999"),
    (("{shop}", "4601234567893", "TSHIRT-M"), "принадлежит SHOES-42"),
    (("{shop}", "4650117240408", "TSHIRT-M"), "В каталоге продавца штрихкод 04650117240408 указан у MILK-1L"),
    (("{shop}", "4650117240422", ""), "SKU не указан"),
])
def test_a_file_with_a_refused_row_says_why_and_changes_nothing(admin_client, shop, row, words):
    before, events = _links(), AuditEvent.objects.count()
    good = (shop.market_id, "4650117240415", "SOCKS-3P")
    bad = tuple(str(v).format(shop=shop.market_id) for v in row)
    resp = admin_client.post(reverse(IMPORT), {"format": CSV_FORMAT, "resource": "0",
                                                "import_file": _csv([good, bad])})
    html = resp.content.decode()
    assert resp.status_code == 200 and words in html, html[html.find("errorlist") - 500:][:3000]
    assert 'name="import_file_name"' not in html  # no way to confirm it
    assert _links() == before and AuditEvent.objects.count() == events


def test_a_good_file_is_previewed_then_imported_as_a_persons_links(admin_client, admin_user, shop):
    rows = [(shop.market_id, 4650117240415, "SOCKS-3P"), (shop.market_id, "4601234567893", "SHOES-42")]
    preview = admin_client.post(reverse(IMPORT), {"format": XLSX_FORMAT, "resource": "0",
                                                   "import_file": _xlsx(rows)})
    html = preview.content.decode()
    assert preview.status_code == 200 and "SOCKS-3P" in html and 'name="import_file_name"' in html
    assert not ProductBarcode.objects.filter(offer_id="SOCKS-3P").exists()  # a dry run only
    confirm = preview.context["confirm_form"]
    done = admin_client.post(reverse("admin:orders_productbarcode_process_import"), {
        **confirm.initial, "format": XLSX_FORMAT, "resource": "0"})
    assert done.status_code == 302
    link = ProductBarcode.objects.get(gtin="04650117240415")
    assert (link.campaign, link.offer_id, link.source, link.learnt_by) == (
        shop, "SOCKS-3P", ProductBarcode.Source.CONFIRMED, admin_user)
    assert AuditEvent.objects.get(action="barcode.corrected").payload["to"] == "SOCKS-3P"
    assert ProductBarcode.objects.get(gtin="04601234567893").source == ProductBarcode.Source.CATALOGUE  # unchanged


def test_the_export_lists_every_link_with_its_shop(admin_client, shop):
    text = ProductBarcodeResource().export().csv
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["campaign"], r["gtin"], r["sku"]) for r in rows] == [(str(shop.market_id), "04601234567893",
                                                                     "SHOES-42")]
    page = admin_client.get(reverse("admin:orders_productbarcode_export"))
    assert page.status_code == 200
    resp = admin_client.post(reverse("admin:orders_productbarcode_export"), {
        "format": CSV_FORMAT, "resource": "0", **{f"productbarcoderesource_{f}": "on"
                                                  for f in ("campaign", "gtin", "offer_id", "source", "updated_at")}})
    assert resp.status_code == 200 and "04601234567893" in resp.content.decode("utf-8-sig")


def test_a_packer_cannot_import(client, packer, shop):
    client.force_login(packer)
    resp = client.post(reverse(IMPORT), {"format": CSV_FORMAT, "import_file": _csv([])})
    assert resp.status_code in (302, 403)
