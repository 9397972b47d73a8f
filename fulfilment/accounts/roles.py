"""Staff roles (packer, supervisor). Groups are created by a data migration of packing; superusers administer."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

PACKER = "packer"
SUPERVISOR = "supervisor"
ROLES = (PACKER, SUPERVISOR)


def _groups(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        user._role_names = cached  # type: ignore[union-attr]
    return cached


def remember_roles(user: AbstractBaseUser, names: set[str]) -> None:
    """The roles read with the user (``accounts.backends``): no query of their own afterwards."""
    user._role_names = names  # type: ignore[attr-defined]


def is_supervisor(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) or SUPERVISOR in _groups(user)


def is_packer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Anyone who may pack: packers, supervisors and superusers."""
    return is_supervisor(user) or PACKER in _groups(user)


def context(request: object) -> dict[str, object]:
    """Templates show what the user's role allows (the views enforce it)."""
    user = getattr(request, "user", None)
    return {"is_supervisor": bool(user is not None and is_supervisor(user))}
