"""Celery worker CPU: outbox actions delivered to the sandbox over HTTP, and incremental sync passes.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_worker BENCH_REDIS_URL=redis://127.0.0.1:6379/9 \
      .venv/bin/python bench/worker_bench.py            # --orders 3000 --actions 400 --passes 4

PostgreSQL and Redis, as in production (the database is migrated, the Redis database emptied). The
sandbox runs in its own process with ``--orders`` orders of 3 items (as the load test seeds them) and
a first sync brings them in. Then, measured in CPU seconds, not clock time:

- in process (``time.process_time``, every thread of this process, Celery not involved): ``deliver()``
  of ``--actions`` outbox actions (for half as many orders a one-box layout, then READY_TO_SHIP once the
  layouts are in, as finishing and "ready" do), and ``--passes`` sync passes of ``sync_business``;
- through a real Celery worker (``celery worker --concurrency 4`` on Redis, as the load test runs it;
  its processes' CPU by psutil): the same number of actions queued as the web queues them, and the
  same passes as ``sync_business_task`` (with the catalogue task each pass queues), less the worker's
  idle CPU over the same time (measured first).

Each sync pass starts from the same watermark, so that it reads every order again (the load test's
passes do: its orders were all updated within the sync's overlap) with nothing changed at the Market.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from procstat import cpu_seconds  # noqa: E402


def setup(tmp: Path, db_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update({"FULFILMENT_VAR_DIR": str(tmp), "DJANGO_SETTINGS_MODULE": "fulfilment.settings",
                "DATABASE_URL": db_url, "CELERY_BROKER_URL": redis_url, "RATE_LIMIT_REDIS_URL": redis_url,
                "CACHE_REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "DEBUG": "false",
                "SYNC_INTERVAL_SECONDS": "3600"})
    os.environ.update(env)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def reset_business(url: str):
    from fulfilment.orders.models import Business, Campaign, Order, OutboxAction
    from fulfilment.sandbox.seed import DEMO_API_KEY, DEMO_BUSINESS_ID, FBS_CAMPAIGN_ID

    OutboxAction.objects.all().delete()
    Order.objects.all().delete()
    Campaign.objects.all().delete()
    Business.objects.only("pk").delete()
    business = Business.objects.create(market_id=DEMO_BUSINESS_ID, name="bench", api_base_url=url,
                                       api_token=DEMO_API_KEY)
    Campaign.objects.create(market_id=FBS_CAMPAIGN_ID, business=business, name="bench", placement_model="FBS")
    return business


def pick_orders(count: int, offset: int) -> list[int]:
    from fulfilment.orders.models import Order

    ids = list(Order.objects.filter(status="PROCESSING", substatus="STARTED").order_by("pk")
               .values_list("pk", flat=True)[offset:offset + count])
    if len(ids) < count:
        raise SystemExit(f"only {len(ids)} orders to pack from {offset}: raise --orders")
    return ids


def enqueue_layouts(order_ids: list[int]) -> list[int]:
    """One box holding every unit, as finishing an order sends it."""
    from django.db import transaction

    from fulfilment.market.changes import BoxLayout
    from fulfilment.market.types import BoxLine
    from fulfilment.orders import outbox
    from fulfilment.orders.models import Box, Order

    out = []
    for order in Order.objects.filter(pk__in=order_ids).select_related("campaign").prefetch_related("items"):
        with transaction.atomic():
            Box.objects.create(order=order, number=1)
            layout = BoxLayout(((*(BoxLine(i.market_item_id, i.count) for i in order.items.all()),),))
            out.append(outbox.enqueue(order.campaign, layout, order=order).pk)
    return out


def enqueue_ready(order_ids: list[int]) -> list[int]:
    from django.db import transaction

    from fulfilment.market.changes import StatusChange
    from fulfilment.orders import outbox
    from fulfilment.orders.models import Order

    out = []
    for order in Order.objects.filter(pk__in=order_ids).select_related("campaign"):
        with transaction.atomic():
            out.append(outbox.enqueue(order.campaign, StatusChange("PROCESSING", "READY_TO_SHIP"), order=order).pk)
    return out


def wait_delivered(ids: list[int], timeout: float = 600) -> None:
    from fulfilment.orders.models import OutboxAction

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = dict(OutboxAction.objects.filter(pk__in=ids).values_list("pk", "state"))
        if all(s == "DELIVERED" for s in states.values()):
            return
        bad = [s for s in states.values() if s == "FAILED"]
        if bad:
            raise SystemExit(f"{len(bad)} actions refused")
        time.sleep(0.2)
    raise SystemExit("the worker did not deliver the actions in time")


def in_process_actions(order_ids: list[int]) -> tuple[float, int]:
    from fulfilment.orders import outbox

    layouts = enqueue_layouts(order_ids)
    t0 = time.process_time()
    for pk in layouts:
        assert outbox.deliver(pk)[0] == "DELIVERED", pk
    spent = time.process_time() - t0
    ready = enqueue_ready(order_ids)
    t0 = time.process_time()
    for pk in ready:
        assert outbox.deliver(pk)[0] == "DELIVERED", pk
    return spent + time.process_time() - t0, len(layouts) + len(ready)


def in_process_passes(business_id: int, watermark, passes: int) -> tuple[float, int]:
    from fulfilment.orders.models import Business
    from fulfilment.orders.sync import sync_business

    spent, orders, updated = 0.0, 0, []
    for _ in range(passes):
        Business.objects.filter(pk=business_id).update(sync_watermark=watermark)
        t0 = time.process_time()
        r = sync_business(business_id)
        spent += time.process_time() - t0
        assert r.ran and not r.error, r
        orders += r.orders
        updated.append(r.updated)
    return spent, orders, updated


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--actions", type=int, default=400, help="outbox actions each way (half layouts, half statuses)")
    ap.add_argument("--passes", type=int, default=4, help="sync passes each way")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of the idle worker measured")
    ap.add_argument("--sandbox-port", type=int, default=8002)
    ap.add_argument("--profile", metavar="PATH", help="cProfile the in-process parts into PATH.actions, PATH.sync")
    ap.add_argument("--spy", metavar="PATH", help="py-spy the worker into PATH.actions, PATH.sync (collapsed)")
    ap.add_argument("--only", choices=("process", "worker"), help="one of the two ways only")
    args = ap.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_worker")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    if not db_url.startswith("postgres"):
        raise SystemExit("BENCH_DATABASE_URL: a PostgreSQL database (it is migrated and emptied)")
    with tempfile.TemporaryDirectory(prefix="worker-bench-") as tmp_name:
        tmp = Path(tmp_name)
        from load.run import fresh_database, port_free, wait_http

        if not port_free(args.sandbox_port):
            raise SystemExit(f"port {args.sandbox_port} is taken")
        fresh_database(db_url)
        env = setup(tmp, db_url, redis_url)
        from fulfilment.sandbox.seed import Seeder
        from fulfilment.sandbox.store import Store

        store = Store(tmp / "sandbox.sqlite3")
        seeder = Seeder(store)
        seeder.accounts()
        seeder.load(args.orders, items_per_order=3)
        store.close()
        sandbox = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "sandbox", "--port",
                                    str(args.sandbox_port), "--db", str(tmp / "sandbox.sqlite3")],
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{args.sandbox_port}"
        try:
            wait_http(f"{url}/_sandbox/health")
            run(args, env, url, redis_url)
        finally:
            sandbox.terminate()
            sandbox.wait(10)


def run(args: argparse.Namespace, env: dict[str, str], url: str, redis_url: str) -> None:
    import redis
    from django.db import connection

    from fulfilment.orders.models import Business, Order
    from fulfilment.orders.sync import sync_business

    business = reset_business(url)
    first = sync_business(business.pk)
    assert first.orders >= args.orders, first
    # Before every order's last change: each pass reads them all (the Market's filter takes any start).
    watermark = Order.objects.order_by("updated_at_market").values_list("updated_at_market", flat=True)[0]
    pairs = args.actions // 2
    print(f"{args.orders} orders; {pairs * 2} actions ({pairs} layouts + {pairs} statuses) and {args.passes} "
          f"sync passes of every order each way; python {sys.version.split()[0]}, {connection.vendor}")
    offset = 0
    if args.only != "worker":
        profiler = cProfile.Profile() if args.profile else contextlib.nullcontext()
        with profiler:
            spent, n = in_process_actions(pick_orders(pairs, offset))
        offset += pairs
        print(f"in process: {spent / n * 1000:.2f} ms of CPU an action ({n} actions, {spent:.2f} s)")
        if args.profile:
            profiler.dump_stats(args.profile + ".actions")
        profiler = cProfile.Profile() if args.profile else contextlib.nullcontext()
        with profiler:
            spent, orders, updated = in_process_passes(business.pk, watermark, args.passes)
        if args.profile:
            profiler.dump_stats(args.profile + ".sync")
        print(f"in process: {spent / args.passes * 1000:.0f} ms of CPU a sync pass ({orders / args.passes:.0f} "
              f"orders a pass, {spent / orders * 1000:.2f} ms an order; orders written each pass: {updated})")
    if args.only == "process":
        return
    redis.Redis.from_url(redis_url).flushdb()  # what the in-process part queued: delivered already
    connection.close()
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "fulfilment", "worker", "--loglevel", "WARNING",
                               "--concurrency", "4"], cwd=ROOT, env=env)
    try:
        ready_flag = sync_ping(worker.pid)
        idle0, t0 = cpu_seconds(worker.pid), time.monotonic()
        time.sleep(args.idle)
        idle_rate = (cpu_seconds(worker.pid) - idle0) / (time.monotonic() - t0)
        print(f"worker: idle {idle_rate * 1000:.1f} ms of CPU a second (started in {ready_flag:.1f} s)")
        order_ids = pick_orders(pairs, offset)
        spy = spy_on(worker.pid, args.spy + ".actions") if args.spy else None
        c0, t0 = cpu_seconds(worker.pid), time.monotonic()
        wait_delivered(enqueue_layouts(order_ids))
        wait_delivered(enqueue_ready(order_ids))
        spent = cpu_seconds(worker.pid) - c0 - idle_rate * (time.monotonic() - t0)
        stop_spy(spy)
        print(f"worker: {spent / (pairs * 2) * 1000:.2f} ms of CPU an action ({pairs * 2} actions, {spent:.2f} s "
              f"less idle, {time.monotonic() - t0:.1f} s)")
        from fulfilment.orders.tasks import sync_business_task

        spy = spy_on(worker.pid, args.spy + ".sync") if args.spy else None
        c0, t0 = cpu_seconds(worker.pid), time.monotonic()
        for _ in range(args.passes):
            Business.objects.filter(pk=business.pk).update(sync_watermark=watermark)
            before = Business.objects.get(pk=business.pk).last_sync_success_at
            sync_business_task.delay(business.pk)
            while Business.objects.get(pk=business.pk).last_sync_success_at == before:
                time.sleep(0.1)
        time.sleep(2.0)  # the catalogue task the last pass queued
        spent = cpu_seconds(worker.pid) - c0 - idle_rate * (time.monotonic() - t0)
        stop_spy(spy)
        print(f"worker: {spent / args.passes * 1000:.0f} ms of CPU a sync pass ({args.passes} passes, {spent:.2f} s "
              "less idle, with each pass's catalogue task)")
    finally:
        worker.terminate()
        worker.wait(30)


def spy_on(pid: int, out: str) -> subprocess.Popen:
    """py-spy on the worker and its children, only the thread holding the GIL (the CPU)."""
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses", "--gil",
                            "--format", "raw", "--nonblocking", "-p", str(pid), "-o", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return spy


def stop_spy(spy: subprocess.Popen | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def sync_ping(pid: int, timeout: float = 60) -> float:
    """Seconds until the worker answers a ping."""
    from fulfilment.celery import app

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if app.control.ping(timeout=0.5):
            time.sleep(1.0)  # its children finish importing
            return time.monotonic() - t0
    raise SystemExit("the worker did not start")


if __name__ == "__main__":
    main()
