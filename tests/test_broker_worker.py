"""The embedded broker under a real Celery worker: broken message files, a killed worker, a burst of producers."""

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from .tasks import record_task, recorded
from .worker import ROOT, Worker, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("filesystem://"),
                       reason="the embedded broker only (CI runs Redis)"),
]


def folder(name: str) -> Path:
    return Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[name])


def message_files(queue: str, where: str = "data_folder_in") -> list[Path]:
    return sorted(folder(where).glob(f"*.{queue}.msg"))


def test_a_worker_survives_empty_and_half_written_message_files_and_runs_the_rest(tmp_path):
    trace = str(tmp_path / "trace")
    # A real message, held on a queue nobody consumes, to be written out by halves below.
    holding = f"holding-{uuid.uuid4().hex[:8]}"
    record_task.apply_async((trace, 999), queue=holding)
    (held,) = message_files(holding)
    body = held.read_bytes()
    held.unlink()
    with Worker() as worker:
        queue_dir = folder("data_folder_in")
        stamp = int(time.monotonic() * 1000)
        # What kombu's own writer leaves visible between open() and write(): an empty file, then a part.
        empty = queue_dir / f"{stamp}_{uuid.uuid4()}.{worker.queue}.msg"
        empty.touch()
        os.utime(empty, (time.time() - 3600, time.time() - 3600))  # long dead: it will never be completed
        partial = queue_dir / f"{stamp + 1}_{uuid.uuid4()}.{worker.queue}.msg"
        partial.write_bytes(body[: len(body) // 2])
        for n in range(20):
            record_task.delay(trace, n)

        wait_for(lambda: len(recorded(trace)) >= 20, 60, "the good messages", worker)
        assert worker.alive(), worker.tail()
        assert sorted(recorded(trace)) == list(range(20))
        # The long-dead empty file is kept aside, and said so; the young partial one waits in the queue.
        wait_for(lambda: (folder("malformed_folder") / empty.name).exists(), 30, "the empty file set aside", worker)
        assert "malformed" in worker.tail(20000) and empty.name in worker.tail(20000)
        assert [p.name for p in message_files(worker.queue)] == [partial.name]

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
    assert message_files(worker.queue) == [] and message_files(worker.queue, "processed_folder") == []


def test_a_task_taken_by_a_killed_worker_runs_on_the_next_one(tmp_path):
    trace = str(tmp_path / "trace")
    with Worker() as worker:
        record_task.delay(trace, 1, sleep=5)
        wait_for(lambda: re.search(r"record_task\[[^]]+\] received", worker.tail()), 30, "the task taken", worker)
        worker.kill()
        assert recorded(trace) == []
        worker.start()  # acks_late: the unacknowledged task comes back at once, its worker being dead
        wait_for(lambda: recorded(trace), 60, "the task run again", worker)
        time.sleep(0.5)
    assert recorded(trace) == [1]
    assert message_files(worker.queue, "processed_folder") == []


SOAK_TASKS = int(os.environ.get("SOAK_TASKS", 5000))
PRODUCERS = 5
THREADS = 4


def test_a_burst_of_producers_gets_every_task_run_exactly_once(tmp_path):
    trace = str(tmp_path / "trace")
    with Worker(concurrency=2) as worker:
        started = time.monotonic()
        per = SOAK_TASKS // PRODUCERS
        env = {**os.environ, "CELERY_QUEUE": worker.queue, "PYTHONUNBUFFERED": "1"}
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
    assert message_files(worker.queue) == [] and message_files(worker.queue, "processed_folder") == []
