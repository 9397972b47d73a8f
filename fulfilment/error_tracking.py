"""Error tracking when SENTRY_DSN is set: sentry-sdk with the Django and Celery integrations.

Sentry, self-hosted Sentry and GlitchTip all take what sentry-sdk sends. What leaves the server is kept free of
personal data and secrets: no user, no IP address, no cookies, no request bodies or query strings (a
recipient's name and phone travel in supervisor forms and searches), no local variables (an order's payload
holds the buyer's data), and the Market's token headers and our token fields scrubbed wherever they appear.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

# The Market's token travels as Api-Key or Authorization; ours are stored as *_token fields.
_DENYLIST = [*DEFAULT_DENYLIST, "api-key", "api_key", "http_api_key", "oauth_token", "access_token",
             "api_token", "notification_secret", "phone", "recipient", "buyer"]


def init_error_tracking(dsn: str, *, environment: str, release: str | None = None,
                        traces_sample_rate: float = 0.0) -> bool:
    """Start sentry-sdk for this process (web or worker) when a DSN is configured; False when none is."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=_DENYLIST, pii_denylist=DEFAULT_PII_DENYLIST, recursive=True),
        before_send=_without_user,
        traces_sample_rate=traces_sample_rate,
    )
    return True


def _without_user(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    # A packer's login name is personal data too; the request id in the logs finds the person when needed.
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        # The queue's search and the supervisor's forms can carry a buyer's name or phone.
        for key in ("cookies", "data", "query_string"):
            request.pop(key, None)
        request.get("headers", {}).pop("Cookie", None)
    return event
