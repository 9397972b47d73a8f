"""The load test: the production processes on PostgreSQL and Redis, Locust headless, then the checks.

    bin/_setup bench && .venv/bin/python bench/load/run.py --packers 20 --minutes 3
    .venv/bin/python bench/load/run.py --packers 60 --minutes 3 --profile   # py-spy on a web worker too

It starts, in a throw-away runtime folder and a fresh PostgreSQL database (``LOAD_DATABASE_URL``,
default ``postgres://postgres@127.0.0.1:5432/fulfilment_load``; Redis ``LOAD_REDIS_URL``, default
``redis://127.0.0.1:6379/13``, emptied first), exactly what the production compose runs: gunicorn
with ``docker/gunicorn.conf.py`` (3 workers × 4 threads, DEBUG off, a strong SECRET_KEY), one
Celery worker and beat on Redis, and the sandbox Market in its own process. It seeds the sandbox
(``--orders``), lets the worker's sync and catalogue pass fill the dashboard, writes the packers'
plan, runs ``bench/load/locustfile.py`` headless for ``--minutes`` (packers at one scan a second,
two on the same orders, two supervisors browsing; beat syncing every 20 s and the outbox sending
every layout and status), and then checks, after the outbox has drained:

- every scan answered 200 is in the audit trail exactly once, as accepted or refused as answered;
- no unit is in a box twice and every accepted scan placed exactly one unit;
- every marking code is in one instance;
- every action for the Market delivered (and how many on their first attempt);
- the dashboard and the sandbox agree on each finished order's boxes and status.

Prints Locust's figures (requests, failures, p50/p95 per request name), a summary line (requests a
second, scan p50/p95, queue p95, order screen p95, failures), the server's CPU per request (gunicorn's
workers and the Celery worker, over the whole run and over the part after every user logged in: the
figure to compare runs by on a shared machine) and the checks; exit 1 when a check fails.
``--profile`` records one web worker with py-spy mid-run: a flame graph and collapsed stacks of every
thread (waits included), and collapsed stacks of the thread holding the GIL only (the CPU).
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from procstat import cpu_seconds  # noqa: E402

PASSWORD = "load-test-" + secrets.token_hex(8)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - localhost
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, {}

    def start(self, name: str, cmd: list[str], extra: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **(extra or {})}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packers", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--orders", type=int, default=0, help="sandbox orders (default: 45 per packer + 300)")
    ap.add_argument("--web-port", type=int, default=8000)
    ap.add_argument("--sandbox-port", type=int, default=8001)
    ap.add_argument("--logins-per-second", type=float, default=1.5,
                    help="users started (each logs in) a second, as a shift starts: a login costs ~0.5 s of CPU")
    ap.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY; default: the production 3)")
    ap.add_argument("--threads", type=int, help="gunicorn threads a worker (WEB_THREADS; default: the production 4)")
    ap.add_argument("--profile", action="store_true", help="py-spy record of one web worker for 30 s mid-run")
    ap.add_argument("--keep", action="store_true", help="keep the runtime folder (logs, Locust's CSV)")
    args = ap.parse_args()
    orders = args.orders or 45 * args.packers + 300
    db_url = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fulfilment_load")
    redis_url = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
    for port in (args.web_port, args.sandbox_port):
        if not port_free(port):
            raise SystemExit(f"port {port} is taken")
    var = Path(tempfile.mkdtemp(prefix="load-test-"))
    web, sandbox = f"http://127.0.0.1:{args.web_port}", f"http://127.0.0.1:{args.sandbox_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update({
        "DATABASE_URL": db_url, "CELERY_BROKER_URL": redis_url, "RATE_LIMIT_REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on localhost: the TLS proxy's part (secure cookies, HSTS) is not under test here.
        "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_HSTS_SECONDS": "0",
        "FULFILMENT_VAR_DIR": str(var), "STATIC_ROOT": str(var / "static"), "WEB_BIND": f"127.0.0.1:{args.web_port}",
        # As compose runs the apps: one JSON object a log line.
        "LOG_FORMAT": "json", "SYNC_INTERVAL_SECONDS": "20", "LOG_LEVEL": "WARNING", "LOGIN_FAILURE_LIMIT": "1000",
        "DJANGO_SETTINGS_MODULE": "fulfilment.settings", "PYTHONUNBUFFERED": "1",
    })
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    os.environ.update(env)
    fresh_database(db_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    business = seed(var / "sandbox.sqlite3", orders, sandbox, args.packers)
    procs = Processes(env, var)
    py = str(VENV / "python")
    started = time.time()
    try:
        procs.start("sandbox", [py, "manage.py", "sandbox", "--port", str(args.sandbox_port),
                                "--db", str(var / "sandbox.sqlite3"), "--check-delay", "1"])
        # compose's web sums its workers' metrics through this folder (shared-file writes on every request).
        procs.start("web", [py, "-m", "gunicorn", "-c", "docker/gunicorn.conf.py", "fulfilment.wsgi"],
                    {"PROMETHEUS_MULTIPROC_DIR": str(var / "prometheus")})
        procs.start("worker", [py, "-m", "celery", "-A", "fulfilment", "worker", "--loglevel", "WARNING",
                               "--concurrency", "4"])
        procs.start("beat", [py, "-m", "celery", "-A", "fulfilment", "beat", "--loglevel", "WARNING",
                             "--schedule", str(var / "celerybeat-schedule")])
        wait_http(f"{sandbox}/_sandbox/health")
        wait_http(f"{web}/healthz")
        plan = fill(business, orders, args.packers)
        (var / "plan.json").write_text(json.dumps(plan))
        print(f"{len(plan['order_ids'])} orders to pack on the dashboard ({time.time() - started:.0f} s); "
              f"Locust: {args.packers} packers + 2 on shared orders + 2 supervisors for {args.minutes:g} min",
              flush=True)
        users = args.packers + 4
        lenv = {**env, "LOAD_PLAN": str(var / "plan.json"), "LOAD_OUT": str(var), "LOAD_PACKERS": str(args.packers)}
        locust = subprocess.Popen(
            [str(VENV / "locust"), "-f", str(ROOT / "bench/load/locustfile.py"), "--headless", "-u", str(users),
             "-r", f"{args.logins_per_second:g}", "-t", f"{int(args.minutes * 60)}s", "--host", web,
             "--csv", str(var / "locust"), "--csv-full-history", "--only-summary", "--stop-timeout", "30"],
            cwd=ROOT, env=lenv, stdout=(var / "locust.log").open("w"), stderr=subprocess.STDOUT)
        # Locust runs on the same cores: its own CPU is what the server could not have.
        pids = {**{name: procs.procs[name].pid for name in ("web", "worker")}, "locust": locust.pid}
        samples = CpuSamples(pids)
        samples.start()
        if args.profile:
            time.sleep(args.minutes * 30)
            profile(var, procs.procs["web"].pid)
        locust.wait()
        samples.stop()
        layout = f"{env.get('WEB_CONCURRENCY', '3')} workers x {env.get('WEB_THREADS', '4')} threads"
        ok = report(var, samples, args.packers, users, layout)
        ok &= check(sandbox, var, business.pk)
    finally:
        procs.stop()
    print(f"\n{platform.node()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"logs in {var}" + ("" if args.keep else " (removed)"))
    if not args.keep:
        import shutil

        shutil.rmtree(var, ignore_errors=True)
    sys.exit(0 if ok else 1)


def seed(store_path: Path, orders: int, sandbox_url: str, packers: int):
    """The sandbox's orders and the dashboard's staff, business and shop (as ``manage.py demo`` does)."""
    from django.contrib.auth.models import Group, User

    from fulfilment.accounts.roles import PACKER, SUPERVISOR
    from fulfilment.orders.models import Business, Campaign, PlacementModel
    from fulfilment.sandbox import seed as sandbox_seed
    from fulfilment.sandbox.store import Store

    store = Store(store_path)
    seeder = sandbox_seed.Seeder(store)
    seeder.accounts()
    seeder.load(orders, items_per_order=3)
    store.close()
    from django.contrib.auth.hashers import make_password

    packer, supervisor = Group.objects.get(name=PACKER), Group.objects.get(name=SUPERVISOR)
    hashed = make_password(PASSWORD)  # once: the production hasher is slow on purpose
    for name, group in ([(f"packer{i:03d}", packer) for i in range(packers + 2)]
                        + [(f"supervisor{i}", supervisor) for i in range(2)]):
        user = User.objects.create(username=name, password=hashed)
        user.groups.add(group)
    business = Business.objects.create(market_id=sandbox_seed.DEMO_BUSINESS_ID, name="Нагрузка",
                                       api_base_url=sandbox_url, api_token=sandbox_seed.DEMO_API_KEY)
    Campaign.objects.create(market_id=sandbox_seed.FBS_CAMPAIGN_ID, business=business, name="FBS",
                            placement_model=PlacementModel.FBS)
    return business


def fill(business, orders: int, packers: int) -> dict:
    """The worker's first sync and catalogue pass, then the plan: each packer's orders, per unit its EAN-13."""
    from fulfilment.orders.models import Order, OrderItem, ProductBarcode
    from fulfilment.orders.tasks import sync_business_task

    sync_business_task.delay(business.pk)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if Order.objects.count() >= orders and ProductBarcode.objects.exists():
            break
        time.sleep(1)
    else:
        raise SystemExit(f"the sync did not bring {orders} orders in 10 minutes ({Order.objects.count()})")
    time.sleep(3)  # the catalogue pass links every SKU in one go; let it commit
    ean = dict(ProductBarcode.objects.values_list("offer_id", "gtin"))
    todo = list(Order.objects.filter(status="PROCESSING", substatus="STARTED").order_by("pk")
                .values_list("pk", "market_id"))
    units: dict[int, list[str]] = collections.defaultdict(list)
    for order_id, offer, count in OrderItem.objects.filter(order__in=[pk for pk, _ in todo]).order_by(
            "order_id", "id").values_list("order_id", "offer_id", "count"):
        units[order_id] += [ean[offer]] * count
    plan_orders = [{"id": pk, "codes": units[pk]} for pk, _ in todo if units[pk]]
    lists: list[list[dict]] = [[] for _ in range(packers + 1)]
    for i, o in enumerate(plan_orders):
        lists[i % (packers + 1)].append(o)
    return {"password": PASSWORD, "packers": lists[:packers], "pair": lists[packers],
            "packer_names": [f"packer{i:03d}" for i in range(packers)],
            "pair_names": [f"packer{packers + i:03d}" for i in range(2)],
            "supervisor_names": ["supervisor0", "supervisor1"],
            "order_ids": [pk for pk, _ in todo], "market_ids": [m for _, m in todo[:200]]}


def profile(var: Path, master: int) -> None:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    if not children:
        print("no gunicorn worker to profile")
        return
    out = var / "web-profile.svg"
    # At the same time: every thread's wall-clock (waits on PostgreSQL included), and only the thread
    # holding the GIL (where the worker's CPU goes).
    gil = subprocess.Popen([str(VENV / "py-spy"), "record", "-p", children[0], "-d", "30", "-f", "raw", "--gil",
                            "-o", str(var / "web-profile-gil.txt"), "--nonblocking"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    subprocess.run([str(VENV / "py-spy"), "record", "-p", children[0], "-d", "30", "-o", str(out), "--nonblocking"],
                   capture_output=True)
    gil.wait()
    subprocess.run([str(VENV / "py-spy"), "record", "-p", children[0], "-d", "30", "-f", "raw",
                    "-o", str(var / "web-profile.txt"), "--nonblocking"], capture_output=True)
    print(f"py-spy: {out}, web-profile.txt (collapsed stacks) and web-profile-gil.txt (only the thread "
          "holding the GIL: the CPU)")


class CpuSamples(threading.Thread):
    """The processes' CPU seconds every second while Locust runs, to set against its request counts."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.rows, self.done = pids, [], threading.Event()

    def run(self) -> None:
        while True:
            self.rows.append((time.time(), {name: cpu_seconds(pid) for name, pid in self.pids.items()}))
            if self.done.wait(1.0):
                return

    def stop(self) -> None:
        self.done.set()
        self.join()

    def at(self, t: float) -> dict[str, float]:
        return min(self.rows, key=lambda row: abs(row[0] - t))[1]


