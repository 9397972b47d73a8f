"""The README's first command: it starts everything, serves the login page, and stops cleanly."""

import contextlib
import json
import os
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


def test_the_demo_starts_serves_the_login_page_and_stops_on_ctrl_c(tmp_path):
    web, sandbox = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update({"FULFILMENT_VAR_DIR": str(tmp_path / "var"), "DEBUG": "true", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, "manage.py", "demo", "--port", str(web), "--sandbox-port", str(sandbox)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "Ready.":
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(120), "demo did not start:\n" + "".join(lines[-40:])
        out = "".join(lines)
        assert f"http://127.0.0.1:{web}/" in out
        assert "packer-demo" in out and "supervisor-demo" in out and "admin-demo" in out

        with urllib.request.urlopen(f"http://127.0.0.1:{web}/login/", timeout=10) as resp:
            assert resp.status == 200
            assert "Войти" in resp.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{sandbox}/_sandbox/health", timeout=10) as resp:
            assert resp.status == 200
        # The worker (a real process on the serverless broker) syncs the sandbox's orders in.
        db = tmp_path / "var" / "fulfilment.sqlite3"
        deadline = time.monotonic() + 90
        synced = 0
        while time.monotonic() < deadline and not synced:
            with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
                synced = conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]
            time.sleep(1)
        assert synced >= 10, "".join(lines[-40:])
        # An order placed in the sandbox is pushed to the dashboard and is there in seconds.
        with urllib.request.urlopen(f"http://127.0.0.1:{sandbox}/_sandbox/orders", data=b"{}", timeout=10) as resp:
            order_id = json.loads(resp.read())["orderId"]
        deadline = time.monotonic() + 20
        arrived = 0
        while time.monotonic() < deadline and not arrived:
            with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
                arrived = conn.execute("SELECT count(*) FROM orders_order WHERE market_id = ?",
                                       (order_id,)).fetchone()[0]
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{sandbox}/_sandbox/notifications", timeout=10) as resp:
            pushed = [n for n in json.loads(resp.read())["notifications"] if n["orderId"] == order_id]
        assert [a["status"] for n in pushed for a in n["answers"]] == [200], pushed
        assert arrived, "".join(lines[-40:])

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, "".join(lines[-40:])
        reader.join(timeout=10)
        assert "Stopped." in "".join(lines)
        deadline = time.monotonic() + 10
        while (port_open(web) or port_open(sandbox)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not port_open(web) and not port_open(sandbox)
        # No worker or beat left behind.
        leftover = subprocess.run(["pgrep", "-f", str(tmp_path / "var")], capture_output=True, text=True)
        assert leftover.stdout.strip() == ""
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
