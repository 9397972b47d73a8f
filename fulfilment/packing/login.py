"""Login throttling (django-axes): an account is locked after repeated wrong passwords, a warehouse never.

Packers share one NAT address, so the lock is keyed by username alone (``AXES_LOCKOUT_PARAMETERS``);
the client address, read behind the trusted proxies only (``fulfilment.client_ip``), is recorded
with each attempt for the admin. A locked-out user sees the login page again with a message that
says why and what to do, answered with 429 rather than a bare 403.
"""

from __future__ import annotations

from axes.utils import reset
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

LOCKED_OUT = "locked_out"


def cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    minutes = cooloff_minutes()
    return ngettext(
        "Too many wrong passwords for this account. Try again in %(minutes)d minute, "
        "or ask an administrator to unlock it.",
        "Too many wrong passwords for this account. Try again in %(minutes)d minutes, "
        "or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


class LockoutMessageMixin:
    """Says "locked" instead of "wrong password" when axes refused the attempt."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> forms.ValidationError:
        if getattr(self.request, "axes_locked_out", False):
            return forms.ValidationError(lockout_message(), code=LOCKED_OUT)
        return super().get_invalid_login_error()  # type: ignore[misc]

    @property
    def locked_out(self) -> bool:
        return self.has_error(forms.forms.NON_FIELD_ERRORS, LOCKED_OUT)  # type: ignore[attr-defined]


class LoginForm(LockoutMessageMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
                     ) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: keep the login page the view rendered (it carries the message), as a 429."""
    if original_response is None:
        return HttpResponse(lockout_message(), status=429)
    original_response.status_code = 429
    return original_response


def unlock(usernames: list[str]) -> int:
    """Forget the failed attempts of these accounts, so they can log in at once; the attempts removed."""
    return sum(reset(username=name) for name in set(usernames))
