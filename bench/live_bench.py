"""Open screens benchmark: what 50 open screens cost the web server, and how soon the Market's
cancellation is on an open order screen in Chromium.

    .venv/bin/python bench/live_bench.py                       # both parts, about 4 minutes
    .venv/bin/python bench/live_bench.py screens --screens 50 --seconds 60
    .venv/bin/python bench/live_bench.py banner --cancellations 20

Runs the whole demo as ``bin/run`` does (``manage.py demo``: gunicorn with 2 workers of 4 threads,
a Celery worker and beat on the embedded broker, the sandbox pushing its notifications to the demo
business's URL) in a throw-away runtime folder, then:

- screens: opens ``--screens`` simulated screens (80 % order screens, 15 % queues, 5 % the
  supervisor's page), each a thread that asks its live region again as static/js/live.js does
  (``data-live-every``, If-None-Match with the last ETag). The sandbox places an order every
  ``--change-every`` seconds meanwhile, so the queues do redraw. It reads the CPU time of gunicorn's
  processes (/proc) over a quiet stretch first and over the run, and prints the server's CPU per open
  screen per minute (the quiet rate taken off), requests/s, the share of 304s and the answers' times.
- banner: places an order, waits for it on the queue, opens its screen in Chromium, lets the screen
  sit for a moment, cancels the order through the sandbox's control plane and times until the red
  banner is on the screen; p50, p95 and the worst over ``--cancellations`` orders (target ≤ 3 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notify_bench import Demo, percentile, place, settle

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def login(web_url: str, user: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{web_url}/login/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    resp = session.post(f"{web_url}/login/", data={"username": user, "password": f"{user}-demo",
                                                    "csrfmiddlewaretoken": token.group(1)},
                        headers={"Referer": f"{web_url}/login/"}, timeout=10)
    assert "/login/" not in resp.url, f"{user} could not log in"
    return session


def gunicorn_cpu(demo: Demo) -> float:
    """CPU seconds used so far by the demo's gunicorn master and workers (user + system)."""
    procs: dict[int, tuple[int, bool, float]] = {}  # pid: parent, is gunicorn, CPU seconds
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        procs[int(entry.name)] = (int(fields[1]), b"gunicorn" in cmdline,
                                  (int(fields[11]) + int(fields[12])) / CLOCK_TICK)

    def of_demo(pid: int) -> bool:  # the demo starts each part in a session of its own: follow the parents
        while pid > 1 and pid in procs:
            pid = procs[pid][0]
            if pid == demo.proc.pid:
                return True
        return False

    return sum(cpu for pid, (_parent, gunicorn, cpu) in procs.items() if gunicorn and of_demo(pid))


def live_region(html: str, region: str) -> tuple[str, float]:
    """The URL a live region asks again and how often (its data-live-url and data-live-every)."""
    found = re.search(rf'id="{region}"[^>]*data-live-url="([^"]+)" data-live-every="([^"]+)"', html)
    assert found, f"no live region {region} on the page"
    return found.group(1).replace("&amp;", "&"), float(found.group(2))


@dataclass
class Tally:
    statuses: dict[int, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, took: float) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.times.append(took)


def screen(session: requests.Session, web_url: str, path: str, region: str, stop: threading.Event,
           tally: Tally) -> None:
    """One open screen: its page once, then its live region as live.js asks it."""
    url, every = live_region(session.get(web_url + path, timeout=30).text, region)
    etag = ""
    stop.wait(every * (0.2 + 0.8 * (hash(path + str(threading.get_ident())) % 100) / 100))  # not all at once
    while not stop.is_set():
        started = time.monotonic()
        try:
            resp = session.get(web_url + url, headers={"If-None-Match": etag} if etag else {}, timeout=30)
        except requests.ConnectionError:
            # gunicorn closed the idle keep-alive connection as it was reused; a browser asks again at once.
            tally.add(0, time.monotonic() - started)
            continue
        tally.add(resp.status_code, time.monotonic() - started)
        if resp.status_code == 200:
            etag = resp.headers.get("ETag", "")
        stop.wait(every)


