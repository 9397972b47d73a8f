"""Product barcodes from the seller's catalogue: which GTIN is which SKU, before anyone scans it.

After each order sync, the SKUs of the orders to pack that were not read in the last day are
asked of the Market (getOfferMappings, 100 a call) and each shop's barcode links follow the
catalogue. A link a person confirmed stays as they left it (they may have corrected the
catalogue's mistake); a link learnt from a scan by an earlier version gives way to the catalogue.
A GTIN that the catalogue gives to two SKUs links to neither: a scan of it is refused until a
person links it (the teach mode of the order screen, or a supervisor on the barcode links page).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import IntegerField, JSONField, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, StrIndex
from django.utils import timezone

from fulfilment.codes.formats import product_gtin, valid_gtin
from fulfilment.market.catalogue import CatalogueOffer as MarketOffer
from fulfilment.market.client import MarketClient

from .clients import client_for
from .compiled_sql import rows, statement
from .locks import try_lock
from .models import AuditEvent, Business, CatalogueOffer, Order, OrderItem, OrderStatus, ProductBarcode

log = logging.getLogger("fulfilment.catalogue")
TTL = dt.timedelta(days=1)
Source = ProductBarcode.Source


@dataclass
class CatalogueResult:
    asked: int = 0  # SKUs asked of the Market
    found: int = 0  # of them, in the catalogue
    linked: int = 0  # barcode links written or changed
    ambiguous: list[str] = field(default_factory=list)  # GTINs the catalogue gives to several SKUs


def skus_to_read(business: Business, now: dt.datetime) -> list[str]:
    """SKUs of the business's orders being processed whose catalogue entry is missing or a day old."""
    wanted = set(OrderItem.objects.filter(order__campaign__business=business, order__status=OrderStatus.PROCESSING)
                 .values_list("offer_id", flat=True).distinct())
    fresh = set(CatalogueOffer.objects.filter(business=business, offer_id__in=wanted, fetched_at__gte=now - TTL)
                .values_list("offer_id", flat=True))
    return sorted(wanted - fresh - {""})


def gtins(barcodes: Iterable[str]) -> set[str]:
    """The GTIN-14s among a catalogue entry's barcodes (Code 128 and internal codes are not GTINs)."""
    return {g for g in (product_gtin(b) for b in barcodes) if g}


def sync_catalogue(business_id: int, client: MarketClient | None = None, skus: Iterable[str] | None = None
                   ) -> CatalogueResult:
    """Read the catalogue entries the packing tables need and bring the barcode links in line."""
    business = Business.objects.get(pk=business_id)
    # Single-flight per business: two reads at once (a message delivered twice, two syncs in a row)
    # would ask the Market the same SKUs twice and race on the new links. The second one asks nothing.
    with try_lock(f"sync-catalogue:{business.pk}") as held:
        if not held:
            return CatalogueResult()
        now = timezone.now()
        todo = sorted(set(skus)) if skus is not None else skus_to_read(business, now)
        result = CatalogueResult(asked=len(todo))
        if not todo:
            return result
        client = client or client_for(business)
        offers = {o.offer_id: o for o in client.iter_offer_mappings(business.market_id, todo)}
        result.found = len(offers)
        with transaction.atomic():
            _store_offers(business, todo, offers, now)
            result.linked, result.ambiguous = _link(business, offers)
    if result.ambiguous:
        log.warning("business %s: GTINs given to several SKUs in the catalogue: %s", business.market_id,
                    ", ".join(result.ambiguous))
    return result


def _store_offers(business: Business, asked: list[str], offers: dict[str, MarketOffer], now: dt.datetime) -> None:
    rows = []
    for sku in asked:
        offer = offers.get(sku)
        if offer is None:  # asked, not in the catalogue: remembered, so not asked again today
            rows.append(CatalogueOffer(business=business, offer_id=sku, in_catalogue=False, fetched_at=now))
            continue
        rows.append(CatalogueOffer(business=business, offer_id=sku, name=offer.name[:512],
                                   barcodes=list(offer.barcodes), picture=offer.pictures[0] if offer.pictures else "",
                                   fetched_at=now))
    CatalogueOffer.objects.bulk_create(rows, update_conflicts=True, unique_fields=["business", "offer_id"],
                                       update_fields=["name", "barcodes", "picture", "in_catalogue", "fetched_at"])


