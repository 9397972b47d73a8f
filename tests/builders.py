"""Plain functions that build dashboard rows for tests."""

from __future__ import annotations

import itertools

from fulfilment.orders.models import Business, Campaign, Order, OrderItem

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
