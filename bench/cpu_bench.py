"""CPU a request, in process: the order screen's live poll (304), a scan, the order screen; on a fresh
small order per round (as the load test's packers): its order screen, finish and ready (htmx); the
queue (a packer's first page; a supervisor's filters and searches in turn).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cpu CACHE_REDIS_URL=redis://127.0.0.1:6379/10 \
        .venv/bin/python bench/cpu_bench.py [--rounds 300]

Django's full request stack (middleware, session, auth, view, template) through the test client,
DEBUG off, sessions from Redis as in production when CACHE_REDIS_URL is set. The figure is this
thread's CPU time (``time.thread_time``), not the clock: on a shared machine the clock says more
about the other sessions. The test client's own work is in every figure alike (compare runs).
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
sys.path.insert(0, str(ROOT / "bench"))

from benchsetup import setup_django  # noqa: E402
from scan_bench import gtin14, seed_order  # noqa: E402

QUEUE_ORDERS = 120  # a full page of 50 and more, over three shipment days


def seed_queue(campaign, n: int):  # -> (supervisor User, the orders' market ids)
    """``n`` orders to pack besides the scanned one: one to three items each, some needing codes, some
    for a business buyer, some flagged, over three shipment days; and a bench supervisor."""
    import datetime as dt

    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from fulfilment.orders.models import Order, OrderItem

    User.objects.filter(username="bench-supervisor").delete()
    boss = User.objects.create_user("bench-supervisor", password=uuid.uuid4().hex)
    boss.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    today = timezone.localdate()
    orders = Order.objects.bulk_create(
        Order(campaign=campaign, market_id=500_000 + i, status="PROCESSING", substatus="STARTED",
              shipment_date=today + dt.timedelta(days=i % 3), buyer_type="BUSINESS" if i % 4 == 0 else "PERSON",
              flag_reason="Позвонить покупателю" if i % 10 == 0 else "") for i in range(n))
    OrderItem.objects.bulk_create(
        OrderItem(order=o, market_item_id=10_000 + i * 3 + k, offer_id=f"Q-{i:03d}-{k}", name=f"Товар {i}/{k}",
                  count=1 + k, required_instance_types=["CIS"] if (i + k) % 5 == 0 else [])
        for i, o in enumerate(orders) for k in range(1 + i % 3))
    return boss, [o.market_id for o in orders]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--items", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp))
        from django.test import Client
        from django.test.utils import override_settings


        user, order = seed_order(args.items, args.rounds // args.items + 2)
        from django.conf import settings

        # No collectstatic here: the plain storage (the manifest's lookup is not what is measured).
        storages = {**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=storages):
            client = Client()
            client.force_login(user)
            screen = client.get(f"/orders/{order.pk}/")
            live_url = re.search(rb'data-live-url="([^"]+)"', screen.content).group(1).decode().replace("&amp;", "&")
            etag = client.get(live_url)["ETag"]
            cpu: dict[str, list[float]] = {"poll 304": [], "scan": [], "order screen": []}
            version = None
            for i in range(20 + args.rounds):
                code = gtin14(i % args.items)[1:]
                body = json.dumps({"scans": [{"id": str(uuid.uuid4()), "code": code}], "version": version})
                t0 = time.thread_time()
                poll = client.get(live_url, HTTP_IF_NONE_MATCH=etag)
                t1 = time.thread_time()
                resp = client.post(f"/orders/{order.pk}/scan/", body, content_type="application/json",
                                   HTTP_HX_REQUEST="true")
                t2 = time.thread_time()
                if i % 10 == 0:
                    client.get(f"/orders/{order.pk}/")
                t3 = time.thread_time()
                assert poll.status_code == 304, poll.status_code
                assert resp.status_code == 200 and b'data-state="ok"' in resp.content, resp.content[:300]
                version = int(re.search(rb'data-version="(\d+)"', resp.content).group(1))
                if i >= 20:  # after the warm-up: templates, translations, connections
                    cpu["poll 304"].append(t1 - t0)
                    cpu["scan"].append(t2 - t1)
                    if i % 10 == 0:
                        cpu["order screen"].append(t3 - t2)
            cpu |= finish_rounds(client, order, max(args.rounds // 10, 10))
            boss, market_ids = seed_queue(order.campaign, QUEUE_ORDERS)
            supervisor = Client()
            supervisor.force_login(boss)
            filters = ["/queue/?status=PROCESSING/READY_TO_SHIP", f"/queue/?campaign={order.campaign_id}",
                       "/queue/?codes=1", "/queue/?buyer=BUSINESS", "/queue/?flagged=1", "/queue/?page=2",
                       f"/queue/?q={market_ids[7]}", "/queue/?q=Q-01", "/queue/?status=PROCESSING/SHIPPED"]
            cpu["queue"], cpu["queue, filters"] = [], []
            for i in range(20 + args.rounds // 3):
                t0 = time.thread_time()
                page = client.get("/queue/")
                t1 = time.thread_time()
                filtered = supervisor.get(filters[i % len(filters)])
                t2 = time.thread_time()
                assert page.status_code == 200 and filtered.status_code == 200
                if i >= 20:
                    cpu["queue"].append(t1 - t0)
                    cpu["queue, filters"].append(t2 - t1)
        for name, values in cpu.items():
            print(f"{name:15} CPU median {statistics.median(values) * 1000:6.2f} ms   "
                  f"mean {statistics.mean(values) * 1000:6.2f} ms   ({len(values)} requests)")


def finish_rounds(client, first, rounds: int) -> dict[str, list[float]]:
    """Per round a new order of 3 items (5 units) in the bench shop, every unit scanned (not measured),
    with a few more orders in the queue for "the next order": its order screen, then finish and ready
    as htmx posts the buttons, the answers being the panel."""
    from fulfilment.orders.models import Order, OrderItem

    cpu: dict[str, list[float]] = {"screen (new)": [], "finish": [], "ready": []}
    for n in range(5 + rounds):
        order = Order.objects.create(campaign_id=first.campaign_id, market_id=1000 + n, status="PROCESSING",
                                     substatus="STARTED")
        codes = []
        for k, count in enumerate((2, 2, 1)):
            OrderItem.objects.create(order=order, market_item_id=10_000 + 10 * n + k, offer_id=f"SKU-{k:03d}",
                                     name=f"Товар {k}", count=count)
            codes += [gtin14(k)[1:]] * count
        for _ in range(3):  # the queue behind it
            Order.objects.create(campaign_id=first.campaign_id, market_id=100_000 + 10 * n + _,
                                 status="PROCESSING", substatus="STARTED")
        t0 = time.thread_time()
        screen = client.get(f"/orders/{order.pk}/")
        t1 = time.thread_time()
        assert screen.status_code == 200
        version = int(re.search(rb'data-version="(\d+)"', screen.content).group(1))
        for code in codes:
            body = json.dumps({"scans": [{"id": str(uuid.uuid4()), "code": code}], "version": version})
            resp = client.post(f"/orders/{order.pk}/scan/", body, content_type="application/json",
                               HTTP_HX_REQUEST="true")
            version = int(re.search(rb'data-version="(\d+)"', resp.content).group(1))
        t2 = time.thread_time()
        fin = client.post(f"/orders/{order.pk}/finish/", HTTP_HX_REQUEST="true")
        t3 = time.thread_time()
        rdy = client.post(f"/orders/{order.pk}/ready/", HTTP_HX_REQUEST="true")
        t4 = time.thread_time()
        assert fin.status_code == 200 and b'data-state="ok"' in fin.content, fin.content[:300]
        assert rdy.status_code == 200 and b'data-state="ok"' in rdy.content, rdy.content[:300]
        if n >= 5:
            cpu["screen (new)"].append(t1 - t0)
            cpu["finish"].append(t3 - t2)
            cpu["ready"].append(t4 - t3)
    return cpu


if __name__ == "__main__":
    main()
