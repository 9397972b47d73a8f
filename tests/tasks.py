"""A task for broker tests, loaded by the test worker (``--include tests.tasks``): it leaves a trace."""

from __future__ import annotations

import os
import time

from fulfilment.celery import app


@app.task(acks_late=True, ignore_result=True)
def record_task(path: str, n: int, sleep: float = 0.0) -> None:
    """Append ``n`` to the file at ``path``, one line per execution (O_APPEND: whole lines across processes)."""
    if sleep:
        time.sleep(sleep)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{n}\n".encode())
    finally:
        os.close(fd)


def recorded(path: str) -> list[int]:
    """Every execution recorded so far, in order."""
    try:
        with open(path) as f:
            return [int(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
