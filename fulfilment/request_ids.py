"""A request id on every log line: taken from the proxy's ``X-Request-ID`` when it is sane, made
otherwise, sent back in the answer; a Celery task logs under its task id.

The id lives in a context variable, so log lines of one request (or task) carry it whatever code
writes them; ``RequestIdFilter`` puts it on each record for the formatter.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")  # what a proxy sends; anything else is replaced
current: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: that builds a dict of every header first.
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True


def task_started(task_id: str | None = None, **_: Any) -> None:
    """celery's task_prerun: the task's log lines carry its id."""
    current.set(task_id or "-")


def task_finished(**_: Any) -> None:
    current.set("-")