def steady_state(var: Path, users: int) -> dict:
    """The run after every user logged in (requests.csv, one line a request, written by the locustfile):
    the production password hasher is slow on purpose, so the logins are figures of their own."""
    rows = [(float(t), name, float(ms), fail == "1") for t, name, ms, fail in
            csv.reader((var / "requests.csv").open())]
    logins = sorted(t for t, name, _, fail in rows if name == "POST login" and not fail)
    if not rows or len(logins) < users:
        return {}
    start, end = logins[-1], max(t for t, *_ in rows)
    after = [(name, ms, fail) for t, name, ms, fail in rows if t > start]
    times: dict[str, list[float]] = collections.defaultdict(list)
    for name, ms, _ in after:
        times[name.split(" ", 1)[1]].append(ms)

    def pct(name: str, q: float) -> str:
        v = sorted(times.get(name, []))
        return f"{v[min(len(v) - 1, int(q * len(v)))]:.0f}" if v else "-"

    return {"start": start, "end": end, "requests": len(after), "failures": sum(f for *_, f in after),
            "first": rows[0][0] if rows else start, "pct": pct}


def report(var: Path, samples: CpuSamples, packers: int, users: int, layout: str) -> bool:
    """Locust's figures per request name, then the line the issue asks for: requests a second, scan
    p50/p95, queue p95, order screen p95, failures, and the server's CPU per request (the figure that
    does not depend on what else the machine runs as much as wall-clock times do)."""
    rows = list(csv.DictReader((var / "locust_stats.csv").open()))
    by_name = {r["Name"]: r for r in rows}
    print(f"\n{'request':22} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>6}")
    ok = True
    for r in rows:
        print(f"{r['Name'][:22]:22} {r['Request Count']:>7} {r['Failure Count']:>5} {r['50%']:>7} {r['95%']:>7} "
              f"{r['99%']:>7} {float(r['Requests/s']):6.1f}")
        ok &= r["Failure Count"] == "0"
    total = by_name.get("Aggregated", {})
    requests = int(total.get("Request Count", 0) or 0)

    def p(name: str, q: str) -> str:
        return by_name[name][q] if name in by_name else "-"

    cpu = {k: v - samples.rows[0][1][k] for k, v in samples.rows[-1][1].items()}
    web_ms = cpu["web"] / requests * 1000 if requests else 0.0
    print(f"\nsummary: {packers} packers, {float(total.get('Requests/s', 0) or 0):.1f} requests/s, "
          f"scan p50 {p('scan', '50%')} ms p95 {p('scan', '95%')} ms, queue p95 {p('queue', '95%')} ms, "
          f"order screen p95 {p('order screen', '95%')} ms, failures {total.get('Failure Count', '-')} "
          f"of {requests} (the whole run, logins included)")
    print(f"server CPU: web (gunicorn {layout}) {cpu['web']:.1f} s = {web_ms:.1f} ms a request; "
          f"Celery worker {cpu['worker']:.1f} s; Locust {cpu['locust']:.1f} s = "
          f"{cpu['locust'] / requests * 1000 if requests else 0:.1f} ms a request; "
          f"load average {os.getloadavg()[0]:.1f}")
    steady = steady_state(var, users)
    if steady and steady["requests"]:
        start, end, n, pct = steady["start"], steady["end"], steady["requests"], steady["pct"]
        steady_cpu = {k: samples.at(end)[k] - samples.at(start)[k] for k in cpu}
        print(f"steady state, after the last login ({start - steady['first']:.0f} s in; {end - start:.0f} s, "
              f"{n} requests): {n / (end - start):.1f} requests/s, scan p50 {pct('scan', 0.5)} ms "
              f"p95 {pct('scan', 0.95)} ms, queue p95 {pct('queue', 0.95)} ms, order screen p95 "
              f"{pct('order screen', 0.95)} ms, failures {steady['failures']}")
        print(f"after the logins: web {steady_cpu['web'] / n * 1000:.1f} ms of CPU a request, "
              f"Celery worker {steady_cpu['worker'] / n * 1000:.1f} ms, "
              f"Locust {steady_cpu['locust'] / n * 1000:.1f} ms "
              f"({(steady_cpu['web'] + steady_cpu['worker'] + steady_cpu['locust']) / (end - start):.2f} cores "
              "for the three)")
    else:
        print("steady state: not every user logged in before the end (a longer run or more --logins-per-second)")
    failures = var / "locust_failures.csv"
    if failures.exists():
        for r in list(csv.DictReader(failures.open()))[:10]:
            print("  failure:", r)
    return ok


