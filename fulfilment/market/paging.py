"""Independent order lists (date windows) of getBusinessOrders read in parallel, still streamed.

The Market allows ``parallel`` requests in flight per business for getBusinessOrders
(``x-resource-limit-config``, ``market.limits``); a page token belongs to one filter, so the pages of
one window follow each other while different windows proceed side by side. At most ``parallel``
threads; each holds at most one page while the consumer is busy, and at most ``parallel`` more wait
in the queue: memory does not grow with the shop. The shared limiter still guards every request,
so other processes of the same business share the same slots.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import requests

from .client import MarketClient, wait_and_retry
from .errors import MarketRateLimited
from .limits import LIMITS, MAX_PAGE_SIZE
from .types import OrdersFilter, OrdersPage

T = TypeVar("T")
OPERATION = "getBusinessOrders"
_DONE = object()


def parallel_limit() -> int:
    """How many getBusinessOrders requests the Market takes at once (1 if it names no limit)."""
    return LIMITS[OPERATION].parallel or 1


def _when_free(call: Callable[[], T], stop: threading.Event, patience: float) -> T:
    """Wait for a free slot of the shared limiter (another process of this business holds it) without
    counting it as a failed attempt; a 420 from the Market itself still goes to ``wait_and_retry``."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return call()
        except MarketRateLimited as exc:
            local = exc.status is None and exc.retry_after < 1.0
            if not local or stop.is_set() or time.monotonic() > deadline:
                raise
            time.sleep(exc.retry_after)


def _window(client: MarketClient, business_id: int, filters: OrdersFilter, limit: int, attempts: int,
            max_wait: float, stop: threading.Event) -> Iterator[OrdersPage]:
    token: str | None = None
    while not stop.is_set():
        page = wait_and_retry(
            lambda t=token: _when_free(lambda: client.get_business_orders(business_id, filters, t, limit),
                                       stop, max_wait),
            attempts=attempts, max_wait=max_wait)
        yield page
        if not page.next_page_token or not page.orders:
            return
        token = page.next_page_token


def iter_business_orders_parallel(client: MarketClient, business_id: int, windows: Sequence[OrdersFilter], *,
                                  parallel: int | None = None, limit: int = MAX_PAGE_SIZE, attempts: int = 1,
                                  max_wait: float = 30.0) -> Iterator[OrdersPage]:
    """Every page of every window, in the order they arrive, ``parallel`` windows at a time (the
    Market's limit by default). The first error stops every reader and is raised here; closing the
    iterator early stops them too. ``client.calls`` counts every request sent."""
    workers = max(1, min(parallel or parallel_limit(), parallel_limit(), len(windows)))
    pending: queue.SimpleQueue[OrdersFilter] = queue.SimpleQueue()
    for w in windows:
        pending.put(w)
    out: queue.Queue[object] = queue.Queue(maxsize=workers)
    stop = threading.Event()
    lock = threading.Lock()
    errors: list[BaseException] = []  # an error that found the queue full

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        # Its own session: requests.Session is not safe to share between threads.
        mine = copy.copy(client)
        mine.session, mine.calls = requests.Session(), 0
        try:
            while not stop.is_set():
                try:
                    flt = pending.get_nowait()
                except queue.Empty:
                    break
                for page in _window(mine, business_id, flt, limit, attempts, max_wait, stop):
                    if not put(page):
                        return
        except BaseException as exc:  # handed to the consumer, raised there
            stop.set()
            try:
                out.put_nowait(exc)
            except queue.Full:
                with lock:
                    errors.append(exc)
        finally:
            mine.session.close()
            with lock:
                client.calls += mine.calls
            put(_DONE)

    threads = [threading.Thread(target=read, name=f"orders-reader-{i}", daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    finished = 0
    try:
        while finished < workers:
            try:
                item = out.get(timeout=0.2)
            except queue.Empty:
                if errors:
                    raise errors[0] from None
                continue
            if errors:
                raise errors[0]
            if item is _DONE:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item  # type: ignore[misc]
        if errors:
            raise errors[0]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
