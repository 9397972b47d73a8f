"""A script's request without a session gets a 401, never the login page: the order screen's scan
queue must not take a followed redirect for a delivered batch. Page loads still go to the login page."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import translation

from fulfilment.orders.models import AuditEvent

from .builders import make_order

pytestmark = pytest.mark.django_db
SCRIPT_HEADERS = [{"HTTP_HX_REQUEST": "true"}, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}]


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def post_scans(client, order, codes, **headers):
    scans = [{"id": str(uuid.uuid4()), "code": c} for c in codes]
    return client.post(reverse("order-scan", args=[order.pk]), json.dumps({"scans": scans, "version": None}),
                       content_type="application/json", **headers)


@pytest.mark.parametrize("headers", SCRIPT_HEADERS)
def test_a_scan_without_a_session_answers_401_and_applies_nothing(client, headers):
    order = make_order(items=(("MUG-001", 2),))
    resp = post_scans(client, order, ["4601234567893"], **headers)
    assert resp.status_code == 401
    assert "Location" not in resp and "X-Pack-Update" not in resp
    assert "войдите снова" in resp.content.decode()
    assert not AuditEvent.objects.filter(order=order).exists()


def test_a_scan_after_the_session_was_deleted_on_the_server_answers_401(client, packer):
    order = make_order(items=(("MUG-001", 2),))
    client.force_login(packer)
    assert post_scans(client, order, [], HTTP_HX_REQUEST="true").status_code == 200
    Session.objects.all().delete()
    assert post_scans(client, order, ["4601234567893"], HTTP_HX_REQUEST="true").status_code == 401


@pytest.mark.parametrize("headers", SCRIPT_HEADERS)
def test_every_htmx_request_of_the_order_screen_answers_401_without_a_session(client, headers):
    order = make_order(items=(("MUG-001", 2),))
    assert client.get(reverse("order-panel", args=[order.pk]), **headers).status_code == 401
    assert client.post(reverse("order-new-box", args=[order.pk]), {}, **headers).status_code == 401
    assert client.get(reverse("queue"), **headers).status_code == 401


def test_a_page_load_without_a_session_still_goes_to_the_login_page(client):
    order = make_order(items=(("MUG-001", 2),))
    url = reverse("order", args=[order.pk])
    resp = client.get(url)
    assert resp.status_code == 302 and resp["Location"] == f"{reverse('login')}?next={url}"
    # The answer depends on the request's headers: no cache may hand one for the other.
    assert {"HX-Request", "X-Requested-With"} <= {h.strip() for h in resp["Vary"].split(",")}


def test_the_login_page_answers_htmx_as_usual(client):
    assert client.get(reverse("login"), HTTP_HX_REQUEST="true").status_code == 200


def test_the_order_screen_lets_its_script_read_the_csrf_cookie_at_send_time(client, packer):
    # packing.js reads the token from the cookie for every batch: a login in another tab replaces it.
    order = make_order(items=(("MUG-001", 2),))
    client.force_login(packer)
    resp = client.get(reverse("order", args=[order.pk]))
    assert resp.status_code == 200
    assert not resp.cookies["csrftoken"]["httponly"]
