"""Middleware doing what the libraries' do, with less work a request (the live poll's CPU, issue 20): the
Content-Security-Policy header built once per process, the message storage made when first used, and
django-prometheus's request figures without the ones nobody reads (each class says why).

django-csp's middleware builds the policy string from ``settings.CONTENT_SECURITY_POLICY`` twice on
every response (the policy and the report-only one) and hangs a lazy nonce on every request: about a
fifth of a millisecond of the live poll's CPU (bench/cpu_bench.py), for a string that is the same for
every answer. No view here changes the policy (no ``@csp_update``, no nonce: the templates have no
inline script or style), so it is made once, with django-csp's own ``build_policy``, and again when a
test changes the setting. The per-response decorators still work: a response marked by django-csp's
decorators (exempt, update, replace, config) gets django-csp's own answer.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty
from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time, TimeSince

_MARKS = ("_csp_exempt", "_csp_config", "_csp_update", "_csp_replace",
          "_csp_exempt_ro", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


def _prefixes(setting: str) -> tuple[str, ...]:
    return tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())


class PolicyMiddleware:
    """In django-csp's place in MIDDLEWARE: the same headers, the strings made once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = CSPMiddleware(get_response)  # for the responses a decorator marked
        self._build()
        setting_changed.connect(self._changed)  # weakly: a test client's handler may go

    def _build(self, **_: Any) -> None:
        from csp.utils import build_policy

        self.policy, self.policy_ro = build_policy(), build_policy(report_only=True)
        self.prefixes, self.prefixes_ro = _prefixes("CONTENT_SECURITY_POLICY"), _prefixes(
            "CONTENT_SECURITY_POLICY_REPORT_ONLY")

    def _changed(self, setting: str, **_: Any) -> None:
        if setting.startswith("CONTENT_SECURITY_POLICY"):
            self._build()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if any(hasattr(response, mark) for mark in _MARKS):
            self.csp.process_request(request)
            return self.csp.process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        path = request.path_info
        if self.policy and HEADER not in response and not (self.prefixes and path.startswith(self.prefixes)):
            response[HEADER] = self.policy
        if self.policy_ro and HEADER_REPORT_ONLY not in response and not (
                self.prefixes_ro and path.startswith(self.prefixes_ro)):
            response[HEADER_REPORT_ONLY] = self.policy_ro
        return response


class LazyMessageMiddleware(MessageMiddleware):
    """Django's, with the message storage made when a view or template first touches it: most answers
    (the live polls, scans, htmx fragments) never do, and making it signs nothing but still costs a
    cookie signer and two storages a request. An untouched storage has nothing to save."""

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


class RequestMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus's last middleware with the figures an operator reads (README "Operating"): requests
    by view, transport and method, answers by status, view and method, latency by view and method, exceptions.
    Left out: the request and response size histograms and the by-method, by-transport, by-status, by-charset,
    streaming and ajax counters, each derivable from the ones kept or never used here; in multiprocess mode
    every figure is a write to a shared file, and they were most of this middleware's ~0.2 ms a request."""

    def process_request(self, request: HttpRequest) -> None:
        request.prometheus_after_middleware_event = Time()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        name = self._get_view_name(request)
        method = self._method(request)
        self.metrics.responses_by_status_view_method.labels(
            status=str(response.status_code), view=name, method=method).inc()
        event = getattr(request, "prometheus_after_middleware_event", None)
        if event is None:
            self.metrics.requests_unknown_latency.inc()
        else:
            self.metrics.requests_latency_by_view_method.labels(view=name, method=request.method).observe(
                TimeSince(event))
        return response
