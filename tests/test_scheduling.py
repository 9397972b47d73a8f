"""Countdowns and time limits the broker can keep: below its visibility timeout, with jitter."""

from django.conf import settings

from fulfilment.celery import app
from fulfilment.orders.scheduling import JITTER, countdown


def test_a_long_wait_is_cut_below_the_visibility_timeout():
    # An hourly limit of the Market's can ask for up to an hour; the broker would redeliver first.
    assert countdown(3600) == settings.CELERY_VISIBILITY_TIMEOUT / 2
    assert countdown(settings.CELERY_VISIBILITY_TIMEOUT * 10) < settings.CELERY_VISIBILITY_TIMEOUT


def test_a_short_wait_keeps_its_length_with_a_little_jitter():
    waits = [countdown(10) for _ in range(200)]
    assert all(10 <= w <= 10 * (1 + JITTER) for w in waits)
    assert len(set(waits)) > 1  # spread, not all at once
    assert countdown(-5) == 0


def test_a_task_is_stopped_before_the_broker_hands_it_to_another_worker():
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < settings.CELERY_VISIBILITY_TIMEOUT
    assert app.conf.broker_transport_options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
