"""The worker's database connection, kept from task to task as Django keeps it from request to request.

Celery's Django fixup closes every connection before and after each task unless ``CELERY_DB_REUSE_MAX``
is set: a new PostgreSQL connection (and a new server process) for each outbox action, about a tenth
of the worker's py-spy samples (bench/worker_bench.py --spy; the saving did not show beyond that
benchmark's noise, and the server process's CPU is PostgreSQL's). With it set (settings), these
handlers do what Django does around a request instead: a connection is closed when it is unusable or
older than CONN_MAX_AGE, and whenever a task ends still holding a session lock (``orders.locks``), so
that a lock never outlives its task.
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections, connections


def _eager(sender: Any) -> bool:
    # An eager task runs inside its caller (a test's transaction): its connection is not the task's.
    return bool(getattr(getattr(sender, "request", None), "is_eager", False))


def task_started(sender: Any = None, **_: Any) -> None:
    """celery's task_prerun."""
    if not _eager(sender):
        close_old_connections()


def task_finished(sender: Any = None, **_: Any) -> None:
    """celery's task_postrun."""
    if _eager(sender):
        return
    # Imported when a task ends, not with the Celery app: the sandbox imports the package (and so the
    # app) and must load nothing of the dashboard's orders (test_sandbox_notifications).
    from fulfilment.orders import locks

    if locks.forget_held():
        for conn in connections.all(initialized_only=True):
            conn.close()
    close_old_connections()
