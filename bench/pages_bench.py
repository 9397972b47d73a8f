"""Pages benchmark: every page a packer or supervisor uses, at 10 000 and 1 000 000 orders of history.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages .venv/bin/python bench/pages_bench.py
    ... bench/pages_bench.py --quick                 # 10 000 and 100 000 orders, fewer requests
    ... bench/pages_bench.py --sizes 10000 --explain # any sizes; EXPLAIN (ANALYZE, BUFFERS) of slow queries
    ... bench/pages_bench.py --drop                  # drop the database at the end (1 000 000 orders: GBs)
    ... bench/pages_bench.py --only supervisor,queue # only the pages whose name contains a word

PostgreSQL only (the history is written with COPY, see pages_history.py); each size has its own
database, ``<name>_<size>``, dropped and created again, then migrated (kept for ``--reuse``, which
measures the histories the last run built, migrated to the current code). Per size: the same day's work
(5 000 orders in PROCESSING across 20 shops, the newest ids) over ``size`` orders in all. Each page
is requested through Django's full stack in process, interleaved with a trivial logged-in view
(``/queue/open/`` without a code: login check, session, message, redirect), in ``--passes``
passes that go round the sizes (one pass of every size, then the next); p50 and p95 are the
medians of the passes' figures. Targets (issue 17): a page's p95 within
5x the trivial view's and within 10 % of its own figure at the smallest size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402

TRIVIAL = "/queue/open/"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def pages(ids: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of every page measured."""
    order, today = ids["order"], ids["today"].isoformat()
    return [
        ("start page", "/"),
        ("queue", "/queue/"),
        ("queue, shop", f"/queue/?campaign={ids['campaign']}"),
        ("queue, ready to ship", "/queue/?status=PROCESSING/READY_TO_SHIP"),
        ("queue, shipped", "/queue/?status=PROCESSING/SHIPPED"),
        ("queue, date", f"/queue/?date={today}"),
        ("queue, business buyer", "/queue/?buyer=BUSINESS"),
        ("queue, needs codes", "/queue/?codes=1"),
        ("queue, flagged", "/queue/?flagged=1"),
        ("queue, page 20", "/queue/?page=20"),
        ("queue, order id", f"/queue/?q={ids['market_id']}"),
        ("queue, SKU", f"/queue/?q={ids['sku']}"),
        ("queue open (scanned number)", f"/queue/open/?code={ids['market_id']}"),
        ("order screen", f"/orders/{order}/"),
        ("order panel", f"/orders/{order}/panel/"),
        ("shipments", "/shipments/"),
        ("shipment", f"/shipments/{ids['shipment']}/"),
        ("supervisor", "/supervisor/"),
        ("supervisor order", f"/supervisor/orders/{order}/"),
        ("reports (form)", "/supervisor/reports/"),
        ("shift", "/supervisor/shift/"),
        ("shift CSV", "/supervisor/shift.csv"),
        ("admin orders", "/admin/orders/order/"),
        ("admin orders, PROCESSING", "/admin/orders/order/?status__exact=PROCESSING"),
        ("admin orders, order id", f"/admin/orders/order/?q={ids['market_id']}"),
        ("admin audit events", "/admin/orders/auditevent/"),
        ("admin audit events, scans", "/admin/orders/auditevent/?action__exact=scan"),
        ("admin audit events, order id", f"/admin/orders/auditevent/?q={ids['market_id']}"),
    ]


def prepare(client: Any, paths: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Warm up; the queries and the slowest query of each page (and of the trivial view)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(10):
        client.get(TRIVIAL)
    result: dict[str, dict[str, Any]] = {}
    for name, path in paths:
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(path)
        assert resp.status_code in (200, 302), (name, resp.status_code, resp.content[:300])
        slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default={"sql": "", "time": "0"})
        result[name] = {"path": path, "queries": len(ctx.captured_queries), "slowest": slowest["sql"],
                        "slowest_ms": float(slowest["time"]) * 1000, "p50": [], "p95": []}
    with CaptureQueriesContext(connection) as ctx:
        client.get(TRIVIAL)
    result["trivial"] = {"path": TRIVIAL, "queries": len(ctx.captured_queries), "p50": [], "p95": []}
    return result


def one_pass(client: Any, paths: list[tuple[str, str]], requests: int, budget: float,
             result: dict[str, dict[str, Any]]) -> None:
    """One pass over the pages, each request after a trivial one; adds each page's p50/p95 of the pass."""
    trivial: list[float] = []
    for name, path in paths:
        samples: list[float] = []
        started = time.perf_counter()
        while len(samples) < requests and (len(samples) < 5 or time.perf_counter() - started < budget):
            t0 = time.perf_counter()
            client.get(TRIVIAL)
            t1 = time.perf_counter()
            client.get(path)
            t2 = time.perf_counter()
            trivial.append(t1 - t0)
            samples.append(t2 - t1)
        result[name]["p50"].append(pct(samples, 50))
        result[name]["p95"].append(pct(samples, 95))
    result["trivial"]["p50"].append(pct(trivial, 50))
    result["trivial"]["p95"].append(pct(trivial, 95))


def medians(result: dict[str, dict[str, Any]]) -> None:
    for r in result.values():
        r["p50"], r["p95"] = statistics.median(r["p50"]), statistics.median(r["p95"])


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def fresh_database(url: str, jit_off: bool) -> None:
    """A new database, so the schema is exactly what the migrations make (indexes included)."""
    import psycopg

    dbname = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}"')
        if jit_off:
            conn.execute(f'ALTER DATABASE "{dbname}" SET jit = off')


