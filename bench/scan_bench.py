"""Scan benchmark: server time of one scan on a 100-item order, against a trivial logged-in view.

    .venv/bin/python bench/scan_bench.py                   # SQLite in a temp dir
    .venv/bin/python bench/scan_bench.py --items 100 --scans 300
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scan .venv/bin/python bench/scan_bench.py

Both are measured in the same run through Django's full request stack (middleware, session, auth,
view, template), in process, so the network is not part of either. The scan is what the packing
screen sends: one code, answered with the re-rendered order panel. The trivial view is
``/queue/open/`` with no code: login check, session, a message, a redirect. Target (issue 5):
scan p50 ≤ 3 × trivial p50. Queries per scan are printed too (they do not grow with the order).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402


def gtin14(n: int) -> str:
    from fulfilment.codes.cis import check_digit

    body = f"0460999{n:06d}"
    return body + str(check_digit(body))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]



def seed_order(items: int, per_item: int):  # -> (User, Order); Django is set up by then
    """The bench packer and one order of ``items`` products, ``per_item`` units each, their barcodes known;
    what an earlier run left is removed first."""
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from fulfilment.orders.models import Business, Campaign, Order, OrderItem, ProductBarcode

    with transaction.atomic():
        # Only the pks: a business left by an earlier run holds a token encrypted with that run's key.
        for model in (ProductBarcode, OrderItem, Order, Campaign, Business):
            model.objects.only("pk").delete()
        User.objects.filter(username="bench").delete()
        user = User.objects.create_user("bench", password=uuid.uuid4().hex)
        user.groups.add(Group.objects.get_or_create(name="packer")[0])
        business = Business.objects.create(market_id=1, name="Bench", api_token=uuid.uuid4().hex)
        campaign = Campaign.objects.create(market_id=2, business=business, name="bench")
        order = Order.objects.create(campaign=campaign, market_id=3, status="PROCESSING", substatus="STARTED")
        for n in range(items):
            OrderItem.objects.create(order=order, market_item_id=100 + n, offer_id=f"SKU-{n:03d}",
                                     name=f"Товар {n}", count=per_item)
            ProductBarcode.objects.create(campaign=campaign, gtin=gtin14(n), offer_id=f"SKU-{n:03d}")
    return user, order


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--scans", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp))
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, override_settings


        user, order = seed_order(args.items, args.scans // args.items + 2)
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
            client = Client()
            client.force_login(user)
            scan_url = f"/orders/{order.pk}/scan/"
            trivial, scans, queries = [], [], []
            kinds: dict[str, int] = {}
            version = None  # as the browser does: the version it last saw, so only changes come back
            for _ in range(20):  # warm-up: templates, translations, connections
                client.get("/queue/open/")
            for i in range(args.scans):
                code = gtin14(i % args.items)[1:]
                body = json.dumps({"scans": [{"id": str(uuid.uuid4()), "code": code}], "version": version})
                t0 = time.perf_counter()
                client.get("/queue/open/")
                t1 = time.perf_counter()
                with CaptureQueriesContext(connection) as ctx:
                    resp = client.post(scan_url, body, content_type="application/json")
                t2 = time.perf_counter()
                assert resp.status_code == 200 and b'data-state="ok"' in resp.content, resp.content[:500]
                version = int(re.search(rb'data-version="(\d+)"', resp.content).group(1))
                kinds[resp["X-Pack-Update"]] = kinds.get(resp["X-Pack-Update"], 0) + 1
                trivial.append(t1 - t0)
                scans.append(t2 - t1)
                queries.append(len(ctx.captured_queries))
        db = connection.vendor
        s50, s95, t50, t95 = (pct(scans, 50), pct(scans, 95), pct(trivial, 50), pct(trivial, 95))
        print(f"database: {db}; order of {args.items} items; {args.scans} scans, one per request")
        q = statistics.median(queries)
        print(f"scan     p50 {s50 * 1000:7.2f} ms   p95 {s95 * 1000:7.2f} ms   queries {q:.0f}")
        print(f"trivial  p50 {t50 * 1000:7.2f} ms   p95 {t95 * 1000:7.2f} ms")
        print(f"responses: {kinds}")
        print(f"ratio    p50 {s50 / t50:5.2f}×   p95 {s95 / t95:5.2f}×   (target p50 ≤ 3×)")


if __name__ == "__main__":
    main()