def check(sandbox_url: str, var: Path, business_id: int) -> bool:
    """Nothing lost or doubled (see the module's docstring)."""
    from django.db.models import Count, Sum

    from fulfilment.orders.models import AuditEvent, BoxLine, Instance, Order, OutboxAction
    from fulfilment.orders.sync import sync_business

    pending = ("PENDING", "SENDING")
    deadline = time.monotonic() + 180
    while OutboxAction.objects.filter(state__in=pending).exists() and time.monotonic() < deadline:
        time.sleep(2)
    # One more pass after the last delivery, so the mirror has what the Market has now (single flight:
    # waits out the beat's pass if one runs).
    while not sync_business(business_id).ran and time.monotonic() < deadline:
        time.sleep(1)
    lines = [json.loads(line) for line in (var / "scans.jsonl").open()]
    scans = [s for s in lines if "status" in s]
    answered = [s for s in scans if s["status"] == 200]
    # Sent when the run stopped, never answered: applied once or not at all, never twice.
    in_flight = [s for s in lines if s.get("sent") and s["id"] not in {a["id"] for a in scans}]
    events = collections.Counter()
    actions = {}
    for request_id, action in AuditEvent.objects.filter(
            request_id__in=[s["id"] for s in answered + in_flight]).values_list("request_id", "action"):
        events[str(request_id)] += 1
        actions[str(request_id)] = action
    missing = [s for s in answered if events[s["id"]] == 0]
    doubled = [s for s in answered + in_flight if events[s["id"]] > 1]
    wrong = [s for s in answered if (s["state"] == "ok") != (actions.get(s["id"]) == "scan")]
    accepted = collections.Counter(s["order"] for s in answered if s["state"] == "ok")
    accepted.update(s["order"] for s in in_flight if actions.get(s["id"]) == "scan")
    placed = dict(BoxLine.objects.filter(box__order_id__in=list(accepted)).values("box__order_id")
                  .annotate(n=Sum("full_count")).values_list("box__order_id", "n"))
    over = Order.objects.filter(pk__in=list(accepted)).annotate(n=Sum("items__box_lines__full_count")).values(
        "pk", "n")
    unit_mismatch = [o for o in accepted if placed.get(o, 0) != accepted[o]]
    overfull = [o["pk"] for o in over if o["n"] and o["n"] > sum(
        Order.objects.get(pk=o["pk"]).items.values_list("count", flat=True))]
    codes_twice = list(Instance.objects.values("identity").annotate(n=Count("id")).filter(n__gt=1)[:5])
    states = collections.Counter(OutboxAction.objects.values_list("state", flat=True))
    first = OutboxAction.objects.filter(state="DELIVERED", attempts=1).count()
    unequal = compare(sandbox_url)
    print(f"\nscans answered 200: {len(answered)} (accepted {sum(1 for s in answered if s['state'] == 'ok')}, "
          f"refused {sum(1 for s in answered if s['state'] == 'error')}), not 200: {len(scans) - len(answered)}; "
          f"in flight at the stop {len(in_flight)} (applied {sum(1 for s in in_flight if events[s['id']])})")
    print(f"audit trail: missing {len(missing)}, doubled {len(doubled)}, recorded otherwise than answered {len(wrong)}")
    print(f"units: orders whose boxes differ from their accepted scans {len(unit_mismatch)}, over-full {len(overfull)}")
    print(f"marking codes in more than one instance: {len(codes_twice)}")
    print(f"outbox: {dict(states)}; delivered on the first attempt {first} of {states.get('DELIVERED', 0)}")
    print(f"dashboard vs sandbox: {unequal[0]} finished orders compared, {len(unequal[1])} differ {unequal[1][:5]}")
    return not (missing or doubled or wrong or unit_mismatch or overfull or codes_twice or unequal[1]
                or set(states) - {"DELIVERED"})


def compare(sandbox_url: str) -> tuple[int, list[int]]:
    """Each order whose layout was delivered: the same number of boxes and the same status at the Market."""
    from fulfilment.orders.models import Order, OutboxAction

    ids = set(OutboxAction.objects.filter(kind="LAYOUT", state="DELIVERED").values_list("order_id", flat=True))
    differ = []
    for order in Order.objects.filter(pk__in=ids).prefetch_related("boxes"):
        with urllib.request.urlopen(f"{sandbox_url}/_sandbox/orders/{order.market_id}", timeout=10) as r:  # noqa: S310
            remote = json.loads(r.read())
        remote_boxes = len((remote.get("delivery") or {}).get("boxesLayout") or [])
        if remote_boxes != len(order.boxes.all()) or (remote["status"], remote["substatus"]) != (
                order.status, order.substatus):
            differ.append(order.market_id)
    return len(ids), differ


if __name__ == "__main__":
    main()
