"""Barcode links from the seller's catalogue: read after the order sync, per shop, never from a
scan alone; a person's correction stands, an old learnt link gives way."""

import json

import pytest
import requests

from fulfilment.orders import catalogue, sync
from fulfilment.orders.models import AuditEvent, CatalogueOffer, Order, ProductBarcode
from fulfilment.orders.tasks import sync_business_task
from fulfilment.sandbox import seed

from .worker import Worker, wait_for

Source = ProductBarcode.Source
SHOES_GTIN = "04601234567893"
MILK_GTIN = "04650117240408"


def links(campaign_market_id: int) -> dict[str, tuple[str, str]]:
    rows = ProductBarcode.objects.filter(campaign__market_id=campaign_market_id)
    return {b.gtin: (b.offer_id, b.source) for b in rows}


def set_offer(market, sku: str, barcodes: list[str]) -> None:
    resp = requests.put(f"{market.url}/_sandbox/businesses/{seed.DEMO_BUSINESS_ID}/offers/{sku}",
                        json={"name": sku, "barcodes": barcodes}, timeout=10)
    assert resp.status_code == 200


@pytest.fixture
def synced(market):
    market.place([("SHOES-RUN-42", 1), ("TSHIRT-M", 2)])
    market.place([("MUG-001", 1)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS", delivery_type="DELIVERY")
    market.place([("GAME-KEY", 1)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS", delivery_type="DIGITAL")
    sync.sync_business(market.business.pk, client=market.client())
    return market


@pytest.mark.django_db
def test_the_skus_being_packed_get_their_catalogue_barcodes_in_every_shop(synced):
    result = catalogue.sync_catalogue(synced.business.pk, client=synced.client())
    assert result.asked == 4 and result.found == 4 and not result.ambiguous
    fbs = links(seed.FBS_CAMPAIGN_ID)
    assert fbs[SHOES_GTIN] == ("SHOES-RUN-42", Source.CATALOGUE)
    assert fbs[seed.CATALOG["TSHIRT-M"].gtin] == ("TSHIRT-M", Source.CATALOGUE)
    assert links(seed.DBS_CAMPAIGN_ID) == fbs  # the catalogue is the business's: every shop knows them
    key = CatalogueOffer.objects.get(offer_id="GAME-KEY")
    assert key.in_catalogue and key.barcodes == []  # a digital key has no barcode, and links nothing
    (asked,) = synced.store.received("getOfferMappings")
    assert sorted(json.loads(asked["body"])["offerIds"]) == ["GAME-KEY", "MUG-001", "SHOES-RUN-42", "TSHIRT-M"]


@pytest.mark.django_db
def test_what_was_read_today_is_not_asked_again(synced):
    catalogue.sync_catalogue(synced.business.pk, client=synced.client())
    again = catalogue.sync_catalogue(synced.business.pk, client=synced.client())
    assert again.asked == 0 and len(synced.store.received("getOfferMappings")) == 1


@pytest.mark.django_db
def test_a_wrongly_learnt_link_gives_way_and_a_persons_correction_stands(synced, supervisor):
    fbs = synced.business.campaigns.get(market_id=seed.FBS_CAMPAIGN_ID)
    dbs = synced.business.campaigns.get(market_id=seed.DBS_CAMPAIGN_ID)
    # What the old version did: a milk code scanned in a T-shirt order became the T-shirt's barcode.
    ProductBarcode.objects.create(campaign=fbs, gtin=seed.CATALOG["TSHIRT-M"].gtin, offer_id="MILK-1L",
                                  source=Source.LEARNT, serial_length=13)
    ProductBarcode.objects.create(campaign=dbs, gtin=seed.CATALOG["MUG-001"].gtin, offer_id="MUG-001-BLUE",
                                  source=Source.CONFIRMED, learnt_by=supervisor)
    catalogue.sync_catalogue(synced.business.pk, client=synced.client())
    tshirt = ProductBarcode.objects.get(campaign=fbs, gtin=seed.CATALOG["TSHIRT-M"].gtin)
    assert (tshirt.offer_id, tshirt.source, tshirt.serial_length) == ("TSHIRT-M", Source.CATALOGUE, 13)
    mug = ProductBarcode.objects.get(campaign=dbs, gtin=seed.CATALOG["MUG-001"].gtin)
    assert (mug.offer_id, mug.source) == ("MUG-001-BLUE", Source.CONFIRMED)


@pytest.mark.django_db
def test_a_gtin_the_catalogue_gives_to_two_skus_links_to_neither(synced):
    set_offer(synced, "TSHIRT-M", [seed.CATALOG["SHOES-RUN-42"].ean13])
    result = catalogue.sync_catalogue(synced.business.pk, client=synced.client())
    assert result.ambiguous == [SHOES_GTIN]
    assert SHOES_GTIN not in links(seed.FBS_CAMPAIGN_ID)


@pytest.mark.django_db
def test_a_barcode_taken_off_an_sku_in_the_catalogue_is_unlinked(synced):
    catalogue.sync_catalogue(synced.business.pk, client=synced.client())
    set_offer(synced, "SHOES-RUN-42", ["4600000000008"])  # a relabelled product
    catalogue.sync_catalogue(synced.business.pk, client=synced.client(), skus=["SHOES-RUN-42"])
    fbs = links(seed.FBS_CAMPAIGN_ID)
    assert fbs[SHOES_GTIN] == ("", Source.CATALOGUE)
    assert fbs["04600000000008"] == ("SHOES-RUN-42", Source.CATALOGUE)
    assert not AuditEvent.objects.exists()  # nothing of a packer's was touched


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_reads_the_catalogue_after_the_order_sync(market):
    market.place([("SHOES-RUN-42", 1)])
    with Worker() as worker:
        sync_business_task.delay(market.business.pk)
        wait_for(lambda: ProductBarcode.objects.filter(gtin=SHOES_GTIN, offer_id="SHOES-RUN-42").exists(), 60,
                 "the catalogue's links", worker)
    assert Order.objects.count() == 1
    assert len(market.store.received("getOfferMappings")) == 1
