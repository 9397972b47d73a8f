"""CPU of a scan's database side alone: ``scanning.scan`` (the locked read, the state, the barcode's
facts, the writes; no view, no template), and the order screen's ``product_facts``, in process.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cpu .venv/bin/python bench/scan_db_bench.py \
        [--rounds 300] [--items 20] [--offers 300]

One order of ``--items`` SKUs, each barcode linked, in a shop whose catalogue lists ``--offers`` SKUs
(the order's among them). The figure is this thread's CPU time (``time.thread_time``); the queries
are counted once, after the warm-up (a multi-statement round trip counts once).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402
from scan_bench import gtin14, seed_order  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--offers", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from fulfilment.orders.catalogue import product_facts
        from fulfilment.orders.models import CatalogueOffer
        from fulfilment.packing import scanning

        user, order = seed_order(args.items, args.rounds // args.items + 5)
        business = order.campaign.business_id
        CatalogueOffer.objects.filter(business_id=business).delete()
        CatalogueOffer.objects.bulk_create([
            CatalogueOffer(business_id=business, offer_id=f"SKU-{n:03d}", name=f"Товар {n}",
                           barcodes=[gtin14(n)[1:], f"INT-{n}"], fetched_at=timezone.now())
            for n in range(max(args.offers, 0))])
        skus = [f"SKU-{n:03d}" for n in range(args.items)]
        scan_cpu, facts_cpu, queries = [], [], 0
        for i in range(20 + args.rounds):
            code = gtin14(i % args.items)[1:]
            if i == 20:
                with CaptureQueriesContext(connection) as ctx:
                    scanning.scan(order.pk, user, code, uuid.uuid4())
                queries = len(ctx.captured_queries)
            t0 = time.thread_time()
            fb = scanning.scan(order.pk, user, code, uuid.uuid4())
            t1 = time.thread_time()
            product_facts(order.campaign_id, business, skus)
            t2 = time.thread_time()
            assert fb.ok, fb.message
            if i >= 20:  # after the warm-up
                scan_cpu.append(t1 - t0)
                facts_cpu.append(t2 - t1)
        print(f"scan()        CPU median {statistics.median(scan_cpu) * 1000:6.2f} ms   "
              f"mean {statistics.mean(scan_cpu) * 1000:6.2f} ms   ({queries} queries)")
        print(f"product_facts CPU median {statistics.median(facts_cpu) * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
