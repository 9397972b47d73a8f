"""The project's own app: what every process does once Django is set up, not when settings are imported."""

import os
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from fulfilment.secret_key import weakness

# kombu's filesystem transport creates none of its folders but the control one, and that one without parents.
_FILESYSTEM_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "malformed_folder",
                              "control_folder")


class FulfilmentConfig(AppConfig):
    name = "fulfilment"

    def ready(self) -> None:
        make_runtime_folders()
        checks.register(check_secret_key, checks.Tags.security)
        checks.register(check_one_proxy_setting, checks.Tags.security)
        checks.register(check_storage_secret, checks.Tags.security)
        connect_user_cache()
        if settings.SESSION_ENGINE == "fulfilment.accounts.sessions":
            from django.contrib.sessions.models import Session
            from django.db.models.signals import post_delete

            # Here: models cannot be imported before the apps are ready.
            from fulfilment.accounts.sessions import forget_deleted

            post_delete.connect(forget_deleted, sender=Session, dispatch_uid="fulfilment.sessions.forget_deleted")


def connect_user_cache() -> None:
    """What changes a user or its roles drops its cached copy (``accounts/backends.py``)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

    # Here: models cannot be imported before the apps are ready.
    from fulfilment.accounts.backends import forget_members, forget_membership, forget_user

    user = get_user_model()
    for signal in (post_save, post_delete):
        signal.connect(forget_user, sender=user, dispatch_uid=f"fulfilment.user_cache.{signal is post_save}")
    post_save.connect(forget_members, sender=Group, dispatch_uid="fulfilment.user_cache.group_saved")
    pre_delete.connect(forget_members, sender=Group, dispatch_uid="fulfilment.user_cache.group_deleted")
    m2m_changed.connect(forget_membership, sender=user.groups.through, dispatch_uid="fulfilment.user_cache.groups")


def make_runtime_folders() -> None:
    """var/ (SQLite, locks, the embedded key) and the serverless broker's folders, when they are in use."""
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in _FILESYSTEM_BROKER_FOLDERS:
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


def secret_key_problem() -> str | None:
    """What is wrong with SECRET_KEY for a server with DEBUG off (the embedded key always passes)."""
    if settings.DEBUG:
        return None
    return weakness(str(settings.SECRET_KEY))


def check_secret_key(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """An error, not Django's deploy-only warning: migrate (the compose start) refuses a weak key too."""
    problem = secret_key_problem()
    return [checks.Error(problem, id="fulfilment.E001")] if problem else []


def refuse_weak_secret_key() -> None:
    """For the WSGI entry point: gunicorn runs no system checks, so it stops here instead."""
    problem = secret_key_problem()
    if problem:
        raise ImproperlyConfigured(problem)


def check_one_proxy_setting(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """FORWARDED_ALLOW_IPS was a second name for the proxies; a server configured by it alone would believe the
    scheme from one list and the client's address from another. Only TRUSTED_PROXIES is read now."""
    old = os.environ.get("FORWARDED_ALLOW_IPS", "").strip()
    if old and os.environ.get("TRUSTED_PROXIES", "").strip() != old:
        return [checks.Error(
            "FORWARDED_ALLOW_IPS is no longer read; the proxies are set by TRUSTED_PROXIES alone.",
            hint=f"Set TRUSTED_PROXIES={old} and remove FORWARDED_ALLOW_IPS.", id="fulfilment.E002")]
    return []


def check_storage_secret(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The photos' bucket with the template's secret is MinIO's root account with a published password."""
    options = settings.STORAGES["default"].get("OPTIONS") or {}
    secret = str(options.get("secret_key") or "")
    if settings.S3_BUCKET and (secret.startswith("CHANGE-ME") or len(secret) < 8):
        return [checks.Error(
            "S3_SECRET_ACCESS_KEY is the template's placeholder or shorter than 8 characters.",
            hint="Set it in docker/.env to python3 -c 'import secrets; print(secrets.token_urlsafe(30))'.",
            id="fulfilment.E003")]
    return []
