"""The user and its roles come from Redis between requests (accounts/backends.py), and whatever
changes them takes effect from the next request: deactivation, a role removed from either side, a
group renamed or deleted, a new password."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .builders import make_linked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def screen(client, packer, cached_sessions):
    """A packer's live poll of an order screen, answered once (the user is cached from now on)."""
    url = f"/orders/{make_linked_order().pk}/live/"
    client.force_login(packer)
    assert client.get(url).status_code == 200
    return url


def user_reads(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(url).status_code
    return status, len([q for q in ctx.captured_queries if 'FROM "auth_user"' in q["sql"]])


def test_the_user_is_read_from_the_cache_after_the_first_request(client, screen):
    assert user_reads(client, screen) == (200, 0)


def test_a_deactivated_user_is_refused_from_the_next_request(client, packer, screen):
    packer.is_active = False
    packer.save()
    assert client.get(screen).status_code in (302, 401)


@pytest.mark.parametrize("remove", [
    lambda user, group: user.groups.remove(group),
    lambda user, group: user.groups.clear(),
    lambda user, group: group.user_set.remove(user),
    lambda user, group: group.user_set.clear(),
    lambda user, group: user.groups.set([]),
    lambda user, group: setattr(group, "name", "former packers") or group.save(),
    lambda user, group: group.delete(),
], ids=["user.remove", "user.clear", "group.remove", "group.clear", "user.set", "renamed", "deleted"])
def test_a_role_taken_away_is_refused_from_the_next_request(client, packer, screen, remove):
    remove(packer, Group.objects.get(name="packer"))
    assert user_reads(client, screen) == (403, 1)


def test_a_role_given_counts_from_the_next_request(client, outsider, cached_sessions):
    url = f"/orders/{make_linked_order().pk}/live/"
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.get(url).status_code == 403  # from the cache now
    outsider.groups.add(Group.objects.get(name="packer"))
    assert client.get(url).status_code == 200


def test_a_new_password_logs_the_old_sessions_out(client, packer, screen):
    packer.set_password("a new one, long enough 1")
    packer.save()
    assert client.get(screen).status_code in (302, 401)


def test_without_redis_the_user_is_read_on_every_request(client, packer, settings):
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    url = f"/orders/{make_linked_order().pk}/live/"
    client.force_login(packer)
    client.get(url)
    assert user_reads(client, url) == (200, 1)
