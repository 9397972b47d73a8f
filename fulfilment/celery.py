"""The Celery application: configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from fulfilment.request_ids import task_finished, task_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")

app = Celery("fulfilment")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task's log lines carry its id, as a request's carry the request id.
task_prerun.connect(task_started, weak=False)
task_postrun.connect(task_finished, weak=False)
