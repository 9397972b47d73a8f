"""Sessions cached in Redis (production, CI) and kept in the database: what a logout, a lost cache and
Redis being down do to a logged-in packer."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_logging_out_ends_the_session_in_the_cache_as_well(client, packer, cached_sessions):
    client.force_login(packer)
    key = client.cookies["sessionid"].value
    assert client.get("/queue/").status_code == 200
    assert cache.get(KEY_PREFIX + key) is not None
    client.post("/logout/")
    assert cache.get(KEY_PREFIX + key) is None and not Session.objects.filter(session_key=key).exists()
    client.cookies["sessionid"] = key  # the old cookie, kept by a browser
    assert client.get("/queue/").status_code == 302


def test_a_session_the_cache_lost_is_read_from_the_database_and_cached_again(client, packer, cached_sessions):
    client.force_login(packer)
    key = client.cookies["sessionid"].value
    assert client.get("/queue/").status_code == 200
    cache.delete(KEY_PREFIX + key)  # Redis restarted without its data
    assert client.get("/queue/").status_code == 200
    assert cache.get(KEY_PREFIX + key) is not None


def test_redis_down_the_session_is_read_from_the_database(client, packer, cached_sessions, settings):
    client.force_login(packer)
    settings.CACHES = {**settings.CACHES, "default": settings.CACHES["default"] | {"LOCATION": "redis://127.0.0.1:9/0"}}
    response = client.get("/queue/")
    assert response.status_code == 200
    assert response.wsgi_request.user == packer


def test_a_session_row_deleted_through_django_ends_the_cached_session(client, packer, cached_sessions):
    client.force_login(packer)
    key = client.cookies["sessionid"].value
    assert client.get("/queue/").status_code == 200
    Session.objects.filter(session_key=key).delete()  # a shell, clearsessions
    assert cache.get(KEY_PREFIX + key) is None
    assert client.get("/queue/").status_code == 302
