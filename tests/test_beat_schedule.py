"""Every task the beat schedules is one a worker knows by that name (a wrong name is dropped by
the worker as unregistered, silently for the schedule)."""

from __future__ import annotations

from django.conf import settings

from fulfilment.celery import app


def test_every_scheduled_task_is_registered_under_its_name():
    app.loader.import_default_modules()  # what a worker imports at start (autodiscovery)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - set(app.tasks) == set()
