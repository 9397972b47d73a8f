"""When to run a task again: a countdown the broker can keep, with a little jitter.

Redis (and the embedded broker) hand an unacknowledged message to another worker after the
visibility timeout, and a task waiting for its countdown is unacknowledged all that time: a
countdown longer than the timeout would run the task again and again before its time. So a long
wait (an hourly limit of the Market's: up to an hour) is cut to half the timeout; the task comes
back early, finds its row not yet due and ends, and the periodic sweep sends it once it is due.
"""

from __future__ import annotations

import random

from django.conf import settings

JITTER = 0.1  # up to 10 % later, so that many retries of one moment do not all come back together


def countdown(wait: float) -> float:
    """Seconds to hand to ``apply_async(countdown=...)`` for a wait of ``wait`` seconds."""
    cap = settings.CELERY_VISIBILITY_TIMEOUT / 2
    return min(cap, max(0.0, wait) * (1 + random.uniform(0, JITTER)))  # noqa: S311 - spreading, not secrecy
