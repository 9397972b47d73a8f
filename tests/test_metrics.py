"""/metrics: Prometheus figures for the operator, open only to the monitoring network or a bearer token."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from fulfilment.orders.models import OutboxAction

from .builders import make_business, make_campaign, make_order

pytestmark = pytest.mark.django_db


def value(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    assert m, f"{name}{labels} not in:\n{text[:3000]}"
    return float(m.group(1))


def test_the_operator_reads_backlog_refusals_sync_lag_and_request_counts(client):
    now = timezone.now()
    business = make_business(last_sync_success_at=now - dt.timedelta(seconds=90))
    campaign = make_campaign(business)
    order = make_order(campaign)
    old = OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.LAYOUT, payload={})
    OutboxAction.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(minutes=5))
    OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.STATUS, payload={})
    OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.STATUS, payload={},
                                state=OutboxAction.State.FAILED)
    OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.STATUS, payload={},
                                state=OutboxAction.State.DELIVERED)
    client.get("/healthz")
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/plain")
    text = resp.content.decode()
    assert value(text, "fulfilment_outbox_backlog", '{kind="LAYOUT"}') == 1
    assert value(text, "fulfilment_outbox_backlog", '{kind="STATUS"}') == 1
    assert 290 <= value(text, "fulfilment_outbox_oldest_pending_seconds") <= 400
    assert value(text, "fulfilment_outbox_refused") == 1
    assert 85 <= value(text, "fulfilment_sync_lag_seconds", f'{{business="{business.market_id}"}}') <= 200
    assert value(text, "fulfilment_beat_heartbeat_age_seconds") == -1
    assert value(text, "django_http_requests_total_by_view_transport_method_total",
                 '{method="GET",transport="http",view="health"}') >= 1


def test_an_empty_outbox_reads_zero_not_a_missing_series(client):
    text = client.get("/metrics").content.decode()
    assert value(text, "fulfilment_outbox_oldest_pending_seconds") == 0
    assert value(text, "fulfilment_outbox_refused") == 0


def test_metrics_are_refused_to_anyone_else_unless_they_bring_the_token(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    resp = client.get("/metrics", **outside)
    assert resp.status_code == 403 and b"METRICS_TOKEN" in resp.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", **outside).status_code == 200
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", **outside).status_code == 200
    assert client.post("/metrics").status_code in (403, 405)
