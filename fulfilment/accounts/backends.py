"""Django's ModelBackend, with the user's roles read in the same query as the user, and the pair kept
in the shared cache (Redis) between requests.

Every request loads its user from the session; the views then ask for the roles (packer,
supervisor). Read apart, that is one more query per request before the view does anything; read
together, still one query per request (8 % of the web's CPU at 60 packers, issue 20). With Redis,
the user and roles come from the cache, and whatever changes them drops the cached copy at once and
again when its transaction commits (``forget_user``: the user's row saved or deleted, a group added
or removed, a group renamed or deleted), so deactivating a user, removing a role or changing a
password takes effect from the next request. Only a change made in SQL by hand (or a queryset's
``update()``, which sends no signal) waits for ``CACHE_SECONDS``. Without Redis nothing is cached:
each process's own memory would keep a user another process deactivated.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from redis.exceptions import RedisError

from .roles import ROLES, remember_roles

CACHE_SECONDS = 300


@cache
def _users_with_roles() -> QuerySet:
    """Built once: resolving the annotations costs more Python than running the query. Each request
    clones it (``get``), so the shared one is never evaluated or changed."""
    flags = {f"has_role_{r}": Exists(Group.objects.filter(user=OuterRef("pk"), name=r)) for r in ROLES}
    return get_user_model()._default_manager.annotate(**flags)


def _shared() -> bool:
    return isinstance(caches["default"], RedisCache)


def _key(user_id: Any) -> str:
    # The database too: a test database, or one restored, may give the same pk to another user.
    return f"auth-user:{settings.DATABASES['default']['NAME']}:{user_id}"


def _read(user_id: Any) -> Any:
    user_model = get_user_model()
    try:
        user = _users_with_roles().get(pk=user_id)
    except user_model.DoesNotExist:
        return None
    remember_roles(user, {r for r in ROLES if getattr(user, f"has_role_{r}")})
    return user


class RolesBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = None
        if _shared():
            try:
                user = caches["default"].get(_key(user_id))
            except RedisError:
                user = None
        if user is None:
            user = _read(user_id)
            if user is None:
                return None
            if _shared():
                with suppress(RedisError):
                    caches["default"].set(_key(user_id), user, CACHE_SECONDS)
        return user if self.user_can_authenticate(user) else None


def forget(user_ids: Iterable[Any]) -> None:
    """Drop the cached users now, and again once the change is committed: a request that read the old row
    in between (before the commit) may have put it back."""
    keys = [_key(pk) for pk in user_ids]
    if not keys or not _shared():
        return

    def drop() -> None:
        with suppress(RedisError):  # else the copy lives CACHE_SECONDS at most
            caches["default"].delete_many(keys)

    drop()
    transaction.on_commit(drop)


def forget_user(sender: type, instance: Any, **kwargs: Any) -> None:
    """post_save / post_delete of a user."""
    forget([instance.pk])


def forget_members(sender: type, instance: Group, **kwargs: Any) -> None:
    """post_save / pre_delete of a group: a rename or a deletion changes its members' roles."""
    if instance.pk is not None:
        forget(instance.user_set.values_list("pk", flat=True))


def forget_membership(sender: type, instance: Any, action: str, reverse: bool, pk_set: set | None,
                      **kwargs: Any) -> None:
    """m2m_changed of ``User.groups``, from either side (``user.groups.add``, ``group.user_set.clear``)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        forget([instance.pk])
    elif action == "pre_clear":
        forget(instance.user_set.values_list("pk", flat=True))
    else:
        forget(pk_set or ())
