"""Sessions read from Redis, written to the database as well (Django's ``cached_db``), and still
answered from the database when Redis does not answer.

Every logged-in request reads its session; from the database that was one query per request before
the view did anything. With Redis (production, CI) it is read from the cache; every change is still
written to the database first, so a login survives a restart of the web server or of Redis, and a
session Redis lost is read from the database again and put back. ``settings.py`` chooses this
engine only when there is a Redis to share: each process's own memory would be a cache of its own,
and a logout in one gunicorn worker would leave the session alive in the others.

What logs a user out still does, cache or not: logging out deletes the row and the cached copy
(Django's ``delete``); a session row deleted through Django (a shell, ``clearsessions``, a test)
takes its cached copy with it (``forget_deleted``, connected in ``fulfilment/apps.py``); a
deactivated user or a changed password is checked on the user's row, read on every request. Only a
row deleted in SQL by hand lives on in the cache until it expires.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    def load(self) -> dict[str, Any]:
        # Django's falls back to the database when the cache's read fails, but not when putting
        # what it read back fails: Redis down would refuse every request.
        try:
            return super().load()
        except RedisError as exc:
            logger.warning("sessions: Redis did not answer (%s); read from the database", exc)
            return DBStore.load(self)


def forget_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    """A session row deleted by the ORM (one or a queryset's) ends the session: its cached copy goes too."""
    from django.core.cache import cache

    cache.delete(CachedDBStore.cache_key_prefix + instance.session_key)
