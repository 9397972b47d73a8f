"""The worker keeps its database connection from task to task, and closes one a task left a lock in."""

from types import SimpleNamespace

import pytest
from django.db import connection

from fulfilment import task_connections
from fulfilment.orders import locks

pytestmark = pytest.mark.django_db(transaction=True)
WORKER_TASK = SimpleNamespace(request=SimpleNamespace(is_eager=False))


def _lock_free_elsewhere(name: str) -> bool:
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
                         port=settings["PORT"] or 5432, password=settings["PASSWORD"] or None) as other:
        got = other.execute("SELECT pg_try_advisory_lock(%s)", [locks._key(name)]).fetchone()[0]
        if got:
            other.execute("SELECT pg_advisory_unlock(%s)", [locks._key(name)])
        return bool(got)


def test_the_connection_is_kept_between_tasks():
    task_connections.task_started(sender=WORKER_TASK)
    connection.ensure_connection()
    before = connection.connection
    task_connections.task_finished(sender=WORKER_TASK)
    task_connections.task_started(sender=WORKER_TASK)
    assert connection.connection is before


def test_a_lock_left_taken_by_a_task_dies_with_the_task():
    if connection.vendor != "postgresql":
        pytest.skip("a session advisory lock: PostgreSQL")
    lock = locks.try_lock("sync-business:test")
    assert lock.__enter__() is True  # and never left: the release does not run
    assert not _lock_free_elsewhere("sync-business:test")
    task_connections.task_finished(sender=WORKER_TASK)
    assert connection.connection is None
    assert _lock_free_elsewhere("sync-business:test")


def test_a_released_lock_leaves_the_connection_open():
    with locks.try_lock("sync-business:test") as got:
        assert got
    connection.ensure_connection()
    before = connection.connection
    task_connections.task_finished(sender=WORKER_TASK)
    assert connection.connection is before
