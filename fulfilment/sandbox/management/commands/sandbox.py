"""Run the sandbox Market: ``python manage.py sandbox --port 8001 [--seed-demo] [--load N]
[--notify-url URL]``."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from fulfilment.sandbox.app import SandboxMarket
from fulfilment.sandbox.chaos import Chaos
from fulfilment.sandbox.seed import DEMO_API_KEY, DEMO_BUSINESS_ID, Seeder
from fulfilment.sandbox.server import make_sandbox_server
from fulfilment.sandbox.shipment_rules import at
from fulfilment.sandbox.store import Store


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve the sandbox Market (an emulated Partner API with its own storage)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--db", default=str(Path(settings.VAR_DIR) / "sandbox.sqlite3"),
                            help="the sandbox's own SQLite file (':memory:' for a throwaway one)")
        parser.add_argument("--reset", action="store_true", help="start from an empty sandbox")
        parser.add_argument("--seed-demo", action="store_true", help="add the demo business and scenarios if empty")
        parser.add_argument("--load", type=int, default=0, help="add N ordinary orders for load tests")
        parser.add_argument("--api-key", default=DEMO_API_KEY)
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--error-rate", type=float, default=0.0)
        parser.add_argument("--burst-after", type=int, default=0)
        parser.add_argument("--burst-period", type=float, default=60.0)
        parser.add_argument("--check-delay", type=float, default=2.0,
                            help="seconds an identifier check stays IN_PROGRESS")
        parser.add_argument("--failing-code", action="append", default=[],
                            help="a code (or prefix) the identifier check rejects; repeatable")
        parser.add_argument("--shipment-cutoff", default=None, metavar="HH:MM",
                            help="when new shipments are formed, Moscow time (default 10:00)")
        parser.add_argument("--notify-url", help="where the business's push notifications go (the base URL, as "
                            "pasted into the Market's cabinet; /notification is appended); '' stops them")
        parser.add_argument("--notify-business", type=int, default=DEMO_BUSINESS_ID,
                            help="the business --notify-url is for (the demo business by default)")
        parser.add_argument("--notify-time-scale", type=float,
                            help="shrink the notifications' retry schedule (0.01: a minute is 0.6 s)")

    def handle(self, *args: Any, **opts: Any) -> None:
        db = opts["db"]
        if opts["reset"] and db != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(db + suffix).unlink(missing_ok=True)
        store = Store(db)
        if opts["seed_demo"] and store.order_count() == 0:
            seeder = Seeder(store)
            seeder.accounts(opts["api_key"])
            seeder.demo()
        if opts["load"]:
            seeder = Seeder(store)
            seeder.accounts(opts["api_key"])
            seeder.load(opts["load"])
        store.set_setting("check_delay", opts["check_delay"])
        if opts["shipment_cutoff"]:
            at(dt.date.today(), opts["shipment_cutoff"])  # refuses a malformed HH:MM before serving
            store.set_setting("shipment_cutoff", opts["shipment_cutoff"])
        if opts["notify_url"] is not None:
            store.set_notification_url(opts["notify_business"], opts["notify_url"])
        if opts["notify_time_scale"]:
            store.set_setting("notify_time_scale", opts["notify_time_scale"])
        chaos = Chaos(opts["latency_ms"], opts["error_rate"], opts["burst_after"], opts["burst_period"])
        app = SandboxMarket(store, chaos, failing_codes=opts["failing_code"], check_delay=opts["check_delay"])
        server = make_sandbox_server(app, opts["host"], opts["port"])
        signal.signal(signal.SIGTERM, _stop)
        self.stdout.write(f"Sandbox Market on http://{opts['host']}:{server.server_port} "
                          f"({store.order_count()} orders, storage {db})", ending="\n")
        self.stdout.flush()
        app.notifier.start()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            app.notifier.stop()
            server.server_close()
            store.close()