def _link(business: Business, offers: dict[str, MarketOffer]) -> tuple[int, list[str]]:
    """Each shop's links for the GTINs of these SKUs; links the catalogue no longer gives are dropped."""
    owners: dict[str, set[str]] = defaultdict(set)
    for offer in offers.values():
        for gtin in gtins(offer.barcodes):
            owners[gtin].add(offer.offer_id)
    # Another SKU already read may claim the same GTIN: that is ambiguous too.
    for entry in CatalogueOffer.objects.filter(business=business, in_catalogue=True).exclude(offer_id__in=offers):
        for gtin in gtins(entry.barcodes):
            if gtin in owners:
                owners[gtin].add(entry.offer_id)
    ambiguous = sorted(g for g, skus in owners.items() if len(skus) > 1)
    wanted = {g: next(iter(skus)) for g, skus in owners.items() if len(skus) == 1}
    changed = 0
    for campaign_id in business.campaigns.values_list("pk", flat=True):
        existing = {b.gtin: b for b in ProductBarcode.objects.filter(campaign_id=campaign_id, gtin__in=owners)}
        new = []
        for gtin, sku in wanted.items():
            link = existing.get(gtin)
            if link is None:
                new.append(ProductBarcode(campaign_id=campaign_id, gtin=gtin, offer_id=sku, source=Source.CATALOGUE))
            elif link.source != Source.CONFIRMED and (link.offer_id, link.source) != (sku, Source.CATALOGUE):
                link.offer_id, link.source = sku, Source.CATALOGUE
                link.save(update_fields=["offer_id", "source", "updated_at"])
                changed += 1
        ProductBarcode.objects.bulk_create(new)
        changed += len(new)
        # The catalogue took these barcodes away from their SKU, or gave them to two: unlinked.
        stale = ProductBarcode.objects.filter(campaign_id=campaign_id, source=Source.CATALOGUE,
                                              offer_id__in=offers).exclude(gtin__in=wanted)
        changed += stale.update(offer_id="")
    return changed, ambiguous


@dataclass(frozen=True, slots=True)
class BarcodeFacts:
    """What a shop knows of a GTIN at one moment: its link (``linked``: a row exists; ``offer_id`` ""
    when it is unlinked), the serial length of its codes, and the catalogue's SKUs that list it."""

    linked: bool
    offer_id: str
    serial_length: int | None
    listed: frozenset[str]


# Stand-ins the facts' union is compiled with (``compiled_sql.py``): no shop, business, GTIN or text has them.
_FACTS_PLACEHOLDERS = (-918_273_646, -918_273_647, "stand-in GTIN", "stand-in digits")
_ORDER_FACTS_PLACEHOLDERS = (-918_273_651, -918_273_652, "stand-in GTIN", "stand-in digits")


def _facts_query(campaign_id: int | Subquery, business_id: int | Subquery, gtin: str, significant: str) -> QuerySet:
    link = (ProductBarcode.objects.filter(campaign_id=campaign_id, gtin=gtin).order_by()
            .values_list(Value("link"), "offer_id", "serial_length", Value(None, output_field=JSONField())))
    # Only the catalogue rows whose barcodes' text holds the GTIN's digits after its leading zeros:
    # any barcode that is this GTIN does (an EAN-13 or UPC-A is the GTIN-14 less leading zeros), so
    # no row that lists it is left out, and the other SKUs of a large catalogue are not decoded on
    # every scan (issue 20). ``gtins`` still decides exactly which rows list it.
    listed = (CatalogueOffer.objects.filter(business_id=business_id, in_catalogue=True).order_by()
              .alias(at=StrIndex(Cast("barcodes", output_field=TextField()), Value(significant))).filter(at__gt=0)
              .values_list(Value("offer"), "offer_id", Value(None, output_field=IntegerField()), "barcodes"))
    return link.union(listed, all=True)


def barcode_facts(campaign_id: int, business_id: int, gtin: str) -> BarcodeFacts:
    """The link and the catalogue for a GTIN in one statement, so both are as of one moment: read
    apart, a catalogue sync committed in between gave a link from before and a catalogue from after."""
    return facts_of(gtin, rows("barcode-facts", _facts_query, _FACTS_PLACEHOLDERS,
                               (campaign_id, business_id, gtin, gtin.lstrip("0"))))


def _order_facts_query(order_id: int, order_again: int, gtin: str, significant: str) -> QuerySet:
    """``_facts_query`` for the shop and business of an order (its id twice: one placeholder each)."""
    return _facts_query(Subquery(Order.objects.filter(pk=order_id).values("campaign_id")),
                        Subquery(Order.objects.filter(pk=order_again).values("campaign__business_id")),
                        gtin, significant)


def order_facts_statement(order_id: int, gtin: str) -> tuple[str, list[Any]] | None:
    """``barcode_facts`` for an order's shop as one statement to send with others (``facts_of`` its
    rows), or None where it cannot be compiled once."""
    return statement("order-barcode-facts", _order_facts_query, _ORDER_FACTS_PLACEHOLDERS,
                     (order_id, order_id, gtin, gtin.lstrip("0")))


def facts_of(gtin: str, found: Iterable[Sequence[Any]]) -> BarcodeFacts:
    """The facts the rows of a facts statement give."""
    facts = BarcodeFacts(False, "", None, frozenset())
    skus = set()
    for kind, offer_id, serial_length, barcodes in found:
        if isinstance(barcodes, str):  # the driver's JSON text, not the ORM's list
            barcodes = json.loads(barcodes)
        if kind == "link":
            facts = BarcodeFacts(True, offer_id, serial_length, frozenset())
        elif gtin in gtins(barcodes or ()):
            skus.add(offer_id)
    return BarcodeFacts(facts.linked, facts.offer_id, facts.serial_length, frozenset(skus))


