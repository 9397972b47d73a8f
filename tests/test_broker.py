"""The embedded broker's transport (fulfilment/broker.py) through kombu, on folders of its own."""

import logging
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from fulfilment.broker import TAKEN_SEP, Transport

FOLDERS = {"data_folder_in": "queue", "data_folder_out": "queue", "processed_folder": "processed",
           "malformed_folder": "malformed", "control_folder": "control"}


@pytest.fixture
def broker(tmp_path: Path):
    for sub in set(FOLDERS.values()):
        (tmp_path / sub).mkdir()
    options = {key: str(tmp_path / sub) for key, sub in FOLDERS.items()} | {"visibility_timeout": 60}

    def connect() -> Connection:
        return Connection("filesystem://", transport=Transport, transport_options=options)

    connect.path = tmp_path  # type: ignore[attr-defined]
    return connect


def files(broker, sub: str) -> list[str]:
    return sorted(os.listdir(broker.path / sub))


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_reader_never_sees_a_message_file_before_it_is_whole(broker):
    seen, broken, done = 0, [], threading.Event()
    queue_dir = broker.path / "queue"

    def read() -> None:
        nonlocal seen
        while not done.is_set():
            for name in os.listdir(queue_dir):
                if name.endswith(".msg"):
                    try:
                        data = (queue_dir / name).read_bytes()
                    except FileNotFoundError:
                        continue
                    seen += 1
                    if not data.endswith(b"}"):
                        broken.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with broker() as conn:
            q = conn.SimpleQueue("race")
            for n in range(1000):
                q.put({"n": n, "pad": "x" * 2000})
                if n % 50 == 0:
                    q.clear()
    finally:
        done.set()
        reader.join()
    assert seen > 100
    assert broken == []
    assert not [n for n in files(broker, "queue") if n.endswith(".part")]


def test_an_acknowledged_message_leaves_nothing_behind(broker):
    with broker() as conn:
        q = conn.SimpleQueue("acks")
        q.put({"n": 1})
        message = q.get(timeout=1)
        assert message.payload == {"n": 1}
        assert [n.partition(TAKEN_SEP)[0] for n in files(broker, "processed")] == [str(os.getpid())]
        message.ack()
        assert files(broker, "processed") == [] and files(broker, "queue") == []


def test_an_unacknowledged_message_goes_back_to_the_queue_when_its_consumer_closes(broker):
    with broker() as conn:
        q = conn.SimpleQueue("late")
        q.put({"n": 1})
        assert q.get(timeout=1).payload == {"n": 1}
        q.close()
    assert files(broker, "processed") == []
    with broker() as conn:
        q = conn.SimpleQueue("late")
        message = q.get(timeout=1)
        assert message.payload == {"n": 1}
        message.ack()
        with pytest.raises(q.Empty):
            q.get(timeout=0.2)
    assert files(broker, "processed") == [] and files(broker, "queue") == []


def test_a_rejected_message_with_requeue_comes_back_once(broker):
    with broker() as conn:
        q = conn.SimpleQueue("again")
        q.put({"n": 1})
        q.get(timeout=1).requeue()
        assert files(broker, "processed") == []
        q.get(timeout=1).ack()
        with pytest.raises(q.Empty):
            q.get(timeout=0.2)
    assert files(broker, "processed") == [] and files(broker, "queue") == []


def test_what_a_dead_process_had_taken_goes_back_and_a_live_ones_waits_for_the_visibility_timeout(broker):
    queue_dir, processed = broker.path / "queue", broker.path / "processed"
    with broker() as conn:
        q = conn.SimpleQueue("held")
        for n in range(3):
            q.put({"n": n})
            time.sleep(0.002)  # names start with the millisecond: keep them in order
        first, second, third = files(broker, "queue")
        # Taken by a process that is gone, by a live one just now, and by a live one two minutes ago.
        os.rename(queue_dir / first, processed / f"{dead_pid()}{TAKEN_SEP}{first}")
        os.rename(queue_dir / second, processed / f"{os.getppid()}{TAKEN_SEP}{second}")
        os.rename(queue_dir / third, processed / f"{os.getppid()}{TAKEN_SEP}{third}")
        os.utime(processed / f"{os.getppid()}{TAKEN_SEP}{third}", (time.time() - 120, time.time() - 120))

        assert conn.default_channel.recover() == 2
        assert files(broker, "processed") == [f"{os.getppid()}{TAKEN_SEP}{second}"]
        assert files(broker, "queue") == [first, third]
        got = []
        for _ in range(2):
            message = q.get(timeout=1)
            got.append(message.payload["n"])
            message.ack()
        assert got == [0, 2]


def test_a_file_that_does_not_parse_is_retried_then_set_aside_and_logged(broker, caplog):
    queue_dir = broker.path / "queue"
    stamp = int(time.monotonic() * 1000)
    young = queue_dir / f"{stamp}_{uuid.uuid4()}.bad.msg"
    young.write_bytes(b'{"body": "eyJ')
    old = queue_dir / f"{stamp + 1}_{uuid.uuid4()}.bad.msg"
    old.touch()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    with broker() as conn, caplog.at_level(logging.ERROR, logger="fulfilment.broker"):
        q = conn.SimpleQueue("bad")
        q.put({"n": 1})
        message = q.get(timeout=1)
        assert message.payload == {"n": 1}
        message.ack()
        with pytest.raises(q.Empty):
            q.get(timeout=0.2)
    assert files(broker, "queue") == [young.name]
    assert files(broker, "malformed") == [old.name]
    assert files(broker, "processed") == []
    assert old.name in caplog.text and "malformed" in caplog.text
