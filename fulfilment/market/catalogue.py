"""The seller's catalogue as the packing table needs it: each SKU's barcodes (and its first picture).

getOfferMappings (POST v2/businesses/{businessId}/offer-mappings) answers a list of SKUs "only
whole" (no paging with ``offerIds``), at most 100 SKUs a call, 100 calls a minute per business.
The barcodes are the seller's own (EAN-8/13, UPC, GTIN, sometimes Code 128 or ISBN), so they are
kept as given; what counts as a GTIN is decided where they are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .limits import MAX_OFFER_IDS

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


@dataclass(frozen=True)
class CatalogueOffer:
    """``GetOfferMappingDTO``, reduced to what packing uses."""

    offer_id: str
    name: str
    barcodes: tuple[str, ...]
    pictures: tuple[str, ...]
    archived: bool

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CatalogueOffer:
        offer = d.get("offer") or {}
        return cls(str(offer.get("offerId", "")).strip(), offer.get("name") or "",
                   tuple(str(b).strip() for b in offer.get("barcodes") or () if str(b).strip()),
                   tuple(offer.get("pictures") or ()), bool(offer.get("archived")))


def chunks(values: Iterable[str], size: int = MAX_OFFER_IDS) -> Iterator[list[str]]:
    """Distinct values in calls of at most ``size`` (the Market refuses repeated SKUs: uniqueItems)."""
    batch: list[str] = []
    for value in dict.fromkeys(v.strip() for v in values if v and v.strip()):
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class CatalogueApi:
    """The catalogue's methods of ``MarketClient``."""

    def get_offer_mappings(self: MarketClient, business_id: int, offer_ids: Sequence[str]) -> list[CatalogueOffer]:
        """getOfferMappings for up to 100 SKUs (one call; SKUs the catalogue lacks are simply absent)."""
        if not 1 <= len(offer_ids) <= MAX_OFFER_IDS:
            raise ValueError(f"1 to {MAX_OFFER_IDS} SKUs per call")
        data = self._request("getOfferMappings", "POST", f"/v2/businesses/{business_id}/offer-mappings",
                             key=business_id, body={"offerIds": list(offer_ids)})
        return [CatalogueOffer.from_json(m) for m in self._result(data, "getOfferMappings").get("offerMappings") or ()]

    def iter_offer_mappings(self: MarketClient, business_id: int, offer_ids: Iterable[str]
                            ) -> Iterator[CatalogueOffer]:
        """getOfferMappings for any number of SKUs, 100 a call."""
        for batch in chunks(offer_ids):
            yield from self.get_offer_mappings(business_id, batch)
