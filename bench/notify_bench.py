"""Notification benchmark: from the sandbox placing an order to the order on the dashboard's queue page.

    .venv/bin/python bench/notify_bench.py                  # 100 orders one by one, then a burst of 20
    .venv/bin/python bench/notify_bench.py --orders 30 --burst 10

Runs the whole demo as ``bin/run`` does (``manage.py demo``: gunicorn web, a Celery worker and beat
on the embedded broker, the sandbox pushing its notifications to the demo business's URL) in a
throw-away runtime folder, logs in as the packer, and then:

- one by one: places an order through the sandbox's control plane and polls ``/queue/?q=<number>``
  (every 50 ms) until the page lists it; prints p50, p95 and the worst of those latencies;
- a burst: places ``--burst`` orders back to back and times until the queue lists every one.

For each phase it counts the sandbox's getBusinessOrders calls: targeted ones (with ``orderIds``,
the refresh after notifications) per event, and any other (a sync: the beat's, if one fell in).
Targets (issue 15): p95 ≤ 3 s; one targeted refresh per batch of events, never a full sync.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    """``manage.py demo`` in its own runtime folder, stopped with Ctrl-C as a person would."""

    def __init__(self, var: Path, web_port: int = 0, sandbox_port: int = 0) -> None:
        self.web, self.sandbox = web_port or free_port(), sandbox_port or free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        env.update({"FULFILMENT_VAR_DIR": str(var), "DEBUG": "true", "PYTHONUNBUFFERED": "1"})
        var.mkdir(parents=True)
        self.log_path = var / "demo.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--port", str(self.web), "--sandbox-port", str(self.sandbox)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(180):
            self.stop()
            raise SystemExit("the demo did not start:\n" + self.log_path.read_text()[-3000:])
        self.web_url, self.sandbox_url = f"http://127.0.0.1:{self.web}", f"http://127.0.0.1:{self.sandbox}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            if line.strip() == "Ready.":
                self.ready.set()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def login(web_url: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{web_url}/login/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    resp = session.post(f"{web_url}/login/", data={"username": "packer", "password": "packer-demo",
                                                    "csrfmiddlewaretoken": token.group(1)},
                        headers={"Referer": f"{web_url}/login/"}, timeout=10)
    assert "/login/" not in resp.url, "the packer could not log in"
    return session


def listed(session: requests.Session, web_url: str, order_id: int) -> bool:
    """Whether the queue page lists the order (its row, not just the search box echoing the number)."""
    html = session.get(f"{web_url}/queue/", params={"q": str(order_id)}, timeout=10).text
    return f'aria-label="{order_id}"' in html


def place(sandbox_url: str) -> int:
    resp = requests.post(f"{sandbox_url}/_sandbox/orders", json={"items": [{"offerId": "MUG-001", "count": 1}]},
                         timeout=10)
    resp.raise_for_status()
    return resp.json()["orderId"]


def business_orders_calls(sandbox_url: str, after: int) -> tuple[int, list[dict]]:
    """The sandbox's getBusinessOrders requests after request number ``after``; the last number."""
    received = requests.get(f"{sandbox_url}/_sandbox/received", timeout=30).json()["requests"]
    calls = [json.loads(r["body"] or "{}") for r in received
             if r["id"] > after and r["operation"] == "getBusinessOrders"]
    return (received[-1]["id"] if received else after), calls


def wait_listed(session: requests.Session, web_url: str, order_ids: list[int],
                timeout: float = 60) -> tuple[dict[int, float], float]:
    """Poll the queue until it lists every order: when each one was first seen, and the mean
    duration of one round of polls (what a seen time may lag behind the order's arrival)."""
    seen: dict[int, float] = {}
    rounds: list[float] = []
    deadline = time.monotonic() + timeout
    while len(seen) < len(order_ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"orders {set(order_ids) - set(seen)} not on the queue after {timeout:.0f} s")
        started = time.monotonic()
        for order_id in order_ids:
            if order_id not in seen and listed(session, web_url, order_id):
                seen[order_id] = time.monotonic()
        rounds.append(time.monotonic() - started)
        if len(seen) < len(order_ids):
            time.sleep(POLL)
    return seen, statistics.mean(rounds)


def settle(demo: Demo, session: requests.Session) -> None:
    """Wait for the demo's first sync (its orders on the queue) and let the dashboard go quiet."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if 'aria-label="' in session.get(f"{demo.web_url}/queue/", timeout=10).text:
            break
        time.sleep(0.5)
    time.sleep(3)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def describe(calls: list[dict]) -> tuple[int, int, int]:
    targeted = [c for c in calls if c.get("orderIds")]
    return len(targeted), sum(len(c["orderIds"]) for c in targeted), len(calls) - len(targeted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notify-bench-") as tmp:
        demo = Demo(Path(tmp) / "var")
        try:
            session = login(demo.web_url)
            settle(demo, session)
            mark, _calls = business_orders_calls(demo.sandbox_url, 0)

            latencies = []
            for _ in range(args.orders):
                started = time.monotonic()
                order_id = place(demo.sandbox_url)
                seen, _round = wait_listed(session, demo.web_url, [order_id])
                latencies.append(seen[order_id] - started)
            mark, calls = business_orders_calls(demo.sandbox_url, mark)
            one_by_one = describe(calls)

            placed_at = {}
            for _ in range(args.burst):
                placed_at[place(demo.sandbox_url)] = time.monotonic()
            seen, burst_round = wait_listed(session, demo.web_url, list(placed_at))
            burst_latencies = [seen[o] - placed_at[o] for o in placed_at]
            burst_took = max(seen.values()) - min(placed_at.values())
            time.sleep(3)  # anything still on its way to the Market is counted too
            _mark, calls = business_orders_calls(demo.sandbox_url, mark)
            burst = describe(calls)
            sent = requests.get(f"{demo.sandbox_url}/_sandbox/notifications", timeout=30).json()["notifications"]
        finally:
            demo.stop()
    answers = [a["status"] for n in sent for a in n["answers"]]
    print(f"{time.strftime('%Y-%m-%d')}  {platform.node()}  {os.cpu_count()} CPUs  load {os.getloadavg()[0]:.1f}  "
          f"python {platform.python_version()}")
    print(f"one by one, {len(latencies)} orders: p50 {statistics.median(latencies):.2f} s, "
          f"p95 {percentile(latencies, 95):.2f} s, max {max(latencies):.2f} s")
    print(f"  getBusinessOrders: {one_by_one[0]} targeted for {one_by_one[1]} orders "
          f"({one_by_one[0] / max(1, len(latencies)):.2f} per event), {one_by_one[2]} other (syncs)")
    print(f"burst of {args.burst}: all on the queue {burst_took:.2f} s after the first was placed; per order "
          f"p50 {statistics.median(burst_latencies):.2f} s, max {max(burst_latencies):.2f} s "
          f"(one round of {args.burst} polls: {burst_round:.2f} s)")
    print(f"  getBusinessOrders: {burst[0]} targeted for {burst[1]} orders, {burst[2]} other (syncs)")
    print(f"notifications sent: {len(sent)}, answers: {len(answers)} ({answers.count(200)} × 200)")


if __name__ == "__main__":
    main()
