"""The Celery application: configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun

from fulfilment import task_connections
from fulfilment.request_ids import task_finished, task_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")

app = Celery("fulfilment")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task's log lines carry its id, as a request's carry the request id.
task_prerun.connect(task_started, weak=False)
task_postrun.connect(task_finished, weak=False)
# The database connection is kept between tasks (CELERY_DB_REUSE_MAX), closed as Django would close it.
task_prerun.connect(task_connections.task_started, weak=False)
task_postrun.connect(task_connections.task_finished, weak=False)


@beat_init.connect(weak=False)
def first_passes(sender: object = None, **kwargs: object) -> None:
    """An interval task first runs one interval after the beat starts: the returns' pass (every few
    minutes) would leave the Returns screen empty that long after a start. Sent once at start instead."""
    app.send_task("fulfilment.orders.tasks.sync_all_returns_task")
