"""Sync benchmark: N sandbox orders (≈3 items each) into the database, against an HTTP-only baseline.

    .venv/bin/python bench/sync_bench.py                 # N = 2000 and 10000, SQLite in a temp dir
    .venv/bin/python bench/sync_bench.py --orders 500    # any sizes
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sync .venv/bin/python bench/sync_bench.py

Prints, per N: wall time of a first (full) sync, API calls, peak Python memory during the sync,
the baseline (the same pages fetched over HTTP and parsed, nothing written) measured in the same
run, their ratio (medians of three interleaved runs of each), and the calls of an unchanged
incremental sync. Targets (issue 4): ratio ≤ 1.5,
calls = ⌈N/50⌉ + O(1), 1 call for an unchanged sync, peak memory flat in N.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402


@contextlib.contextmanager
def sandbox_process(db: Path, *extra: str) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "sandbox", "--port", str(port), "--db", str(db),
                             *extra],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_sandbox/health", timeout=1).close()  # noqa: S310 - localhost
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def measure(n: int, tmp: Path, repeat: int = 3) -> dict[str, float]:
    from fulfilment.market.client import Credentials, MarketClient
    from fulfilment.market.ratelimit import MemoryBackend, RateLimiter
    from fulfilment.market.types import OrdersFilter
    from fulfilment.orders import sync as _sync
    from fulfilment.orders.models import Business, Campaign, Order
    sync_business = _sync.sync_business
    from fulfilment.sandbox.seed import DEMO_API_KEY, DEMO_BUSINESS_ID, FBS_CAMPAIGN_ID, Seeder
    from fulfilment.sandbox.store import Store

    db = tmp / f"sandbox-{n}.sqlite3"
    store = Store(db)
    seeder = Seeder(store)
    seeder.accounts()
    seeder.load(n, items_per_order=3)
    store.close()

    def client(url: str) -> MarketClient:
        # A generous local budget: the benchmark measures our work, not the Market's hourly limits.
        return MarketClient(Credentials(DEMO_API_KEY), url, limiter=RateLimiter(MemoryBackend(), budget_share=100))

    def reset() -> Business:
        Order.objects.filter(campaign__market_id=FBS_CAMPAIGN_ID).delete()
        Campaign.objects.filter(market_id=FBS_CAMPAIGN_ID).delete()
        # Only the pk: a business left by an earlier run holds a token encrypted with that run's key.
        Business.objects.filter(market_id=DEMO_BUSINESS_ID).only("pk").delete()
        business = Business.objects.create(market_id=DEMO_BUSINESS_ID, name="bench", api_base_url=url,
                                           api_token=DEMO_API_KEY)
        Campaign.objects.create(market_id=FBS_CAMPAIGN_ID, business=business, name="bench")
        return business

    # The Market is another machine: its CPU time is not ours, so it runs in its own process.
    with sandbox_process(db) as url:
        import datetime as dt

        from django.utils import timezone

        end = timezone.localdate() + dt.timedelta(days=1)
        flt = OrdersFilter(campaign_ids=(FBS_CAMPAIGN_ID,), creation_from=end - dt.timedelta(days=30), creation_to=end)

        def baseline() -> tuple[float, int]:
            c = client(url)
            t0 = time.perf_counter()
            count = sum(len(p.orders) for p in c.iter_business_orders(DEMO_BUSINESS_ID, flt))
            elapsed = time.perf_counter() - t0
            assert count == n, (count, n)
            return elapsed, c.calls

        def full_sync(trace: bool) -> tuple[float, int, int]:
            business = reset()
            c = client(url)
            gc.collect()
            if trace:
                tracemalloc.start()
            t0 = time.perf_counter()
            result = sync_business(business.pk, client=c)
            elapsed = time.perf_counter() - t0
            peak = 0
            if trace:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            assert result.orders == n and Order.objects.filter(campaign__market_id=FBS_CAMPAIGN_ID).count() == n
            return elapsed, result.calls, peak

        # Interleaved and repeated, medians compared: this machine's noise moves single runs by 30 %.
        bases, syncs = [], []
        for _ in range(repeat):
            elapsed, base_calls = baseline()
            bases.append(elapsed)
            elapsed, calls, _ = full_sync(trace=False)
            syncs.append(elapsed)
        _, _, peak = full_sync(trace=True)
        c = client(url)
        again = sync_business(Business.objects.get(market_id=DEMO_BUSINESS_ID).pk, client=c)
    base, sync_time = statistics.median(bases), statistics.median(syncs)
    return {"n": n, "sync_s": sync_time, "baseline_s": base, "ratio": sync_time / base, "calls": calls,
            "baseline_calls": base_calls, "expected_calls": math.ceil(n / 50), "peak_mib": peak / 2**20,
            "unchanged_calls": again.calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, medians compared")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        setup_django(Path(tmp))
        from django.db import connection

        print(f"database: {connection.vendor}; python {sys.version.split()[0]}")
        header = (f"{'N':>7} {'sync s':>8} {'baseline s':>11} {'ratio':>6} {'calls':>6} {'⌈N/50⌉':>7} "
                  f"{'peak MiB':>9} {'unchanged calls':>16}")
        print(header)
        for n in args.orders:
            r = measure(n, Path(tmp), args.repeat)
            print(f"{r['n']:>7} {r['sync_s']:>8.2f} {r['baseline_s']:>11.2f} {r['ratio']:>6.2f} {r['calls']:>6} "
                  f"{r['expected_calls']:>7} {r['peak_mib']:>9.1f} {r['unchanged_calls']:>16}")


if __name__ == "__main__":
    main()
