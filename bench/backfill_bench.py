"""Backfill benchmark: a large shop's first sync at the Market's latency, against a bare HTTP reader.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_backfill .venv/bin/python bench/backfill_bench.py
    .venv/bin/python bench/backfill_bench.py --orders 10000 --latency-ms 150   # SQLite in a temp dir
    ... bench/backfill_bench.py --sequential                                   # also one window at a time

The sandbox runs in its own process (``manage.py sandbox --latency-ms 150``: each request waits a
uniform 0-150 ms inside its parallel slot, as the Market's own work) with N orders over 25 days.
Measured in the same run, interleaved, medians of ``--repeat`` runs each:

- the first sync (``orders.sync.sync_business``: the date windows read in parallel up to
  getBusinessOrders' limit, every page parsed and written);
- the baseline: the same windows and pages read with plain ``requests`` by the same number of
  threads, each answer decoded, nothing parsed into types or written.

Prints both times, their ratio (target ≤ 1.5), the calls of each, the sandbox's peak of requests in
flight (≤ 6) and the sync's peak Python memory (one more, traced, run). ``--sequential`` adds one
sync reading the windows one after another, as before.
"""

from __future__ import annotations

import argparse
import gc
import json
import queue
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402
from sync_bench import sandbox_process  # noqa: E402


def bare_reader(url: str, token: str, business_id: int, windows: list[dict], parallel: int) -> tuple[int, int]:
    """The same windows and pages over HTTP, ``parallel`` threads, answers decoded: (orders, calls)."""
    import requests

    pending: queue.SimpleQueue[dict] = queue.SimpleQueue()
    for w in windows:
        pending.put(w)
    totals = {"orders": 0, "calls": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            _read()
        except BaseException as exc:  # raised in the caller
            errors.append(exc)

    def _read() -> None:
        session = requests.Session()
        headers = {"Api-Key": token, "Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        orders = calls = 0
        while True:
            try:
                body = json.dumps(pending.get_nowait()).encode()
            except queue.Empty:
                break
            token_: str | None = None
            while True:
                params = {"limit": 50, **({"pageToken": token_} if token_ else {})}
                resp = session.post(f"{url}/v1/businesses/{business_id}/orders", params=params, data=body,
                                    headers=headers, timeout=30)
                resp.raise_for_status()
                calls += 1
                data = resp.json()
                orders += len(data.get("orders") or ())
                token_ = (data.get("paging") or {}).get("nextPageToken")
                if not token_ or not data.get("orders"):
                    break
        with lock:
            totals["orders"] += orders
            totals["calls"] += calls

    threads = [threading.Thread(target=read) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return totals["orders"], totals["calls"]


def peak_in_flight(url: str) -> int:
    req = urllib.request.Request(f"{url}/_sandbox/limits", method="POST")  # noqa: S310 - localhost
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - localhost
        peaks = json.loads(resp.read())["peakInFlight"]
    return max((n for k, n in peaks.items() if k.startswith("getBusinessOrders:")), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each, medians compared")
    parser.add_argument("--sandbox-db", type=Path, help="keep the sandbox's orders in this file and use them "
                        "again next time (writing 50 000 takes minutes)")
    parser.add_argument("--sequential", action="store_true", help="also one sync reading a window at a time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp:
        setup_django(Path(tmp))
        from django.db import connection

        from fulfilment.market import paging
        from fulfilment.market.client import Credentials, MarketClient
        from fulfilment.market.ratelimit import MemoryBackend, RateLimiter
        from fulfilment.orders import sync
        from fulfilment.orders.models import Business, Campaign, Order
        from fulfilment.sandbox.seed import DEMO_API_KEY, DEMO_BUSINESS_ID, FBS_CAMPAIGN_ID, Seeder
        from fulfilment.sandbox.store import Store

        n = args.orders
        db = args.sandbox_db or Path(tmp) / "sandbox.sqlite3"
        t0 = time.perf_counter()
        store = Store(db)
        if store.order_count() != n:
            store.close()
            db.unlink(missing_ok=True)
            store = Store(db)
            seeder = Seeder(store)
            seeder.accounts()
            seeder.load(n, items_per_order=3)
        store.close()
        print(f"database: {connection.vendor}; python {sys.version.split()[0]}; {n:,} sandbox orders "
              f"({time.perf_counter() - t0:.0f} s); latency uniform 0-{args.latency_ms} ms")
        windows = sync.backfill_windows((FBS_CAMPAIGN_ID,), has_dbs=False)
        parallel = min(paging.parallel_limit(), len(windows))

        def client(url: str) -> MarketClient:
            # A generous hourly budget: the benchmark measures the reading, not the Market's hourly limits.
            return MarketClient(Credentials(DEMO_API_KEY), url, limiter=RateLimiter(MemoryBackend(), budget_share=100))

        def reset(url: str) -> Business:
            Order.objects.all().delete()
            Campaign.objects.all().delete()
            # Only the pk: a business left by an earlier run holds a token encrypted with that run's key.
            Business.objects.only("pk").delete()
            business = Business.objects.create(market_id=DEMO_BUSINESS_ID, name="bench", api_base_url=url,
                                               api_token=DEMO_API_KEY)
            Campaign.objects.create(market_id=FBS_CAMPAIGN_ID, business=business, name="bench")
            return business

        def backfill(url: str, trace: bool = False) -> tuple[float, int, int, int]:
            business = reset(url)
            c = client(url)
            gc.collect()
            peak_in_flight(url)
            if trace:
                tracemalloc.start()
            t0 = time.perf_counter()
            result = sync.sync_business(business.pk, client=c)
            elapsed = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.stop()
            assert not result.error and result.orders == n == Order.objects.count(), result
            return elapsed, result.calls, peak_in_flight(url), peak

        def baseline(url: str) -> tuple[float, int, int]:
            peak_in_flight(url)
            t0 = time.perf_counter()
            count, calls = bare_reader(url, DEMO_API_KEY, DEMO_BUSINESS_ID, [w.to_json() for w in windows], parallel)
            elapsed = time.perf_counter() - t0
            assert count == n, (count, n)
            return elapsed, calls, peak_in_flight(url)

        with sandbox_process(db, "--latency-ms", str(args.latency_ms)) as url:
            bases, syncs = [], []
            for i in range(args.repeat):
                b = baseline(url)
                s = backfill(url)
                bases.append(b[0])
                syncs.append(s[0])
                print(f"  run {i + 1}: baseline {b[0]:.2f} s ({b[1]} calls, peak {b[2]} in flight), "
                      f"sync {s[0]:.2f} s ({s[1]} calls, peak {s[2]} in flight)", flush=True)
            _, _, _, memory = backfill(url, trace=True)
            seq = None
            if args.sequential:
                saved = paging.LIMITS
                paging.LIMITS = {**saved, paging.OPERATION: paging.LIMITS[paging.OPERATION].__class__(
                    saved[paging.OPERATION].amount, parallel=1)}
                try:
                    seq = backfill(url)[0]
                finally:
                    paging.LIMITS = saved
        base, synced = statistics.median(bases), statistics.median(syncs)
        print(f"\n{n:,} orders, {len(windows)} windows, {parallel} in parallel: sync {synced:.2f} s, "
              f"baseline {base:.2f} s, ratio {synced / base:.2f} (target ≤ 1.5); peak memory "
              f"{memory / 2**20:.1f} MiB" + (f"; one window at a time {seq:.2f} s" if seq else ""))


if __name__ == "__main__":
    main()
