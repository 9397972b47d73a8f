"""/readyz tells an operator what is wrong; every answer and log line carries a request id."""

import datetime as dt
import io
import json
import logging

import pytest
from django.test import override_settings
from django.utils import timezone

from fulfilment.orders import readiness
from fulfilment.orders.models import Heartbeat, OutboxAction
from fulfilment.orders.tasks import heartbeat_task
from fulfilment.request_ids import HEADER, RequestIdFilter

from .builders import make_business, make_campaign
from .worker import Worker, wait_for

pytestmark = pytest.mark.django_db


def checks(client):
    resp = client.get("/readyz")
    return resp.status_code, resp.json()["checks"]


def test_it_is_ready_when_everything_answers_in_time(client):
    business = make_business(last_sync_success_at=timezone.now())
    readiness.beat_heartbeat("worker@test")
    status, found = checks(client)
    assert status == 200, found
    assert found["database"]["ok"] and found["broker"]["ok"] and found["beat_and_worker"]["worker"] == "worker@test"
    assert found["sync"]["businesses"][str(business.market_id)]["ok"]
    assert found["outbox"] == {"ok": True, "backlog": 0, "oldest_pending_seconds": None, "limit_seconds": 600}


def test_it_says_what_is_late(client):
    old = timezone.now() - dt.timedelta(hours=2)
    business = make_business(last_sync_success_at=old)
    Heartbeat.objects.create(name=readiness.HEARTBEAT, ran_at=old)
    action = OutboxAction.objects.create(campaign=make_campaign(business), kind=OutboxAction.Kind.STATUS, payload={})
    OutboxAction.objects.filter(pk=action.pk).update(created_at=old)
    status, found = checks(client)
    assert status == 503
    assert not found["beat_and_worker"]["ok"] and found["beat_and_worker"]["age_seconds"] >= 7200
    assert not found["sync"]["ok"] and found["sync"]["businesses"][str(business.market_id)]["age_seconds"] >= 7200
    assert not found["outbox"]["ok"] and found["outbox"]["backlog"] == 1
    assert found["database"]["ok"]  # the rest is still reported


def test_a_broker_that_does_not_answer_is_reported(client):
    readiness.beat_heartbeat("w")
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0", CELERY_BROKER_TRANSPORT=None,
                           CELERY_BROKER_TRANSPORT_OPTIONS={}):
        status, found = checks(client)
    assert status == 503 and not found["broker"]["ok"] and found["broker"]["error"]


def test_it_needs_no_login_and_shows_no_secrets(client):
    make_business(api_token="secret-token-value-123", last_sync_success_at=timezone.now())
    body = client.get("/readyz").content.decode()
    assert "secret-token-value-123" not in body


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat():
    with Worker() as worker:
        heartbeat_task.delay()
        wait_for(lambda: Heartbeat.objects.filter(name=readiness.HEARTBEAT).exists(), 60, "the heartbeat", worker)
    beat = Heartbeat.objects.get()
    assert beat.worker and (timezone.now() - beat.ran_at).total_seconds() < 60


def test_every_answer_carries_a_request_id_and_a_sane_one_is_kept(client):
    made = client.get("/healthz")[HEADER]
    assert len(made) == 32
    assert client.get("/healthz", headers={HEADER: "proxy-1234abcd"})[HEADER] == "proxy-1234abcd"
    assert client.get("/healthz", headers={HEADER: "<script>"})[HEADER] != "<script>"


def test_log_lines_carry_the_request_id_as_json():
    from pythonjsonlogger.json import JsonFormatter

    from fulfilment.request_ids import current

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"))
    log = logging.getLogger("fulfilment.test")
    log.addHandler(handler)
    token = current.set("abc12345")
    try:
        log.warning("outbox %s refused", 7)
    finally:
        current.reset(token)
        log.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["request_id"] == "abc12345" and line["message"] == "outbox 7 refused"
