"""Django's ModelBackend, with the user's roles read in the same query as the user.

Every request loads its user from the session; the views then ask for the roles (packer,
supervisor). Read apart, that is one more query per request before the view does anything.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, QuerySet

from .roles import ROLES, remember_roles


@cache
def _users_with_roles() -> QuerySet:
    """Built once: resolving the annotations costs more Python than running the query. Each request
    clones it (``get``), so the shared one is never evaluated or changed."""
    flags = {f"has_role_{r}": Exists(Group.objects.filter(user=OuterRef("pk"), name=r)) for r in ROLES}
    return get_user_model()._default_manager.annotate(**flags)


class RolesBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = _users_with_roles().get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        remember_roles(user, {r for r in ROLES if getattr(user, f"has_role_{r}")})
        return user if self.user_can_authenticate(user) else None
