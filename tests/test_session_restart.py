"""A packer's login survives a restart of the web server, and of Redis (the sessions' cache), with the
settings compose gives gunicorn (on Redis in CI: the cached sessions; the embedded broker elsewhere)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.parse

import pytest

from .deploy_support import (
    IN_CI,
    PROXIED,
    ROOT,
    SITE_HOST,
    free_port,
    gunicorn_command,
    http_get,
    listening,
    login_form,
    read_all,
    site,
    started,
    wait_until,
    web_env,
)

pytestmark = pytest.mark.integration
__all__ = ["site"]


def log_in(port: int, username: str, password: str) -> str:
    """The session cookie of a login through the login form."""
    import socket

    cookie, token = login_form(port)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username,
                                   "password": password}).encode()
    head = (f"POST /login/ HTTP/1.1\r\nHost: {SITE_HOST}\r\nX-Forwarded-Proto: https\r\n"
            f"Origin: https://{SITE_HOST}\r\nReferer: https://{SITE_HOST}/login/\r\nCookie: csrftoken={cookie}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        response = read_all(sock)
    assert response.startswith(b"HTTP/1.1 302"), response[:500]
    return re.search(rb"sessionid=([^;]+)", response).group(1).decode()  # type: ignore[union-attr]


def queue_status(port: int, session: str) -> int:
    return http_get(port, "/queue/", PROXIED | {"Cookie": f"sessionid={session}"})[0]


def test_a_login_survives_a_web_restart_and_a_lost_session_cache(site, tmp_path):
    port = free_port()
    env = web_env(site, port)
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    "from django.contrib.auth.models import Group, User; "
                    "u = User.objects.create_user('restart-packer', password='pw-restart-packer'); "
                    "u.groups.add(Group.objects.get_or_create(name='packer')[0])"],
                   cwd=ROOT, env=env, check=True, timeout=120, capture_output=True)
    log = tmp_path / "web.log"
    with started(gunicorn_command(site), env, log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        session = log_in(port, "restart-packer", "pw-restart-packer")
        assert queue_status(port, session) == 200
        proc.terminate()
        proc.wait(60)
    check = [sys.executable, "manage.py", "shell", "-c",
             "from django.conf import settings; print(settings.SESSION_ENGINE)"]
    engine = subprocess.run(check, cwd=ROOT, env=env, check=True, timeout=120, capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]
    if IN_CI:
        assert engine == "fulfilment.accounts.sessions"  # Redis in CI: the cached sessions are what is tested
    if engine == "fulfilment.accounts.sessions":
        # Redis restarted without its data: the session's cached copy is gone, its row is not.
        forget = ("from django.core.cache import cache; "
                  "from django.contrib.sessions.backends.cached_db import KEY_PREFIX; "
                  f"assert cache.delete(KEY_PREFIX + {session!r})")
        subprocess.run([sys.executable, "manage.py", "shell", "-c", forget], cwd=ROOT, env=env, check=True,
                       timeout=120, capture_output=True)
    with started(gunicorn_command(site), env, log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn again", log)
        assert queue_status(port, session) == 200
        assert queue_status(port, session) == 200  # read back into the cache, and from it