def sized(url: str, size: int) -> str:
    """Each size its own database (``<name>_<size>``), so a history built once is measured again with --reuse."""
    base, _, rest = url.rpartition("/")
    name, sep, query = rest.partition("?")
    return f"{base}/{name}_{size}{sep}{query}"


def use_database(url: str, migrate: bool = True) -> None:
    """Point Django's connection at ``url``'s database and migrate it (a no-op when it is up to date)."""
    from django.core.management import call_command
    from django.db import connections

    name = url.rsplit("/", 1)[1].split("?")[0]
    if connections["default"].settings_dict["NAME"] != name:
        connections.close_all()
        connections["default"].settings_dict["NAME"] = name
    if migrate:
        call_command("migrate", verbosity=0)


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    dbname = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
    print(f"dropped database {dbname}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000", help="orders in all, comma-separated")
    ap.add_argument("--quick", action="store_true", help="10 000 and 100 000 orders, 2 passes of 10 requests")
    ap.add_argument("--work", type=int, default=5000, help="orders in PROCESSING (today's work)")
    ap.add_argument("--shops", type=int, default=20)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--requests", type=int, default=20, help="per page and pass (fewer when a page is slow)")
    ap.add_argument("--budget", type=float, default=4.0, help="seconds per page and pass, after 5 requests")
    ap.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the slowest query of "
                    "each page that misses a target")
    ap.add_argument("--jit", choices=("server", "off"), default="server",
                    help="off: ALTER DATABASE ... SET jit = off (PostgreSQL compiles costly plans otherwise)")
    ap.add_argument("--reuse", action="store_true", help="measure the histories the last run built "
                    "(each size has its own database, <name>_<size>)")
    ap.add_argument("--drop", action="store_true", help="drop the database at the end")
    ap.add_argument("--only", default="", help="measure only the pages whose name contains one of these "
                    "comma-separated words (e.g. supervisor,queue)")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.passes, args.requests = "10000,100000", 2, 10
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("BENCH_DATABASE_URL must point to PostgreSQL (the history is written with COPY)")
    sizes = [int(s) for s in args.sizes.split(",")]
    if not args.reuse:
        for size in sizes:
            fresh_database(sized(url, size), jit_off=args.jit == "off")
    os.environ["BENCH_DATABASE_URL"] = sized(url, sizes[0])
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp))
        from django.test import Client
        from django.test.utils import override_settings
        from pages_history import build, built

        results: dict[int, dict[str, dict[str, Any]]] = {}
        # No collectstatic for a benchmark: static URLs from the source folders, as the tests do.
        storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, DEBUG=False,
                               STORAGES=storages):
            # Every size built (or found) first, then the passes go round the sizes: a machine whose
            # load changes in the meantime weighs on every size alike.
            clients: dict[int, tuple[Any, list[tuple[str, str]]]] = {}
            for size in sizes:
                use_database(sized(url, size))
                ids = built() if args.reuse else build(size, args.work, args.shops)
                client = Client()
                client.force_login(ids["user"])
                chosen = [(n, p) for n, p in pages(ids)
                          if not args.only or any(w.strip() in n for w in args.only.split(","))]
                clients[size] = (client, chosen)
                results[size] = prepare(client, chosen)
            for n in range(args.passes):
                for size in sizes:
                    print(f"  pass {n + 1} of {args.passes}, {size:,} orders", flush=True)
                    use_database(sized(url, size), migrate=False)
                    one_pass(*clients[size], args.requests, args.budget, results[size])
            for size in sizes:
                res = results[size]
                medians(res)
                report(size, res)
                base = results[sizes[0]]
                misses = [n for n in res if n != "trivial" and (res[n]["p95"] > 5 * res["trivial"]["p95"] or (
                    size != sizes[0] and res[n]["p95"] > 1.1 * base[n]["p95"]))]
                print(f"\nmisses a target at {size:,}: {', '.join(misses) or 'none'}")
                if args.explain:
                    use_database(sized(url, size), migrate=False)
                    for name in misses:
                        print(f"\n--- {name} ({res[name]['path']}): slowest query "
                              f"{res[name]['slowest_ms']:.1f} ms of {res[name]['queries']}\n{res[name]['slowest']}")
                        print(explain(res[name]["slowest"]))
        if len(sizes) > 1:
            compare(sizes, results)
        if args.drop:
            for size in sizes:
                drop_database(sized(url, size))


def report(size: int, res: dict[str, dict[str, Any]]) -> None:
    t50, t95 = res["trivial"]["p50"], res["trivial"]["p95"]
    print(f"\n{size:,} orders; trivial view p50 {t50 * 1000:.2f} ms, p95 {t95 * 1000:.2f} ms, "
          f"{res['trivial']['queries']} queries")
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>7} {'p50 ×':>7} {'p95 ×':>7} {'slowest q ms':>12}")
    for name, r in res.items():
        if name == "trivial":
            continue
        print(f"{name:32} {r['p50'] * 1000:8.1f} {r['p95'] * 1000:8.1f} {r['queries']:7d} {r['p50'] / t50:7.1f} "
              f"{r['p95'] / t95:7.1f} {r['slowest_ms']:12.1f}")


def compare(sizes: list[int], results: dict[int, dict[str, dict[str, Any]]]) -> None:
    first, last = results[sizes[0]], results[sizes[-1]]
    print(f"\np95 at {sizes[-1]:,} against {sizes[0]:,} (target ≤ 1.10) and against the trivial view (≤ 5)")
    for name in first:
        if name != "trivial":
            growth = last[name]["p95"] / first[name]["p95"]
            print(f"{name:32} {growth:6.2f}  {last[name]['p95'] / last['trivial']['p95']:6.1f}×")


if __name__ == "__main__":
    main()
