"""Plain functions that build dashboard rows for tests."""

from __future__ import annotations

import itertools

from fulfilment.orders.models import Business, Campaign, Order, OrderItem, ProductBarcode
from fulfilment.sandbox.seed import CATALOG

_ids = itertools.count(1000)


def make_business(**kw: object) -> Business:
    n = next(_ids)
    defaults: dict[str, object] = {"market_id": n, "name": f"Business {n}", "api_token": f"token-{n}"}
    defaults.update(kw)
    return Business.objects.create(**defaults)


def make_campaign(business: Business | None = None, **kw: object) -> Campaign:
    n = next(_ids)
    defaults: dict[str, object] = {"market_id": 20_000 + n, "name": f"Shop {n}",
                                   "business": business or make_business()}
    defaults.update(kw)
    return Campaign.objects.create(**defaults)


def make_order(campaign: Campaign | None = None, items: tuple[tuple[str, int], ...] = (("SKU-1", 1),),
               **kw: object) -> Order:
    n = next(_ids)
    defaults: dict[str, object] = {"campaign": campaign or make_campaign(), "market_id": 50_000_000 + n,
                                   "status": "PROCESSING", "substatus": "STARTED"}
    defaults.update(kw)
    order = Order.objects.create(**defaults)
    for offer_id, count in items:
        OrderItem.objects.create(order=order, market_item_id=next(_ids), offer_id=offer_id, name=f"Item {offer_id}",
                                 count=count)
    return order


def link_catalogue(order: Order) -> Order:
    """The barcode links the seller's catalogue gives the order's SKUs (the sandbox's demo products),
    as a catalogue sync leaves them."""
    for item in order.items.all():
        product = CATALOG.get(item.offer_id)
        if product is not None and product.ean13:
            ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin=product.ean13.zfill(14), defaults={
                "offer_id": item.offer_id, "source": ProductBarcode.Source.CATALOGUE})
    return order


def make_linked_order(campaign: Campaign | None = None, items: tuple[tuple[str, int], ...] = (("SKU-1", 1),),
                      **kw: object) -> Order:
    """An order whose SKUs' barcodes the catalogue gave (see ``link_catalogue``)."""
    return link_catalogue(make_order(campaign, items, **kw))
