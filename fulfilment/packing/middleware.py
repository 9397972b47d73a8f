"""The interface language each user chose (Russian unless they chose English), on every device."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .models import StaffSettings

SESSION_KEY = "staff_language"


def user_language(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    lang = request.session.get(SESSION_KEY)
    if lang is None:  # once per session: the choice is kept in the database, per user
        lang = (StaffSettings.objects.filter(user=user).values_list("language", flat=True).first()
                or settings.LANGUAGE_CODE)
        request.session[SESSION_KEY] = lang
    return lang


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Before logging in (the login page): Russian unless this browser chose English, whatever
        # language the browser itself asks for; a workstation's English Chromium must not decide.
        lang = user_language(request) or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        if lang and lang in dict(settings.LANGUAGES):
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        if lang:
            response.headers.setdefault("Content-Language", lang)
        return response
