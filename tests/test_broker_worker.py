"""The embedded broker under a real Celery worker: broken message files, a killed worker, a burst of producers.

They run on the embedded broker whatever the suite's broker is, so CI (Redis) runs them too.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from fulfilment.broker import Transport

from .tasks import record_task, recorded
from .worker import ROOT, Worker, wait_for

pytestmark = pytest.mark.integration


class Embedded:
    """The embedded broker in a var/ folder of its own, whatever broker the suite runs on (CI: Redis)."""

    def __init__(self, var: Path) -> None:
        self.env = {"CELERY_BROKER_URL": "filesystem://", "FULFILMENT_VAR_DIR": str(var)}
        celery = var / "celery"
        self.queue_dir, self.processed, self.malformed = celery / "queue", celery / "processed", celery / "malformed"
        options = {"data_folder_in": str(self.queue_dir), "data_folder_out": str(self.queue_dir),
                   "processed_folder": str(self.processed), "malformed_folder": str(self.malformed),
                   "control_folder": str(celery / "control")}
        for folder in options.values():
            Path(folder).mkdir(parents=True, exist_ok=True)
        self.connection = Connection("filesystem://", transport=Transport, transport_options=options)

    def send(self, queue: str, *args: object, **kwargs: object) -> None:
        """record_task(*args, **kwargs) onto ``queue``, declared (as a worker consuming it would)."""
        record_task.apply_async(args, kwargs, queue=queue, connection=self.connection,
                                declare=[Queue(queue, Exchange(queue), routing_key=queue)])

    def files(self, queue: str, folder: Path | None = None) -> list[Path]:
        return sorted((folder or self.queue_dir).glob(f"*.{queue}.msg"))


@pytest.fixture
def embedded(tmp_path):
    broker = Embedded(tmp_path / "var")
    yield broker
    broker.connection.release()


def test_a_worker_survives_empty_and_half_written_message_files_and_runs_the_rest(tmp_path, embedded):
    trace = str(tmp_path / "trace")
    # A real message, held on a queue nobody consumes, to be written out by halves below.
    embedded.send("holding", trace, 999)
    (held,) = embedded.files("holding")
    body = held.read_bytes()
    held.unlink()
    with Worker(env=embedded.env) as worker:
        queue_dir = embedded.queue_dir
        stamp = int(time.monotonic() * 1000)
        # What kombu's own writer leaves visible between open() and write(): an empty file, then a part.
        empty = queue_dir / f"{stamp}_{uuid.uuid4()}.{worker.queue}.msg"
        empty.touch()
        os.utime(empty, (time.time() - 3600, time.time() - 3600))  # long dead: it will never be completed
        partial = queue_dir / f"{stamp + 1}_{uuid.uuid4()}.{worker.queue}.msg"
        partial.write_bytes(body[: len(body) // 2])
        for n in range(20):
            embedded.send(worker.queue, trace, n)

        wait_for(lambda: len(recorded(trace)) >= 20, 60, "the good messages", worker)
        assert worker.alive(), worker.tail()
        assert sorted(recorded(trace)) == list(range(20))
        # The long-dead empty file is kept aside, and said so; the young partial one waits in the queue.
        wait_for(lambda: (embedded.malformed / empty.name).exists(), 30, "the empty file set aside", worker)
        assert "malformed" in worker.tail(20000) and empty.name in worker.tail(20000)
        # (the worker looks at it again every poll, so for an instant it may be out of the folder)
        wait_for(lambda: [p.name for p in embedded.files(worker.queue)] == [partial.name], 5,
                 "the partial file back in the queue", worker, interval=0.01)

        # Its writer finishes: the message runs.
        deadline = time.monotonic() + 30
        while True:
            try:
                with partial.open("ab") as f:  # the worker may hold it for a moment; it puts it back
                    f.write(body[len(body) // 2:])
                break
            except FileNotFoundError:
                assert time.monotonic() < deadline, worker.tail()
                time.sleep(0.01)
        wait_for(lambda: 999 in recorded(trace), 30, "the completed message", worker)
        assert worker.alive(), worker.tail()
    assert Counter(recorded(trace)) == Counter([*range(20), 999])
    assert embedded.files(worker.queue) == [] and embedded.files(worker.queue, embedded.processed) == []


def test_a_task_taken_by_a_killed_worker_runs_on_the_next_one(tmp_path, embedded):
    trace = str(tmp_path / "trace")
    with Worker(env=embedded.env) as worker:
        embedded.send(worker.queue, trace, 1, sleep=5)
        wait_for(lambda: re.search(r"record_task\[[^]]+\] received", worker.tail()), 30, "the task taken", worker)
        worker.kill()
        assert recorded(trace) == []
        worker.start()  # acks_late: the unacknowledged task comes back at once, its worker being dead
        wait_for(lambda: recorded(trace), 60, "the task run again", worker)
        time.sleep(0.5)
    assert recorded(trace) == [1]
    assert embedded.files(worker.queue, embedded.processed) == []


SOAK_TASKS = int(os.environ.get("SOAK_TASKS", 5000))
PRODUCERS = 5
THREADS = 4


def test_a_burst_of_producers_gets_every_task_run_exactly_once(tmp_path, embedded):
    trace = str(tmp_path / "trace")
    with Worker(concurrency=2, env=embedded.env) as worker:
        started = time.monotonic()
        per = SOAK_TASKS // PRODUCERS
        env = {**os.environ, **embedded.env, "CELERY_QUEUE": worker.queue, "PYTHONUNBUFFERED": "1"}
        producers = [subprocess.Popen([sys.executable, "-m", "tests.produce", trace, str(i * per), str(per),
                                       str(THREADS)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT) for i in range(PRODUCERS)]
        for p in producers:
            out, _ = p.communicate(timeout=120)
            assert p.returncode == 0, out.decode(errors="replace")
        produced = time.monotonic()
        wait_for(lambda: len(recorded(trace)) >= SOAK_TASKS, 150, f"{SOAK_TASKS} tasks run", worker, interval=0.5)
        ran = time.monotonic()
        time.sleep(1)  # a duplicate, if any, would land now
        assert worker.alive(), worker.tail()
        print(f"soak: produced in {produced - started:.1f} s, all run in {ran - started:.1f} s")
    runs = Counter(recorded(trace))
    assert len(runs) == SOAK_TASKS and set(runs) == set(range(SOAK_TASKS))
    assert [n for n, times in runs.items() if times > 1] == []
    assert embedded.files(worker.queue) == [] and embedded.files(worker.queue, embedded.processed) == []
