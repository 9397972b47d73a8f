"""Keep the local mirror equal to the Market: the passes, their pages, single flight, the watermark.

One pass per business with POST v1/businesses/{id}/orders (all its active campaigns at once; every
campaign here belongs to a business, whose id the Market gave). The watermark (the newest
``updateDate`` seen) advances only after a complete pass; the next pass starts a little earlier
(``OVERLAP``) so that a change committed at the Market during our pass is never skipped. Each page
is written by ``mirror.apply_page`` while the next ones are fetched; the first run reads its date
windows in parallel up to the Market's limit (``market.paging``).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field

from django.utils import timezone

from fulfilment.market import types as mt
from fulfilment.market.client import MarketClient
from fulfilment.market.errors import MarketCredentialsError, MarketError
from fulfilment.market.limits import MAX_DATE_RANGE_DAYS
from fulfilment.market.paging import iter_business_orders_parallel

from .clients import client_for
from .locks import try_lock
from .mirror import apply_page
from .models import Business, Campaign, Order

OVERLAP = dt.timedelta(minutes=2)
BACKFILL_DAYS = 30
# The first run's windows are read in parallel: three days make ten windows for six slots, so one
# busy window does not leave the others idle, at ten calls' cost for a small shop.
WINDOW_DAYS = 3


@dataclass
class SyncResult:
    business_id: int
    ran: bool = True
    pages: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    flagged: int = 0
    error: str = ""
    calls: int = 0
    flagged_ids: list[int] = field(default_factory=list)


# --- single flight -------------------------------------------------------------------------------
def _mark_running(business: Business) -> dt.datetime:
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(sync_started_at=now)
    return now


def _finish(business: Business, **fields: object) -> None:
    Business.objects.filter(pk=business.pk).update(sync_started_at=None, **fields)


# --- passes ---
PAGE_ATTEMPTS = 6


def _stream(client: MarketClient, business_market_id: int, filters: mt.OrdersFilter) -> Iterable[mt.OrdersPage]:
    """Follow the pages; a page that fails for a transient reason is asked again (with backoff, and
    as long as the Market asks to wait) instead of restarting the whole pass."""
    return client.iter_business_orders(business_market_id, filters, attempts=PAGE_ATTEMPTS, max_wait=30.0)


def _prefetched(pages: Iterable[mt.OrdersPage], depth: int = 2) -> Iterator[mt.OrdersPage]:
    """Fetch the next pages in a thread while this one is written: the Market's latency and our
    writes overlap, and at most ``depth`` pages wait in memory."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        q.put(page, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=60)


def backfill_windows(campaign_ids: tuple[int, ...], has_dbs: bool) -> list[mt.OrdersFilter]:
    """The first run's independent lists: creation windows of ``WINDOW_DAYS`` back to the horizon
    (newest first), then the DBS orders waiting for a cancellation decision, which may be older."""
    end = timezone.localdate() + dt.timedelta(days=1)  # creationDateTo is exclusive
    horizon = end - dt.timedelta(days=BACKFILL_DAYS)
    windows = []
    while end > horizon:
        start = max(horizon, end - dt.timedelta(days=min(WINDOW_DAYS, MAX_DATE_RANGE_DAYS)))
        windows.append(mt.OrdersFilter(campaign_ids=campaign_ids, creation_from=start, creation_to=end))
        end = start
    if has_dbs:
        # A cancellation request is at most 48 hours old and updated its order, so an update-date
        # filter finds every such order however long ago it was created.
        windows.append(mt.OrdersFilter(campaign_ids=campaign_ids, waiting_for_cancellation_approve=True,
                                       updated_from=timezone.now() - dt.timedelta(hours=49)))
    return windows


def _pages(client: MarketClient, business: Business, campaign_ids: tuple[int, ...], has_dbs: bool
           ) -> Iterator[mt.OrdersPage]:
    if business.sync_watermark:
        return _prefetched(_stream(client, business.market_id, mt.OrdersFilter(
            campaign_ids=campaign_ids, updated_from=business.sync_watermark - OVERLAP)))
    # First run: the windows side by side, up to the Market's parallel limit (each reader prefetches).
    return iter_business_orders_parallel(client, business.market_id, backfill_windows(campaign_ids, has_dbs),
                                         attempts=PAGE_ATTEMPTS, max_wait=30.0)


def sync_business(business_id: int, client: MarketClient | None = None) -> SyncResult:
    """One complete pass over a business. Single-flight across processes and machines: a second
    sync of the same business started meanwhile returns at once with ``ran=False``."""
    business = Business.objects.get(pk=business_id)
    result = SyncResult(business_id)
    if not business.is_active or business.credentials_error:
        result.ran = False
        result.error = business.credentials_error or "inactive"
        return result
    with try_lock(f"sync-business:{business.pk}") as got:
        if not got:
            result.ran = False
            return result
        _mark_running(business)
        client = client or client_for(business)
        try:
            _pass(business, client, result)
        finally:
            result.calls = client.calls
    return result


def _pass(business: Business, client: MarketClient, result: SyncResult) -> None:
    campaigns = {c.market_id: c for c in business.campaigns.filter(is_active=True)}
    newest = business.sync_watermark
    try:
        has_dbs = any(c.placement_model == "DBS" for c in campaigns.values())
        # Closed on any way out, so the readers stop at once when a write fails.
        with closing(_pages(client, business, tuple(sorted(campaigns)), has_dbs)) as pages:
            for page in pages:
                result.pages += 1
                result.orders += len(page.orders)
                created, updated, flagged = apply_page(campaigns, page.orders)
                result.created += created
                result.updated += updated
                result.flagged += len(flagged)
                result.flagged_ids += [o.market_id for o in flagged]
                for o in page.orders:
                    if o.updated_at and (newest is None or o.updated_at > newest):
                        newest = o.updated_at
    except MarketCredentialsError as exc:
        message = "; ".join(exc.messages)
        _finish(business, credentials_error=message, last_sync_error=message, last_sync_error_at=timezone.now())
        Campaign.objects.filter(business=business).update(credentials_error=message)
        result.error = message
        return
    except MarketError as exc:
        result.error = "; ".join(exc.messages)
        _finish(business, last_sync_error=result.error, last_sync_error_at=timezone.now())
        raise
    except BaseException as exc:
        _finish(business, last_sync_error=repr(exc)[:2000], last_sync_error_at=timezone.now())
        raise
    now = timezone.now()
    _finish(business, sync_watermark=newest or now, last_sync_success_at=now, last_sync_error="",
            last_sync_orders=result.orders)
    Campaign.objects.filter(market_id__in=campaigns).update(last_sync_success_at=now, last_sync_error="",
                                                            last_sync_orders=0)


def refresh_order(order: Order, client: MarketClient | None = None) -> Order:
    """Fetch one order again (staff's "refresh"), through the business method."""
    business = order.campaign.business
    client = client or client_for(business)
    page = client.get_business_orders(business.market_id, mt.OrdersFilter(order_ids=(order.market_id,)))
    apply_page({order.campaign.market_id: order.campaign}, page.orders)
    order.refresh_from_db()
    return order
