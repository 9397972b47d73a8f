"""The endpoint the Market pushes notifications to: POST <URL shown in the admin>/notification.

No login and no CSRF token (the Market has neither); the checks are the source address, then the
secret in the URL. The answers are the documented ones: 200 with the integration's name, version
and time; 400 WRONG_EVENT_FORMAT for a malformed body (the Market does not resend it); 500 when the
event could not be recorded, so that the Market sends it again later.
"""

from __future__ import annotations

import logging
from importlib import metadata

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fulfilment.market.notifications import (
    NotificationErrorType,
    NotificationFormatError,
    accepted,
    parse_notification,
    refused,
)

from . import intake
from .sources import request_allowed

log = logging.getLogger("fulfilment.notifications")
NAME = "Fulfilment"


def _version() -> str:
    try:
        return metadata.version("fulfilment")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0"


def _error(status: int, kind: NotificationErrorType, message: str) -> JsonResponse:
    return JsonResponse(refused(kind, message), status=status)


@csrf_exempt
@login_not_required
@require_POST
def notification(request: HttpRequest, secret: str) -> JsonResponse:
    started = timezone.now()
    if not request_allowed(request):
        return _error(403, NotificationErrorType.UNKNOWN, "not one of the Market's addresses")
    event, reason = None, ""
    try:
        event = parse_notification(request.body)
    except NotificationFormatError as exc:
        reason = str(exc)
    try:
        business_id = intake.business_for(secret)
        if business_id is not None:
            if event is None:
                intake.refuse(business_id, reason, started)
            else:
                intake.receive(business_id, event, started)
    except DatabaseError:
        # Not recorded: a 500 makes the Market send it again (every minute for the first hour).
        log.exception("notification not recorded")
        return _error(500, NotificationErrorType.UNKNOWN, "the notification could not be recorded, send it again")
    if business_id is None:
        return _error(404, NotificationErrorType.UNKNOWN, "no such notification address")
    if event is None:
        return _error(400, NotificationErrorType.WRONG_EVENT_FORMAT, reason)
    return JsonResponse(accepted(NAME, _version(), started))
