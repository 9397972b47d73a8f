"""Login is required everywhere; a script's request without a session gets a 401, not the login page.

``fetch`` and htmx follow a redirect silently and see the login page with a 200: the order screen's
scan queue would take it for a delivered batch and htmx would swap it into the panel. Page loads
still go to the login page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import middleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

# Headers that mark a request made by a script: htmx sends the first, packing.js both.
SCRIPT_HEADERS = ("HX-Request", "X-Requested-With")


def is_script_request(request: HttpRequest) -> bool:
    """True for a request made by htmx or by a fetch that says so."""
    return (request.headers.get("HX-Request") == "true"
            or request.headers.get("X-Requested-With") == "XMLHttpRequest")


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, answering 401 to htmx and fetch requests."""

    def handle_no_permission(self, request: HttpRequest, view_func: Callable[..., HttpResponse]) -> HttpResponse:
        if is_script_request(request):
            response = HttpResponse(_("Your session has ended: log in again."), status=401,
                                    content_type="text/plain; charset=utf-8")
        else:
            response = super().handle_no_permission(request, view_func)
        patch_vary_headers(response, SCRIPT_HEADERS)
        return response
