"""Query and form parameters no browser form sends and no column can store: a NUL character
(PostgreSQL text refuses it) is answered 400 before any view or admin search reads it.

Text a scanner sent is checked further where scans come in (``codes.classify.scanned_text``); the
rest of a form is checked by its view or its Django form.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _


def has_nul(request: HttpRequest) -> bool:
    """Whether a query or form parameter (its name or a value) holds a NUL character."""
    for params in (request.GET, request.POST):
        for name, values in params.lists():
            if "\x00" in name or any("\x00" in v for v in values if isinstance(v, str)):
                return True
    return False


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A query string decodes to a NUL only from "%00" (or a raw one), and Django reads a form only
        # from a POST: the live polls and the pages pass without parsing anything.
        query = request.META.get("QUERY_STRING", "")
        if request.method != "POST" and "%00" not in query and "\x00" not in query:
            return self.get_response(request)
        if has_nul(request):
            return HttpResponseBadRequest(_("The request has a NUL character (U+0000), which no form sends: "
                                            "nothing was changed."), content_type="text/plain; charset=utf-8")
        return self.get_response(request)
