"""The request type of views that answer htmx (django-htmx's ``request.htmx``), and reading a
whole number from a form or a query string the same way everywhere."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

# ASCII digits only ("²".isdigit() is true), and few enough to fit a database integer.
_WHOLE = re.compile(r"[0-9]{1,9}")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def whole_number(raw: object) -> int | None:
    """A form value that must be a whole number (an id, a count), or None when it is not one."""
    return int(raw) if isinstance(raw, str) and _WHOLE.fullmatch(raw) else None
