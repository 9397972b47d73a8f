"""getOfferMappings: the seller's catalogue, as much of it as the dashboard asks for (SKUs and
their barcodes, the first pictures).

Only the "list of SKUs" form is served (the dashboard never pages the whole catalogue): 1 to 100
distinct ``offerIds``, answered whole and without paging, as the spec says; SKUs the catalogue
lacks are simply absent. The catalogue is kept per business in the store; the demo's comes from
the seed, and the control plane replaces an offer (``PUT /_sandbox/offers/<offerId>``).
"""

from __future__ import annotations

from typing import Any

from .protocol import Request, Response, bad
from .state import MarketState

MAX_OFFER_IDS = 100


def offer_mapping(offer: dict[str, Any], origin: str = "") -> dict[str, Any]:
    """``GetOfferMappingDTO`` for a stored ``GetOfferDTO`` (the sandbox keeps no card of its own). The
    sandbox's own pictures are stored as paths and answered as full addresses on this server, as the
    Market's are on its image servers."""
    pictures = [origin + p if p.startswith("/") else p for p in offer.get("pictures") or ()]
    if pictures:
        offer = {**offer, "pictures": pictures}
    return {"offer": offer, "mapping": {"marketSku": 100_000_000 + sum(map(ord, offer["offerId"]))}}


def get_offer_mappings(market: MarketState, req: Request) -> Response:
    """The caller's offers among the ``offerIds`` asked."""
    body = req.body or {}
    if not isinstance(body, dict):
        raise bad("The request body must be an object")
    ids = body.get("offerIds")
    if ids is None:
        raise bad("The sandbox serves getOfferMappings for a list of offerIds only")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_OFFER_IDS:
        raise bad(f"offerIds: 1 to {MAX_OFFER_IDS} SKUs")
    if any(not isinstance(i, str) or not i.strip() for i in ids) or len({i.strip() for i in ids}) != len(ids):
        raise bad("offerIds: distinct, non-empty SKUs")
    if any(body.get(k) is not None for k in ("cardStatuses", "categoryIds", "vendorNames", "tags", "archived")) \
            or req.q("pageToken", "page_token"):
        raise bad("With offerIds, no other filter and no paging may be given")
    offers = market.store.offers(req.params["businessId"], [i.strip() for i in ids])
    origin = f"http://{req.headers['host']}" if req.headers.get("host") else ""
    return Response(body={"status": "OK", "result": {"offerMappings": [offer_mapping(o, origin) for o in offers]}})
