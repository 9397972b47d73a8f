"""Locust users for the load test (run by ``bench/load/run.py``, which writes the plan and checks the result).

- ``Packer``: one scan a second of the products of their own orders (the plan gives each packer a
  disjoint list: per unit the EAN-13 the catalogue links), the queue and the order screen when they
  take the next order, then "finish" (the layout goes to the Market) and "ready to ship".
- ``PairPacker``: two packers on the same orders, one taking the even units, the other the odd ones.
- ``Supervisor``: browses the supervisor's page, the queue and its filters, and orders, every 3 s.

Each scan's id and order go to ``$LOAD_OUT/scans.jsonl`` as it is sent, and again with the HTTP
status and the feedback's state when it is answered, for the checks after the run. Every request's
end time, name, time taken and failure go to ``$LOAD_OUT/requests.csv``: the report's figures of the
steady state, after every user logged in (Locust's own history keeps only rolling percentiles). Environment:
``LOAD_PLAN`` (JSON), ``LOAD_OUT`` (folder), ``LOAD_PACKERS``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path

from locust import constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
OUT = Path(os.environ["LOAD_OUT"])
SCANS = (OUT / "scans.jsonl").open("a", buffering=1)
REQUESTS = (OUT / "requests.csv").open("a", buffering=1 << 16)
VERSION = re.compile(r'data-version="(\d+)"')
STATE = re.compile(r'id="feedback"[^>]*data-state="(\w*)"')
_packer_numbers = itertools.count()
_pair_numbers = itertools.count()
_supervisor_numbers = itertools.count()


@events.request.add_listener
def log_request(request_type: str, name: str, response_time: float, exception: object, **_: object) -> None:
    REQUESTS.write(f"{time.time():.3f},{request_type} {name},{response_time:.1f},{int(exception is not None)}\n")


@events.quitting.add_listener
def flush_requests(**_: object) -> None:
    REQUESTS.flush()


class Staff(FastHttpUser):
    """geventhttpclient, not requests: Locust runs on the same two cores as the server (bench/load/run.py
    prints Locust's CPU beside the server's: 3.1 ms a request with requests at 60 packers, 1.6 with this)."""

    abstract = True
    username = ""
    # requests waited for an answer as long as it took; geventhttpclient gives up after 60 s, which a
    # saturated shared machine exceeds while the logins run (a timed-out login page, then a 403 without
    # its CSRF cookie). The wait is what is measured, not a failure.
    connection_timeout = network_timeout = 600.0

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == name), "") or ""

    def login(self, username: str) -> None:
        self.client.get("/login/", name="login")
        resp = self.client.post("/login/", name="login", allow_redirects=False, data={
            "username": username, "password": PLAN["password"],
            "csrfmiddlewaretoken": self.cookie("csrftoken")})
        if resp.status_code != 302:
            raise RuntimeError(f"{username} could not log in: {resp.status_code}")
        self.username = username

    def post(self, path: str, name: str, **kw: object):
        # Accept as requests sent it (FastHttpUser says application/json for a JSON body).
        headers = {"X-CSRFToken": self.cookie("csrftoken"), "HX-Request": "true", "Accept": "*/*"}
        return self.client.post(path, name=name, headers=headers, **kw)


class Packer(Staff):
    wait_time = constant_pacing(1)
    fixed_count = int(os.environ.get("LOAD_PACKERS", "20"))
    pair: int | None = None  # 0 or 1 for the two packers of one order

    def on_start(self) -> None:
        n = next(_packer_numbers)
        self.orders = iter(PLAN["packers"][n])
        self.login(PLAN["packer_names"][n])
        self.order: dict | None = None

    def take_next(self) -> bool:
        self.order = next(self.orders, None)
        if self.order is None:
            return False
        self.codes = list(self.order["codes"])
        if self.pair is not None:
            self.codes = self.codes[self.pair::2]
        self.client.get("/queue/", name="queue")
        resp = self.client.get(f"/orders/{self.order['id']}/", name="order screen")
        m = VERSION.search(resp.text)
        self.version = int(m.group(1)) if m else None
        return True

    @task
    def work(self) -> None:
        if self.order is None and not self.take_next():
            return
        assert self.order is not None
        if not self.codes:
            self.finish()
            self.order = None
            return
        self.scan(self.codes.pop(0))

    def scan(self, code: str) -> None:
        scan_id = str(uuid.uuid4())
        body = {"scans": [{"id": scan_id, "code": code}], "version": self.version}
        # Sent first: a scan still in flight when the run stops may be applied without its answer arriving.
        SCANS.write(json.dumps({"id": scan_id, "order": self.order["id"], "code": code, "sent": True}) + "\n")
        with self.post(f"/orders/{self.order['id']}/scan/", "scan", json=body, catch_response=True) as resp:
            state = (STATE.search(resp.text) or [None, ""])[1] if resp.status_code == 200 else ""
            m = VERSION.search(resp.text or "")
            if m:
                self.version = int(m.group(1))
            if resp.status_code != 200:
                resp.failure(f"scan answered {resp.status_code}")
        SCANS.write(json.dumps({"id": scan_id, "order": self.order["id"], "code": code, "status": resp.status_code,
                                "state": state, "user": self.username}) + "\n")

    def finish(self) -> None:
        order_id = self.order["id"]
        for action in ("finish", "ready"):
            with self.post(f"/orders/{order_id}/{action}/", action, catch_response=True) as resp:
                if resp.status_code >= 400:
                    resp.failure(f"{action} answered {resp.status_code}")


class PairPacker(Packer):
    fixed_count = 2

    def on_start(self) -> None:
        self.pair = next(_pair_numbers) % 2
        self.orders = iter(PLAN["pair"])
        self.login(PLAN["pair_names"][self.pair])
        self.order = None

    def finish(self) -> None:
        # Only the second of the two finishes; the first goes straight to the next shared order.
        if self.pair == 1:
            super().finish()


class Supervisor(Staff):
    wait_time = constant_pacing(3)
    fixed_count = 2

    def on_start(self) -> None:
        self.login(PLAN["supervisor_names"][next(_supervisor_numbers) % len(PLAN["supervisor_names"])])

    @task(3)
    def overview(self) -> None:
        self.client.get("/supervisor/", name="supervisor")

    @task(3)
    def queue(self) -> None:
        path = random.choice(["/queue/", "/queue/?status=PROCESSING/READY_TO_SHIP", "/queue/?page=2",
                              f"/queue/?q={random.choice(PLAN['market_ids'])}"])
        self.client.get(path, name="queue")

    @task(2)
    def order(self) -> None:
        order_id = random.choice(PLAN["order_ids"])
        self.client.get(random.choice([f"/orders/{order_id}/", f"/supervisor/orders/{order_id}/"]),
                        name="order (supervisor)")
