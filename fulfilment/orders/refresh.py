"""A targeted refresh: fetch just the named orders again and apply them with the sync's rules.

Used after the Market's notifications (and for anything else that knows which orders changed): one
POST v1/businesses/{id}/orders with ``orderIds`` per 50 orders, written by the same ``apply_page``
as the periodic sync, so the mirror, the flags and "the later updateDate wins" are the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fulfilment.market import types as mt
from fulfilment.market.client import MarketClient
from fulfilment.market.limits import MAX_PAGE_SIZE

from .clients import client_for
from .mirror import apply_page
from .models import Business

BATCH = MAX_PAGE_SIZE  # orderIds per request: one page holds them all


@dataclass
class RefreshResult:
    calls: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    flagged_ids: list[int] = field(default_factory=list)
    skipped: str = ""  # why nothing was asked (inactive business, rejected credentials)


def refresh_orders(business_id: int, market_ids: Iterable[int], client: MarketClient | None = None) -> RefreshResult:
    """Fetch the orders ``market_ids`` of a business again, ≤ 50 per call. A transient failure of
    the Market raises (``MarketUnavailable``, ``MarketRateLimited``): the caller retries."""
    business = Business.objects.get(pk=business_id)
    result = RefreshResult()
    if not business.is_active or business.credentials_error:
        result.skipped = business.credentials_error or "inactive"
        return result
    campaigns = {c.market_id: c for c in business.campaigns.filter(is_active=True)}
    ids = sorted(set(market_ids))
    if not ids or not campaigns:
        return result
    client = client or client_for(business)
    for start in range(0, len(ids), BATCH):
        batch = tuple(ids[start:start + BATCH])
        page = client.get_business_orders(business.market_id, mt.OrdersFilter(order_ids=batch))
        result.calls += 1
        result.orders += len(page.orders)
        created, updated, flagged = apply_page(campaigns, page.orders)
        result.created += created
        result.updated += updated
        result.flagged_ids += [o.market_id for o in flagged]
    return result
