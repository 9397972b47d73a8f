"""Named locks that die with their holder, so a killed worker never leaves a sync locked.

PostgreSQL: a session advisory lock (released when the connection closes). SQLite, the embedded
single-machine default: an flock on a file beside the database (released when the process exits).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

# Session locks taken and not yet released in this process. The worker keeps its connection
# from task to task (fulfilment/task_connections.py): one a task left a lock in is closed after it.
_held: set[int] = set()


def forget_held() -> bool:
    """True when a session lock was left taken (its release never ran); forgets them."""
    left = bool(_held)
    _held.clear()
    return left


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def try_lock(name: str) -> Iterator[bool]:
    """``with try_lock("sync:3") as got:`` — ``got`` is False when someone else holds it."""
    if connection.vendor == "postgresql":
        key = _key(name)
        _held.add(key)  # before asking: an interruption in between still has the connection closed
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = bool(cur.fetchone()[0])
        if not got:
            _held.discard(key)
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", [key])
                _held.discard(key)
        return
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{hashlib.sha1(name.encode()).hexdigest()}.lock", os.O_CREAT | os.O_RDWR, 0o600)  # noqa: S324
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            got = True
        except BlockingIOError:
            got = False
        try:
            yield got
        finally:
            if got:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