def measure_screens(demo: Demo, args: argparse.Namespace) -> None:
    packer, supervisor = login(demo.web_url, "packer"), login(demo.web_url, "supervisor")
    listed = sorted(set(re.findall(r'href="(/orders/\d+/)"', packer.get(f"{demo.web_url}/queue/", timeout=30).text)))
    # Digital orders have a screen of their own, without boxes or a banner.
    orders = [p for p in listed if 'id="market-live"' in packer.get(demo.web_url + p, timeout=30).text]
    assert orders, "no order screens on the queue"
    n_queue, n_super = max(1, args.screens * 15 // 100), max(1, args.screens * 5 // 100)
    plan = ([("queue", "/queue/", "queue-live")] * n_queue + [("supervisor", "/supervisor/", "cancellations-live")]
            * n_super)
    plan += [("order", orders[n % len(orders)], "market-live") for n in range(args.screens - len(plan))]
    time.sleep(2)
    quiet_from, quiet_cpu = time.monotonic(), gunicorn_cpu(demo)
    time.sleep(args.quiet)
    quiet_rate = (gunicorn_cpu(demo) - quiet_cpu) / (time.monotonic() - quiet_from)

    stop, tally, threads = threading.Event(), Tally(), []
    for kind, path, region in plan:
        # Each screen its own connection and cookies, as each browser has.
        session = requests.Session()
        session.cookies.update((supervisor if kind == "supervisor" else packer).cookies)
        threads.append(threading.Thread(target=screen, args=(session, demo.web_url, path, region, stop, tally),
                                        daemon=True))
    for t in threads:
        t.start()
    time.sleep(3)  # every page drawn once: only the live regions from here on
    with tally.lock:
        tally.statuses.clear()
        tally.times.clear()
    started, cpu = time.monotonic(), gunicorn_cpu(demo)
    placed = 0
    while time.monotonic() - started < args.seconds:
        time.sleep(min(args.change_every, args.seconds - (time.monotonic() - started)))
        if time.monotonic() - started < args.seconds:
            place(demo.sandbox_url)
            placed += 1
    took, used = time.monotonic() - started, gunicorn_cpu(demo) - cpu
    stop.set()
    for t in threads:
        t.join(10)
    asked = sum(tally.statuses.values())
    busy = used - quiet_rate * took
    print(f"screens: {len(plan)} open ({len(plan) - n_queue - n_super} order screens, {n_queue} queues, "
          f"{n_super} supervisor) for {took:.0f} s, {placed} orders placed meanwhile")
    print(f"  requests: {asked} ({asked / took:.1f}/s), answers {dict(sorted(tally.statuses.items()))} "
          f"({tally.statuses.get(304, 0) / max(1, asked):.0%} 304), "
          f"time p50 {statistics.median(tally.times) * 1000:.1f} ms, p95 {percentile(tally.times, 95) * 1000:.1f} ms")
    print(f"  gunicorn CPU: {used:.2f} s in {took:.0f} s ({used / took:.0%} of one core; quiet {quiet_rate:.1%}); "
          f"per open screen per minute {busy / len(plan) / (took / 60) * 1000:.0f} ms; "
          f"per request {busy / max(1, asked) * 1000:.2f} ms")


def cancellations(demo: Demo, args: argparse.Namespace) -> None:
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"Chromium is missing at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    packer = login(demo.web_url, "packer")
    latencies = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
        host = demo.web_url.split("//")[1].split(":")[0]
        context.add_cookies([{"name": c.name, "value": c.value or "", "domain": host, "path": "/"}
                             for c in packer.cookies])
        page = context.new_page()
        for _ in range(args.cancellations):
            market_id = place(demo.sandbox_url)
            path = None
            deadline = time.monotonic() + 60
            while path is None and time.monotonic() < deadline:
                html = packer.get(f"{demo.web_url}/queue/", params={"q": str(market_id)}, timeout=30).text
                found = re.search(rf'href="(/orders/\d+/)">{market_id}<', html)
                path = found.group(1) if found else time.sleep(0.2)
            assert path, f"order {market_id} not on the queue"
            page.goto(demo.web_url + path)
            page.wait_for_timeout(args.sit * 1000)  # a screen open for a while: its live region asked already
            started = time.monotonic()
            requests.post(f"{demo.sandbox_url}/_sandbox/orders/{market_id}/buyer-cancel", timeout=10).raise_for_status()
            page.wait_for_selector(".market-change.error", timeout=60_000)
            latencies.append(time.monotonic() - started)
        browser.close()
    print(f"banner, {len(latencies)} cancellations: p50 {statistics.median(latencies):.2f} s, "
          f"p95 {percentile(latencies, 95):.2f} s, max {max(latencies):.2f} s (target ≤ 3 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", choices=("screens", "banner", "both"), default="both")
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--quiet", type=float, default=20, help="seconds of the quiet stretch measured first")
    parser.add_argument("--change-every", type=float, default=10)
    parser.add_argument("--cancellations", type=int, default=20)
    parser.add_argument("--port", type=int, default=0, help="the web's port (the sandbox's is the next); free ones")
    parser.add_argument("--sit", type=float, default=2, help="seconds an order screen is open before the cancel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        demo = Demo(Path(tmp) / "var", args.port, args.port + 1 if args.port else 0)
        try:
            settle(demo, login(demo.web_url, "packer"))
            print(f"{time.strftime('%Y-%m-%d')}  {platform.node()}  {os.cpu_count()} CPUs  "
                  f"load {os.getloadavg()[0]:.1f}  python {platform.python_version()}")
            if args.part in ("screens", "both"):
                measure_screens(demo, args)
            if args.part in ("banner", "both"):
                cancellations(demo, args)
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
