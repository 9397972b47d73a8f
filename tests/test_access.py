"""Login is required everywhere but the login page and the health endpoint."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fulfilment.accounts.roles import is_packer, is_supervisor

pytestmark = pytest.mark.django_db


def test_the_health_endpoint_needs_no_login(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": True}


def test_the_health_endpoint_refuses_post(client):
    assert client.post("/healthz").status_code == 405


def test_pages_send_anonymous_users_to_the_login_page(client):
    resp = client.get(reverse("home"))
    assert resp.status_code == 302
    assert resp["Location"].startswith(reverse("login"))


def test_the_login_page_is_russian_by_default(client):
    resp = client.get(reverse("login"))
    assert resp.status_code == 200
    assert "Войти" in resp.content.decode()


def test_a_packer_logs_in_and_sees_the_shops(client, packer):
    resp = client.post(reverse("login"), {"username": "pavel", "password": "pw-pavel"})
    assert resp.status_code == 302
    resp = client.get(reverse("home"))
    assert resp.status_code == 200
    assert "pavel" in resp.content.decode()


def test_a_wrong_password_is_refused_with_a_message(client, packer):
    resp = client.post(reverse("login"), {"username": "pavel", "password": "nope"})
    assert resp.status_code == 200
    assert 'role="alert"' in resp.content.decode()


def test_the_roles_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= {"packer", "supervisor"}


def test_roles(packer, supervisor, outsider, admin_user):
    assert is_packer(packer) and not is_supervisor(packer)
    assert is_packer(supervisor) and is_supervisor(supervisor)
    assert not is_packer(outsider)
    assert is_supervisor(admin_user)


def test_packers_cannot_open_the_admin(client, packer):
    client.force_login(packer)
    resp = client.get("/admin/")
    assert resp.status_code == 302
    assert "/admin/login/" in resp["Location"]


# The order screen's buttons, one endpoint each.
ORDER_ACTIONS = ("order-new-box", "order-set-current-box", "order-delete-box", "order-move-unit", "order-remove-unit",
                 "order-split-unit", "order-unsplit-unit", "order-delete-code", "order-choose-item", "order-finish",
                 "order-ready", "order-report-problem")
PACKING_ENDPOINTS = [
    ("GET", "queue", False), ("GET", "queue-open", False), ("GET", "assembly-sheet", False),
    ("GET", "scanner-sheet", False), ("GET", "training-sheet", False), ("GET", "order", True),
    ("GET", "order-panel", True),
    ("POST", "order-scan", True), ("POST", "order-check-codes", True),
    *(("POST", name, True) for name in ORDER_ACTIONS),
    ("GET", "order-labels", True), ("POST", "order-refresh", True), ("POST", "order-digital-keys", True),
]


@pytest.mark.parametrize(("method", "name", "per_order"), PACKING_ENDPOINTS)
def test_a_user_without_a_role_gets_403_on_every_packing_endpoint(client, outsider, method, name, per_order):
    from .builders import make_order

    order = make_order()
    url = reverse(name, args=[order.pk]) if per_order else reverse(name)
    client.force_login(outsider)
    resp = client.post(url, {"op": "new_box"}) if method == "POST" else client.get(url)
    assert resp.status_code == 403
    assert not order.boxes.exists()
