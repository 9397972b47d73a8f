"""The seller's catalogue through the client and the sandbox: each SKU's barcodes, 100 SKUs a call."""

import pytest
import requests

from fulfilment.market.catalogue import chunks
from fulfilment.sandbox import seed


def test_it_reads_the_barcodes_of_the_skus_asked(sandbox):
    offers = sandbox.client().get_offer_mappings(seed.DEMO_BUSINESS_ID, ["SHOES-RUN-42", "MUG-001", "NO-SUCH-SKU"])
    by_sku = {o.offer_id: o for o in offers}
    assert set(by_sku) == {"SHOES-RUN-42", "MUG-001"}  # an SKU the catalogue lacks is simply absent
    assert by_sku["SHOES-RUN-42"].barcodes == ("4601234567893",)
    assert by_sku["MUG-001"].barcodes == (seed.CATALOG["MUG-001"].ean13,)
    assert by_sku["MUG-001"].name == seed.CATALOG["MUG-001"].name


def test_any_number_of_skus_goes_out_a_hundred_a_call(sandbox):
    skus = [f"SKU-{n}" for n in range(250)] + ["MUG-001", "MUG-001 "]
    found = list(sandbox.client().iter_offer_mappings(seed.DEMO_BUSINESS_ID, skus))
    assert [o.offer_id for o in found] == ["MUG-001"]
    calls = sandbox.store.received("getOfferMappings")
    assert len(calls) == 3 and all(c["status"] == 200 for c in calls)
    assert [len(c) for c in chunks(skus)] == [100, 100, 51]  # repeats (after trimming) asked once


def test_the_client_refuses_a_call_the_market_would_refuse(sandbox):
    client = sandbox.client()
    with pytest.raises(ValueError):
        client.get_offer_mappings(seed.DEMO_BUSINESS_ID, [])
    with pytest.raises(ValueError):
        client.get_offer_mappings(seed.DEMO_BUSINESS_ID, [f"S{n}" for n in range(101)])
    assert not sandbox.store.received("getOfferMappings")


def test_the_sandbox_refuses_repeated_skus_and_filters_beside_them(sandbox):
    url = f"{sandbox.url}/v2/businesses/{seed.DEMO_BUSINESS_ID}/offer-mappings"
    headers = {"Api-Key": seed.DEMO_API_KEY}
    for body in ({"offerIds": ["MUG-001", "MUG-001"]}, {"offerIds": ["MUG-001"], "archived": True}, {}):
        resp = requests.post(url, json=body, headers=headers, timeout=10)
        assert resp.status_code == 400 and resp.json()["status"] == "ERROR"
    other = requests.post(f"{sandbox.url}/v2/businesses/1/offer-mappings", json={"offerIds": ["MUG-001"]},
                          headers=headers, timeout=10)
    assert other.status_code == 403


def test_a_catalogue_entry_can_be_replaced_for_training(sandbox):
    resp = requests.put(f"{sandbox.url}/_sandbox/businesses/{seed.DEMO_BUSINESS_ID}/offers/MUG-001",
                        json={"name": "Кружка", "barcodes": ["4600000000008", "2000000000015"]}, timeout=10)
    assert resp.status_code == 200
    (mug,) = sandbox.client().get_offer_mappings(seed.DEMO_BUSINESS_ID, ["MUG-001"])
    assert mug.barcodes == ("4600000000008", "2000000000015")

