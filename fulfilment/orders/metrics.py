"""Prometheus metrics at ``/metrics``: django-prometheus's request figures plus what an operator alerts on.

The business gauges (outbox backlog and its oldest action, refused actions, each business's sync lag, the
beat's heartbeat) are read from the database at scrape time, so every web process reports the same truth and
nothing has to be kept in step. Under gunicorn the request figures of all workers are summed through
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode; docker/gunicorn.conf.py clears it).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fulfilment.client_ip import client_ip

from .models import Business, Heartbeat, OutboxAction
from .readiness import HEARTBEAT

_WAITING = (OutboxAction.State.PENDING, OutboxAction.State.SENDING)


class BusinessCollector(Collector):
    """The gauges behind /readyz, as numbers: a handful of indexed aggregate queries per scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        backlog = GaugeMetricFamily("fulfilment_outbox_backlog", "Outbox actions waiting to reach the Market",
                                    labels=["kind"])
        for row in (OutboxAction.objects.filter(state__in=_WAITING).values("kind").annotate(n=Count("id"))
                    .order_by("kind")):
            backlog.add_metric([row["kind"]], row["n"])
        yield backlog
        oldest = OutboxAction.objects.filter(state__in=_WAITING).aggregate(m=Min("created_at"))["m"]
        yield GaugeMetricFamily("fulfilment_outbox_oldest_pending_seconds",
                                "Age of the oldest outbox action still waiting (0 when none)",
                                value=(now - oldest).total_seconds() if oldest else 0.0)
        yield GaugeMetricFamily("fulfilment_outbox_refused", "Outbox actions the Market refused, not yet resolved",
                                value=OutboxAction.objects.filter(state=OutboxAction.State.FAILED).count())
        lag = GaugeMetricFamily("fulfilment_sync_lag_seconds",
                                "Seconds since the business's last successful sync (-1: never)", labels=["business"])
        for market_id, last in Business.objects.filter(is_active=True).values_list("market_id",
                                                                                   "last_sync_success_at"):
            lag.add_metric([str(market_id)], (now - last).total_seconds() if last else -1.0)
        yield lag
        beat = Heartbeat.objects.filter(name=HEARTBEAT).values_list("ran_at", flat=True).first()
        yield GaugeMetricFamily("fulfilment_beat_heartbeat_age_seconds",
                                "Seconds since a worker last ran the beat's heartbeat (-1: never)",
                                value=(now - beat).total_seconds() if beat else -1.0)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in list(REGISTRY._collector_to_names):  # this process's django-prometheus metrics
            registry.register(collector)
    registry.register(BusinessCollector())
    return registry


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token and hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_NETWORKS)


@login_not_required  # a scraper has no session: it is let in by address or token instead
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Forbidden: /metrics is for the monitoring network (METRICS_ALLOWED_NETWORKS) "
                            "or a bearer METRICS_TOKEN.\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
