"""The catalogue's facts beside each item of the order panel (``catalogue.product_facts``), read with
their SQL compiled once: exactly what the ORM's read gives, on every catalogue."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfilment.orders.catalogue import ProductFacts, gtins, product_facts
from fulfilment.orders.models import CatalogueOffer, ProductBarcode
from fulfilment.sandbox.seed import CATALOG

from .builders import make_campaign

SHOES, MILK, MUG = "4601234567893", "4650117240408", CATALOG["MUG-001"].ean13


def ean13(n: int) -> str:
    """A valid EAN-13 from twelve digits."""
    digits = f"{n:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str(-total % 10)


def orm_facts(campaign_id: int, business_id: int, offer_ids: Iterable[str]) -> dict[str, ProductFacts]:
    """``product_facts`` as it read before its SQL was compiled: the ORM's two queries."""
    skus = set(offer_ids)
    picture: dict[str, tuple[int, str]] = {}
    barcode: dict[str, str] = {}
    for pk, sku, barcodes, kept in (CatalogueOffer.objects.filter(business_id=business_id, offer_id__in=skus,
                                                                  in_catalogue=True).order_by()
                                    .values_list("pk", "offer_id", "barcodes", "picture_file")):
        if kept:
            picture[sku] = (pk, kept.rsplit("/", 1)[-1].split(".")[0])
        found = sorted(gtins(barcodes or ()))
        if found:
            barcode[sku] = found[0].removeprefix("0")
    missing = skus - set(barcode)
    if missing:
        for sku, gtin in (ProductBarcode.objects.filter(campaign_id=campaign_id, offer_id__in=missing)
                          .order_by("gtin").values_list("offer_id", "gtin")):
            barcode.setdefault(sku, gtin.removeprefix("0"))
    out = {}
    for sku in skus:
        pk, version = picture.get(sku, (None, ""))
        out[sku] = ProductFacts(pk, barcode.get(sku, ""), version)
    return out


def offer(business, sku: str, barcodes: list[str], kept: str = "", in_catalogue: bool = True) -> None:
    CatalogueOffer.objects.create(business=business, offer_id=sku, barcodes=barcodes, picture_file=kept,
                                  in_catalogue=in_catalogue, fetched_at=timezone.now())


def link(campaign, gtin: str, sku: str) -> None:
    ProductBarcode.objects.create(campaign=campaign, gtin=gtin.zfill(14), offer_id=sku)


@pytest.fixture
def catalogues(db):
    shop_a = make_campaign()
    business = shop_a.business
    shop_b = make_campaign(business)
    other = make_campaign()  # another business: the same SKUs, other barcodes
    offer(business, "SHOES", [SHOES, "INT-7"], kept="pictures/shoes-1a2b.jpg")
    offer(business, "TWO-GTINS", [MUG, "0" + MILK])
    offer(business, "PICTURE-ONLY", [], kept="pictures/plain.png")
    offer(business, "CODE128-ONLY", ["INT-0042"])
    offer(business, "GONE", [MILK], in_catalogue=False)  # the Market no longer knows it
    link(shop_a, MILK, "GONE")
    link(shop_a, MUG, "CODE128-ONLY")
    link(shop_a, SHOES, "CODE128-ONLY")  # two links: the lowest GTIN wins
    link(shop_b, MILK, "NOT-IN-CATALOGUE")
    link(shop_b, "", "UNLINKED")  # a link with no GTIN yet
    offer(other.business, "SHOES", [MILK])
    link(other, MUG, "PICTURE-ONLY")
    for n in range(300):  # a large catalogue, some SKUs with a barcode
        offer(business, f"SKU-{n:03d}", [ean13(460000000000 + n)] if n % 3 else [])
        if n % 5 == 0:
            link(shop_b, f"{4610000000000 + n}", f"SKU-{n:03d}")
    return shop_a, shop_b, other


ORDERS = [
    [],
    ["SHOES"],
    ["NO-BARCODE-ANYWHERE"],
    ["SHOES", "SHOES", "TWO-GTINS"],  # an SKU on two lines of the order
    ["SHOES", "TWO-GTINS", "PICTURE-ONLY", "CODE128-ONLY", "GONE"],
    ["NOT-IN-CATALOGUE", "UNLINKED", "PICTURE-ONLY", "SKU-005", "SKU-007", "SKU-009"],
    [f"SKU-{n:03d}" for n in range(20)],
    [f"SKU-{n:03d}" for n in range(300)] + ["SHOES", "GONE"],  # beyond the powers of two
]


@pytest.mark.parametrize("skus", ORDERS, ids=lambda s: f"{len(s)} SKUs")
def test_the_compiled_read_gives_what_the_orm_read_gives(catalogues, skus):
    for shop in catalogues:
        want = orm_facts(shop.pk, shop.business_id, skus)
        assert product_facts(shop.pk, shop.business_id, skus) == want
        assert product_facts(shop.pk, shop.business_id, iter(skus)) == want  # a generator, as the sheets give
    assert product_facts(999_999, 999_999, skus) == orm_facts(999_999, 999_999, skus)


def test_the_facts_are_those_the_catalogue_and_the_links_give(catalogues):
    shop_a, shop_b, _other = catalogues
    picture = CatalogueOffer.objects.get(business=shop_a.business, offer_id="SHOES").pk
    facts = product_facts(shop_a.pk, shop_a.business_id, ["SHOES", "TWO-GTINS", "CODE128-ONLY", "GONE", "X"])
    assert facts == {"SHOES": ProductFacts(picture, SHOES, "shoes-1a2b"), "TWO-GTINS": ProductFacts(None, MUG),
                     "CODE128-ONLY": ProductFacts(None, MUG), "GONE": ProductFacts(None, MILK),
                     "X": ProductFacts(None, "")}
    assert product_facts(shop_b.pk, shop_b.business_id, ["GONE", "NOT-IN-CATALOGUE"]) == {
        "GONE": ProductFacts(None, ""), "NOT-IN-CATALOGUE": ProductFacts(None, MILK)}


def test_the_reads_are_compiled_once_per_size_and_stay_two(catalogues):
    from fulfilment.orders.compiled_sql import _SQL

    shop_a, _shop_b, _other = catalogues
    product_facts(shop_a.pk, shop_a.business_id, ["CODE128-ONLY", "NO-BARCODE-ANYWHERE", "GONE"])
    with CaptureQueriesContext(connection) as ctx:
        product_facts(shop_a.pk, shop_a.business_id, ["SHOES", "PICTURE-ONLY", "X"])
    assert len(ctx.captured_queries) == 2
    mine = {key: c for (db, key), (_sql, c) in _SQL.items() if db.endswith(connection.vendor)
            and key.startswith(("product-catalogue:", "product-links:"))}
    assert {"product-catalogue:4", "product-links:4"} <= set(mine)
    assert all(c.ok for c in mine.values())  # compiled, not the ORM's fallback
