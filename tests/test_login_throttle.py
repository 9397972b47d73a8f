"""Login throttling: wrong passwords lock the account from every address, never the shared address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from fulfilment.client_ip import client_ip

from .conftest import make_user

pytestmark = pytest.mark.django_db
WAREHOUSE_NAT = "198.51.100.20"
LOCKED_RU = "Слишком много неверных паролей"


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXIES = []


def log_in(client, username, password, ip=WAREHOUSE_NAT, url=None, **headers):
    return client.post(url or reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=ip, **headers)


def lock(client, username, ip=WAREHOUSE_NAT):
    for _ in range(3):
        resp = log_in(client, username, "wrong", ip=ip)
    return resp


def is_logged_in(client, username):
    return client.get(reverse("home")).wsgi_request.user.username == username


def test_a_wrong_password_below_the_limit_says_wrong_password(client, packer):
    resp = log_in(client, "pavel", "wrong")
    assert resp.status_code == 200
    assert "Неверное имя пользователя или пароль" in resp.content.decode()
    assert LOCKED_RU not in resp.content.decode()


def test_wrong_passwords_lock_the_account_from_any_address(client, packer):
    lock(client, "pavel")
    resp = log_in(client, "pavel", "pw-pavel", ip="203.0.113.99")
    assert resp.status_code == 429
    assert not is_logged_in(client, "pavel")


def test_another_account_from_the_same_address_still_logs_in(client, packer, supervisor):
    lock(client, "pavel")
    resp = log_in(client, "svetlana", "pw-svetlana")
    assert resp.status_code == 302
    assert is_logged_in(client, "svetlana")


def test_the_locked_out_user_sees_the_login_page_with_a_russian_message(client, packer):
    resp = lock(client, "pavel")
    html = resp.content.decode()
    assert resp.status_code == 429
    assert LOCKED_RU in html
    assert "15 минут" in html
    assert 'role="alert"' in html and 'name="password"' in html
    assert "Неверное имя пользователя или пароль" not in html


def test_the_message_follows_the_language(client, packer):
    resp = lock(client, "pavel")
    assert resp.status_code == 429
    # This browser chose English: the browser's own language does not decide.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resp = log_in(client, "pavel", "pw-pavel", HTTP_ACCEPT_LANGUAGE="en")
    assert "Too many wrong passwords for this account. Try again in 15 minutes" in resp.content.decode()


def test_the_admin_login_is_throttled_too(client, admin_user):
    url = reverse("admin:login")
    for _ in range(3):
        resp = log_in(client, "root", "wrong", url=url)
    assert resp.status_code == 429
    assert LOCKED_RU in resp.content.decode()
    assert log_in(client, "root", "pw-root", url=url).status_code == 429


def test_an_admin_unlocks_the_account(client, packer):
    lock(client, "pavel")
    admin = make_user("root", is_staff=True, is_superuser=True)
    admin_client = type(client)()
    admin_client.force_login(admin)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin_client.get(changelist)
    assert "pavel" in page.content.decode()
    pks = list(AccessAttempt.objects.filter(username="pavel").values_list("pk", flat=True))
    resp = admin_client.post(changelist, {"action": "unlock_accounts", "_selected_action": pks}, follow=True)
    assert "pavel" in resp.content.decode()
    assert not AccessAttempt.objects.filter(username="pavel").exists()
    assert log_in(client, "pavel", "pw-pavel").status_code == 302
    assert is_logged_in(client, "pavel")


def test_a_packer_cannot_open_the_unlock_page(client, packer):
    client.force_login(packer)
    resp = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]


def test_the_lock_ends_after_the_cool_off(client, packer):
    lock(client, "pavel")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "pavel", "pw-pavel").status_code == 302


def test_a_successful_login_forgets_earlier_mistakes(client, packer):
    log_in(client, "pavel", "wrong")
    log_in(client, "pavel", "wrong")
    assert log_in(client, "pavel", "pw-pavel").status_code == 302
    client.logout()
    log_in(client, "pavel", "wrong")
    assert log_in(client, "pavel", "pw-pavel").status_code == 302


# --- the client address --------------------------------------------------------------------------
def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(client, packer, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    log_in(client, "pavel", "wrong", ip="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"


def test_from_an_untrusted_peer_the_forwarded_header_is_ignored(client, packer, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    log_in(client, "pavel", "wrong", ip=WAREHOUSE_NAT, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert AccessAttempt.objects.get().ip_address == WAREHOUSE_NAT


def _request(peer, forwarded=None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_with_no_trusted_proxy_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("10.1.2.3", "203.0.113.7")) == "10.1.2.3"


def test_the_address_before_the_nearest_untrusted_hop_is_the_clients_own_claim(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1", "10.0.0.2"]
    # The client sent "1.1.1.1" itself; its real address is the one the first proxy appended.
    assert client_ip(_request("10.0.0.2", "1.1.1.1, 203.0.113.7, 10.0.0.1")) == "203.0.113.7"


def test_a_malformed_forwarded_entry_stops_the_walk(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(_request("10.0.0.1", "203.0.113.7, not-an-ip")) == "10.0.0.1"
    assert client_ip(_request("10.0.0.1", "")) == "10.0.0.1"


def test_ipv6_proxies_and_clients_work(settings):
    settings.TRUSTED_PROXIES = ["fd00::/8"]
    assert client_ip(_request("fd00::1", "2001:db8::5")) == "2001:db8::5"


def test_a_malformed_trusted_proxy_names_the_setting(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        client_ip(_request("10.0.0.1", "203.0.113.7"))


def test_a_staff_supervisor_with_the_attempt_permissions_can_unlock(client, packer):
    lock(client, "pavel")
    supervisor = make_user("svetlana", "supervisor", is_staff=True)
    supervisor.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="axes", codename__in=["view_accessattempt", "delete_accessattempt"]))
    staff = type(client)()
    staff.force_login(supervisor)
    pks = list(AccessAttempt.objects.values_list("pk", flat=True))
    staff.post(reverse("admin:axes_accessattempt_changelist"), {"action": "unlock_accounts", "_selected_action": pks})
    assert log_in(client, "pavel", "pw-pavel").status_code == 302
