"""The interface language each user chose (Russian unless they chose English), on every device."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

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


_chosen: dict[tuple[str | None, str], str] = {}  # (language cookie, Accept-Language) -> language


def _forget(**_: object) -> None:
    _chosen.clear()


setting_changed.connect(_forget)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's, the same answer made cheaper when no URL carries a language (no i18n_patterns): then the
    language depends on the cookie and Accept-Language only, so it is looked up once per pair, and the path
    is not parsed for a language twice a request (each a LookupError raised and caught: "orders" is none)."""

    def process_request(self, request: HttpRequest) -> None:
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_request(request)
        key = (request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME), request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        language = _chosen.get(key)
        if language is None:
            language = translation.get_language_from_request(request, check_path=False)
            if len(_chosen) < 1000:  # what browsers send is a handful of values; a flood is not kept
                _chosen[key] = language
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