def confirm_link(campaign_id: int, gtin: str, offer_id: str, user: object | None) -> ProductBarcode:
    """A person links a GTIN the shop does not know yet (or corrects its link) to an SKU: audited,
    and it stands until a person changes it. An invalid GTIN is never linked."""
    if not valid_gtin(gtin):
        raise ValueError(f"not a valid GTIN: {gtin!r}")
    with transaction.atomic():
        link, _created = ProductBarcode.objects.select_for_update().get_or_create(
            campaign_id=campaign_id, gtin=gtin.zfill(14), defaults={"source": Source.CONFIRMED})
        correct_link(link, offer_id, user)
    return link


def correct_link(link: ProductBarcode, offer_id: str, user: object | None) -> None:
    """A person says which SKU this GTIN is ("" unlinks it): it stands until a person changes it."""
    before = link.offer_id
    if offer_id.strip() and not valid_gtin(link.gtin):
        raise ValueError(f"not a valid GTIN: {link.gtin!r}")
    with transaction.atomic():
        link.offer_id, link.source = offer_id.strip(), Source.CONFIRMED
        link.learnt_by = user if getattr(user, "is_authenticated", False) else None  # type: ignore[assignment]
        link.save()
        AuditEvent.objects.create(user=link.learnt_by, action="barcode.corrected", payload={
            "campaign": link.campaign.market_id, "gtin": link.gtin, "from": before, "to": link.offer_id})


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What the order screen shows beside an item: the picture kept here (the catalogue row's pk,
    None when no copy is kept) and the product barcode (the catalogue's, else the shop's link)."""

    picture: int | None
    barcode: str
    version: str = ""  # the kept file's name: a new picture is a new address for the browser's cache


def product_facts(campaign_id: int, business_id: int, offer_ids: Iterable[str]) -> dict[str, ProductFacts]:
    """Per SKU of an order: its picture and barcode, in two reads whatever the number of items."""
    skus = set(offer_ids)
    picture: dict[str, tuple[int, str]] = {}
    barcode: dict[str, str] = {}
    for pk, sku, barcodes, kept in _sku_rows("product-catalogue", _catalogue_query, business_id, skus):
        if kept:
            picture[sku] = (pk, kept.rsplit("/", 1)[-1].split(".")[0])
        if isinstance(barcodes, str):  # the driver's JSON text, not the ORM's list
            barcodes = json.loads(barcodes)
        found = sorted(gtins(barcodes or ()))
        if found:
            barcode[sku] = found[0].removeprefix("0")  # a GTIN-14 of an EAN-13, as printed on the goods
    missing = skus - set(barcode)
    if missing:
        for sku, gtin in _sku_rows("product-links", _links_query, campaign_id, missing):
            barcode.setdefault(sku, gtin.removeprefix("0"))
    out = {}
    for sku in skus:
        pk, version = picture.get(sku, (None, ""))
        out[sku] = ProductFacts(pk, barcode.get(sku, ""), version)
    return out


def _catalogue_query(business_id: int, *skus: str) -> QuerySet:
    # No ordering: the default one (by business) joined the business table and sorted for nothing.
    return (CatalogueOffer.objects.filter(business_id=business_id, offer_id__in=skus, in_catalogue=True).order_by()
            .values_list("pk", "offer_id", "barcodes", "picture_file"))


def _links_query(campaign_id: int, *skus: str) -> QuerySet:
    return (ProductBarcode.objects.filter(campaign_id=campaign_id, offer_id__in=skus).order_by("gtin")
            .values_list("offer_id", "gtin"))


_OWNER_PLACEHOLDER = -918_273_653  # no shop or business has it


def _in_size(n: int) -> int:
    """How many SKUs the ``IN`` list is compiled for: a power of two up to 256, then a multiple of
    256, so a handful of shapes serve every order (compiling was 1.7-3.7 ms of each order panel)."""
    return 1 << (n - 1).bit_length() if n <= 256 else -(-n // 256) * 256


def _sku_rows(key: str, build: Callable[..., QuerySet], owner: int, skus: set[str]) -> list[tuple[Any, ...]]:
    """The rows of ``build(owner, *skus)``, compiled once per size of its ``IN`` list (``compiled_sql``);
    the list is filled up with its last SKU again, which finds no other row."""
    if not skus:
        return []  # the ORM asks nothing of an empty ``IN`` either
    size, given = _in_size(len(skus)), sorted(skus)
    placeholders = (_OWNER_PLACEHOLDER, *(f"stand-in SKU {n}" for n in range(size)))
    return rows(f"{key}:{size}", build, placeholders, (owner, *given, *[given[-1]] * (size - len(given))))
