"""The README's first command: it starts everything, serves the login page, and stops cleanly."""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from .test_settings import CONFIG_VARS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Demo:
    """``manage.py demo`` in its own var/ folder, its output collected line by line."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.var = tmp_path / "var"
        self.web, self.sandbox = free_port(), free_port()
        clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
        clean.update({"FULFILMENT_VAR_DIR": str(self.var), "DEBUG": "true", "PYTHONUNBUFFERED": "1", **env})
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--port", str(self.web), "--sandbox-port", str(self.sandbox)],
            cwd=ROOT, env=clean, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.strip() == "Ready.":
                self.ready.set()

    def out(self, last: int | None = None) -> str:
        return "".join(self.lines[-last:] if last else self.lines)

    def wait_line(self, pattern: str, timeout: float, after: int = 0) -> re.Match[str]:
        """The first line from index ``after`` on that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if match := re.search(pattern, line):
                    return match
            assert self.proc.poll() is None, "the demo stopped:\n" + self.out(60)
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" + self.out(60))

    def login_page(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web}/login/", timeout=10) as resp:
            assert resp.status == 200
            return resp.read().decode()

    def stop(self) -> None:
        """Ctrl-C: it exits 0, frees its ports and leaves no process behind."""
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(timeout=60) == 0, self.out(40)
        self.reader.join(timeout=10)
        assert "Stopped." in self.out()
        deadline = time.monotonic() + 10
        while (port_open(self.web) or port_open(self.sandbox)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not port_open(self.web) and not port_open(self.sandbox)
        # No worker or beat left behind.
        leftover = subprocess.run(["pgrep", "-f", str(self.var)], capture_output=True, text=True)
        assert leftover.stdout.strip() == ""

    def child_pid(self, pattern: str) -> int:
        """The pid of the demo's own child process whose command line matches ``pattern``."""
        found = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-f", pattern], capture_output=True, text=True)
        (pid,) = found.stdout.split()
        return int(pid)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def test_the_demo_starts_serves_the_login_page_and_stops_on_ctrl_c(tmp_path):
    demo = Demo(tmp_path)
    try:
        assert demo.ready.wait(120), "demo did not start:\n" + demo.out(40)
        out = demo.out()
        assert f"http://127.0.0.1:{demo.web}/" in out
        assert "packer-demo" in out and "supervisor-demo" in out and "admin-demo" in out

        assert "Войти" in demo.login_page()
        with urllib.request.urlopen(f"http://127.0.0.1:{demo.sandbox}/_sandbox/health", timeout=10) as resp:
            assert resp.status == 200
        # The worker (a real process on the serverless broker) syncs the sandbox's orders in.
        db = demo.var / "fulfilment.sqlite3"
        deadline = time.monotonic() + 90
        synced = 0
        # The sync commits page by page: wait for the count, not for the first page.
        while time.monotonic() < deadline and synced < 10:
            with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
                synced = conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]
            time.sleep(1)
        assert synced >= 10, demo.out(40)
        # An order placed in the sandbox is pushed to the dashboard and is there in seconds.
        with urllib.request.urlopen(f"http://127.0.0.1:{demo.sandbox}/_sandbox/orders", data=b"{}", timeout=10) as resp:
            order_id = json.loads(resp.read())["orderId"]
        deadline = time.monotonic() + 20
        arrived = 0
        while time.monotonic() < deadline and not arrived:
            with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
                arrived = conn.execute("SELECT count(*) FROM orders_order WHERE market_id = ?",
                                       (order_id,)).fetchone()[0]
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{demo.sandbox}/_sandbox/notifications", timeout=10) as resp:
            pushed = [n for n in json.loads(resp.read())["notifications"] if n["orderId"] == order_id]
        assert [a["status"] for n in pushed for a in n["answers"]] == [200], pushed
        assert arrived, demo.out(40)

        demo.stop()
    finally:
        demo.kill()


def test_the_demo_restarts_a_killed_worker_and_keeps_serving(tmp_path):
    demo = Demo(tmp_path, SYNC_INTERVAL_SECONDS="2")  # beat gives the worker a task every 2 s
    try:
        assert demo.ready.wait(120), "demo did not start:\n" + demo.out(40)
        demo.wait_line(r"sync_all_task\[[^]]+\] succeeded", 60)
        first = demo.child_pid("celery -A fulfilment worker")

        os.kill(first, signal.SIGKILL)
        mark = len(demo.lines)
        demo.wait_line(r"demo: worker exited with code -9; restarting it in \d+ s", 10, after=mark)
        second = int(demo.wait_line(r"demo: started worker \(pid (\d+)\)", 15, after=mark).group(1))
        assert second != first and demo.child_pid("celery -A fulfilment worker") == second
        # Its pool processes went with it.
        deadline = time.monotonic() + 10
        while subprocess.run(["pgrep", "-g", str(first)], capture_output=True).stdout.strip():
            assert time.monotonic() < deadline, "the killed worker's pool processes are still there"
            time.sleep(0.2)
        restarted = next(i for i, line in enumerate(demo.lines) if f"started worker (pid {second})" in line)
        # The new worker takes beat's next task, and the rest never stopped.
        demo.wait_line(r"sync_all_task\[[^]]+\] succeeded", 60, after=restarted)
        assert "Войти" in demo.login_page()
        assert demo.proc.poll() is None

        demo.stop()
    finally:
        demo.kill()
