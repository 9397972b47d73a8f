"""A real Celery worker process for integration tests, on the test database and its own queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from fulfilment.celery import app

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


class Worker:
    """``with Worker() as w: ... w.kill() ... w.start()`` — tasks sent meanwhile go to its queue."""

    def __init__(self, concurrency: int = 2, env: dict[str, str] | None = None) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency
        self.env = env or {}  # e.g. another broker than the suite's
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(settings.VAR_DIR) / f"worker-{self.queue}.log"
        self._previous_queue = app.conf.task_default_queue

    def __enter__(self) -> Worker:
        app.conf.task_default_queue = self.queue
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        app.conf.task_default_queue = self._previous_queue

    def start(self) -> None:
        env = dict(os.environ)
        env.update({"DATABASE_URL": test_database_url(), "CELERY_QUEUE": self.queue, "PYTHONUNBUFFERED": "1",
                    **self.env})
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "fulfilment", "worker", "--loglevel", "INFO", "-Q", self.queue,
                 "--concurrency", str(self.concurrency), "--hostname", f"{self.queue}@%h", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--include", "tests.tasks"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.tail()}")
            if b" ready." in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker did not start: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no cleanup of any kind."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.write_bytes(self.log.read_bytes().replace(b" ready.", b" (killed)"))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


def wait_for(condition, timeout: float, what: str, worker: Worker | None = None, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None and worker.proc is not None and not worker.alive():
            raise AssertionError(f"the worker died waiting for {what}\n--- worker log ---\n{worker.tail()}")
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n--- worker log ---\n{worker.tail()}" if worker else ""))
