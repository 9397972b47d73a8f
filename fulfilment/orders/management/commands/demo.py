"""Run the whole thing on one machine: ``python manage.py demo`` (what ``bin/run`` calls).

Migrates, seeds the sandbox Market with demo orders, creates the demo users and the demo business,
starts the sandbox, the web server, a Celery worker and Celery beat, prints the URL and logins, and
stops all of them cleanly on Ctrl-C (or SIGTERM). A worker, beat or sandbox that dies is started
again after a short backoff, with a log line; if the web server dies the demo stops (it is what the
user is looking at, and gunicorn already restarts its own workers: its master dying is not transient).
The sandbox pushes its notifications to the demo business's URL, and the web server hears them
from localhost (for the demo only), so an order placed in the sandbox is in the queue in seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from fulfilment.accounts.roles import PACKER, SUPERVISOR
from fulfilment.orders.models import Business, Campaign, PlacementModel
from fulfilment.sandbox import seed
from fulfilment.sandbox.store import Store

DEMO_USERS = [
    # username, password, role, superuser
    ("packer", "packer-demo", PACKER, False),
    ("supervisor", "supervisor-demo", SUPERVISOR, False),
    ("admin", "admin-demo", None, True),
]
STOP_TIMEOUT = 15.0
RESTART_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds before the 1st, 2nd, ... restart in a row
STABLE_AFTER = 60.0  # a child that ran this long starts the backoff from the beginning again


@dataclass
class Child:
    name: str
    cmd: list[str]
    restart: bool
    proc: subprocess.Popen[bytes]
    started_at: float
    restarts_in_a_row: int = 0
    restart_at: float | None = None


class Command(BaseCommand):
    help = "Start web, worker, beat and the sandbox Market with demo data; Ctrl-C stops everything."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8001)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--load", type=int, default=0, help="also add N ordinary orders to the sandbox")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.children: list[Child] = []
        self.stopping = False
        sandbox_url = f"http://127.0.0.1:{opts['sandbox_port']}"
        web_url = f"http://{opts['host']}:{opts['port']}"

        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        self._seed_sandbox(opts["load"])
        business = self._seed_dashboard(sandbox_url)
        # The sandbox posts from and to localhost: hear it (the Market's own ranges stay as they are).
        local = "127.0.0.1" if opts["host"] in ("0.0.0.0", "::", "") else opts["host"]  # noqa: S104 - a comparison
        os.environ["MARKET_NOTIFICATION_SOURCES"] = ",".join(
            dict.fromkeys([*settings.MARKET_NOTIFICATION_SOURCES, "127.0.0.1", local]))
        notify_url = f"http://{local}:{opts['port']}" + reverse(
            "market-notification", args=[business.notification_secret]).removesuffix("/notification")

        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        py = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        var = Path(settings.VAR_DIR)
        try:
            self._start("sandbox", [py, manage, "sandbox", "--port", str(opts["sandbox_port"]),
                                    "--db", str(var / "sandbox.sqlite3"), "--notify-url", notify_url])
            self._start("web", [py, "-m", "gunicorn", "fulfilment.wsgi", "--bind", f"{opts['host']}:{opts['port']}",
                                "--workers", str(opts["web_workers"]), "--threads", "4", "--access-logfile", "-",
                                "--graceful-timeout", "10"], restart=False)
            # One worker: no gossip, mingle or heartbeats. On the embedded broker a killed worker's event
            # queue stays bound and would fill var/celery with heartbeats nobody reads.
            self._start("worker", [py, "-m", "celery", "-A", "fulfilment", "worker", "--loglevel", "INFO",
                                   "--concurrency", "2", "--hostname", "demo@%h", "--without-gossip",
                                   "--without-mingle", "--without-heartbeat"])
            self._start("beat", [py, "-m", "celery", "-A", "fulfilment", "beat", "--loglevel", "INFO",
                                 "--schedule", str(var / "celerybeat-schedule")])
            self._wait_ready(f"{sandbox_url}/_sandbox/health", "sandbox")
            self._wait_ready(f"{web_url}/healthz", "web")
            # Fill the dashboard now rather than at beat's first tick.
            from fulfilment.orders.tasks import sync_all_returns_task, sync_all_task

            sync_all_task.delay()
            sync_all_returns_task.delay()  # the demo's returns at once, not at the beat's first tick
            self._banner(web_url, sandbox_url)
            while not self.stopping:
                self._supervise()
                time.sleep(0.5)
        finally:
            self._stop_all()
        self.stdout.write("Stopped.")

    # --- data -------------------------------------------------------------------------------------
    def _seed_sandbox(self, load: int) -> None:
        store = Store(Path(settings.VAR_DIR) / "sandbox.sqlite3")
        try:
            seeder = seed.Seeder(store)
            if store.order_count() == 0:
                seeder.accounts()
                seeder.demo()
            if load:
                seeder.load(load)
            self.stdout.write(f"Sandbox Market: {store.order_count()} orders.")
        finally:
            store.close()

    @transaction.atomic
    def _seed_dashboard(self, sandbox_url: str) -> Business:
        for username, password, role, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.is_staff = user.is_superuser = superuser
                user.save()
            if role:
                user.groups.add(Group.objects.get(name=role))
        business, _ = Business.objects.update_or_create(
            market_id=seed.DEMO_BUSINESS_ID,
            defaults={"name": "Демо-магазин", "api_base_url": sandbox_url, "api_token": seed.DEMO_API_KEY},
        )
        for market_id, name, model in (
            (seed.FBS_CAMPAIGN_ID, "Демо FBS", PlacementModel.FBS),
            (seed.EXPRESS_CAMPAIGN_ID, "Демо Express", PlacementModel.EXPRESS),
            (seed.DBS_CAMPAIGN_ID, "Демо DBS", PlacementModel.DBS),
            (seed.LAAS_CAMPAIGN_ID, "Демо LaaS", PlacementModel.LAAS),
        ):
            Campaign.objects.update_or_create(
                market_id=market_id, defaults={"business": business, "name": name, "placement_model": model}
            )
        return business

    # --- processes --------------------------------------------------------------------------------
    def _start(self, name: str, cmd: list[str], restart: bool = True) -> None:
        self.children.append(Child(name, cmd, restart, self._spawn(name, cmd), time.monotonic()))

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        # Own process group: Ctrl-C reaches us, and we stop each child in order.
        proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=os.environ.copy(), start_new_session=True)
        self._log(f"started {name} (pid {proc.pid})")
        return proc

    def _supervise(self) -> None:
        """Restart a dead worker, beat or sandbox after its backoff; a dead web server stops the demo."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping:
                    child.proc, child.started_at, child.restart_at = self._spawn(child.name, child.cmd), now, None
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if not child.restart:
                raise CommandError(f"{child.name} exited with code {code}; stopping the rest")
            # What it leaves behind (a killed worker's pool processes) goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
            if now - child.started_at >= STABLE_AFTER:
                child.restarts_in_a_row = 0
            delay = RESTART_BACKOFF[min(child.restarts_in_a_row, len(RESTART_BACKOFF) - 1)]
            child.restarts_in_a_row += 1
            child.restart_at = now + delay
            self._log(f"{child.name} exited with code {code}; restarting it in {delay:.0f} s")

    def _log(self, line: str) -> None:
        self.stderr.write(f"demo: {line}")
        self.stderr.flush()

    def _wait_ready(self, url: str, name: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            self._supervise()
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own localhost URL
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        if not self.stopping:
            raise CommandError(f"{name} did not become ready at {url} within {timeout:.0f} s")

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.terminate()  # the main process shuts its own workers down gracefully
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in reversed(self.children):
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{child.name} did not stop in time; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()

    def _banner(self, web_url: str, sandbox_url: str) -> None:
        lines = ["", "=" * 64, f"  Fulfilment dashboard: {web_url}/", f"  Sandbox Market:       {sandbox_url}/",
                 "  Logins:"]
        for username, password, role, superuser in DEMO_USERS:
            what = (role or "admin") + (", Django admin" if superuser else "")
            lines.append(f"    {username:<11} / {password:<16} ({what})")
        lines += [f"  A new order:  curl -X POST {sandbox_url}/_sandbox/orders",
                  "  Press Ctrl-C to stop everything.", "=" * 64, ""]
        self.stdout.write("\n".join(lines))
        self.stdout.write("Ready.")
        self.stdout.flush()
