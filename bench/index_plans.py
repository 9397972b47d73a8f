"""The query plans that justify the order table's indexes, with and without each of them.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages .venv/bin/python bench/index_plans.py
    BENCH_DATABASE_URL=... .venv/bin/python bench/index_plans.py --orders 1000000 --reuse   # the history left

PostgreSQL only: writes the pages benchmark's history (``pages_history.build``: ``--work`` orders in
PROCESSING across 20 shops over two years of history), then prints EXPLAIN (ANALYZE, BUFFERS) of
the queries each index serves (a scanned order number, the start page's per-shop counts and its
attention list), as they are and with that index dropped inside a transaction rolled back after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402


def plan(sql: str, params: tuple, drop: str | None) -> str:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        if drop:
            cur.execute(f"DROP INDEX {connection.ops.quote_name(drop)}")
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        text = "\n".join(r[0] for r in cur.fetchall())
        transaction.set_rollback(True)  # the index stays
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--work", type=int, default=5000)
    ap.add_argument("--reuse", action="store_true", help="explain the history a previous run wrote")
    args = ap.parse_args()
    if not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        sys.exit("BENCH_DATABASE_URL=postgres://... is needed: the plans are PostgreSQL's")
    with tempfile.TemporaryDirectory(prefix="index-plans-") as tmp:
        setup_django(Path(tmp))
        import pages_history
        from django.db.models import Min

        from fulfilment.orders.models import Campaign, Order
        from fulfilment.packing.views import site

        if not args.reuse:
            pages_history.build(args.orders, args.work, 20)
        number = Order.objects.aggregate(n=Min("market_id"))["n"]  # the oldest order: deep in the history
        queries = {
            "scanned order number (packing/scanning.py)": (
                Order.objects.filter(market_id=number).order_by("-id")[:1], ["order_market_id_idx"]),
            "start page: per-shop counts (views/site.py home)": (
                Campaign.objects.filter(is_active=True).annotate(
                    to_pack=site._count_per_shop(Order.objects.filter(site.to_pack_condition())),
                    flagged=site._count_per_shop(Order.objects.needing_attention())),
                ["order_to_pack_campaign_idx", "order_flagged_idx"]),
            "start page: attention list (views/site.py home)": (
                Order.objects.needing_attention().order_by("shipment_date", "market_id")[:50],
                ["order_flagged_idx"]),
        }
        print(f"orders: {Order.objects.count()}")
        for title, (qs, indexes) in queries.items():
            sql, params = qs.query.sql_with_params()
            print(f"\n### {title}\n{sql % tuple(repr(p) for p in params)}\n\n-- as it is\n{plan(sql, params, None)}")
            for name in indexes:
                print(f"\n-- without {name}\n{plan(sql, params, name)}")


if __name__ == "__main__":
    main()
