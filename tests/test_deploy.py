"""The production deploy (docker/) as far as a machine without a Docker engine can test it: compose.yaml rendered
as compose would, the settings each container really gets, the healthchecks run against those settings, gunicorn
with docker/gunicorn.conf.py stopped by SIGTERM mid-request, and a backup restored into a new database."""

from __future__ import annotations

import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from fulfilment.proxy import ForwardedFor, trusted_proxies

from .deploy_support import (
    DOCKER,
    ROOT,
    ComposeError,
    argv,
    clean_environ,
    compose_dir_with,
    env_files,
    free_port,
    healthcheck_argv,
    http_get,
    listening,
    read_env_file,
    render,
    service_environment,
    started,
    wait_until,
)

IN_CI = os.environ.get("CI") == "true"
APP_SERVICES = ("migrate", "web", "worker", "beat")
SITE_HOST = "pack.example.com"
GOOD_KEY = secrets.token_urlsafe(50)


def operator_dotenv(**changes: str) -> dict[str, str]:
    """docker/.env as the README says to make it: the template with SITE_HOST and SECRET_KEY changed."""
    values = read_env_file(DOCKER / "production.env")
    values.update({"SITE_HOST": SITE_HOST, "SECRET_KEY": GOOD_KEY})
    values.update(changes)
    return values


@pytest.fixture
def compose_dir(tmp_path: Path) -> Path:
    return compose_dir_with(tmp_path, operator_dotenv())


@pytest.fixture
def compose(compose_dir: Path) -> dict:
    return render(compose_dir)


# --- compose.yaml, rendered --------------------------------------------------------------------------
def test_every_app_service_loads_the_env_file_the_readme_writes(compose, compose_dir):
    readme = (ROOT / "README.md").read_text()
    assert "cp docker/production.env docker/.env" in readme
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert env_files(service, compose_dir) == [(compose_dir / ".env").resolve()], name
        env = service_environment(service, compose_dir)
        assert env["SECRET_KEY"] == GOOD_KEY, name
        assert env["ALLOWED_HOSTS"] == SITE_HOST, name
        assert env["CSRF_TRUSTED_ORIGINS"] == f"https://{SITE_HOST}", name


def test_compose_refuses_to_start_without_a_secret_key_or_a_host_name(tmp_path):
    for missing in ("SECRET_KEY", "SITE_HOST"):
        dotenv = operator_dotenv()
        del dotenv[missing]
        with pytest.raises(ComposeError, match=rf"{missing}: set {missing} in docker/\.env"):
            render(compose_dir_with(tmp_path / missing, dotenv))


def test_the_template_secret_is_refused_by_every_app_service_before_it_starts(tmp_path):
    """With the template copied unchanged, compose starts, and the migrate service (which the others wait for)
    refuses: the key is the published placeholder."""
    compose_dir = compose_dir_with(tmp_path, operator_dotenv(SECRET_KEY=read_env_file(
        DOCKER / "production.env")["SECRET_KEY"]))
    compose = render(compose_dir)
    env = clean_environ() | service_environment(compose["services"]["migrate"], compose_dir)
    env.update({"FULFILMENT_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    out = subprocess.run(argv(compose["services"]["migrate"]["command"]), cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0
    assert "fulfilment.E001" in out.stderr
    assert "SECRET_KEY is a placeholder" in out.stderr
    assert "secrets.token_urlsafe(50)" in out.stderr
    assert "Applying" not in out.stdout


def _shell_keeps_pid_1(command: list[str]) -> bool:
    """A shell that runs the server as its child keeps PID 1: docker stop's SIGTERM never reaches the server."""
    if Path(command[0]).name not in ("sh", "bash", "dash"):
        return False
    script = command[-1].strip()
    last = re.split(r"&&|;|\n", script)[-1].strip()
    return not last.startswith("exec ")


def test_no_service_runs_its_process_under_a_shell(compose):
    for name, service in compose["services"].items():
        if "command" in service:
            assert not _shell_keeps_pid_1(argv(service["command"])), name
    cmd = re.search(r"^CMD (.+)$", (DOCKER / "Dockerfile").read_text(), re.M)
    assert cmd and cmd.group(1).startswith("["), "the image's CMD must be exec form"


def test_web_worker_and_beat_start_only_after_the_migrations_succeeded(compose):
    migrate = compose["services"]["migrate"]
    assert argv(migrate["command"])[-2:] == ["migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert "migrate" not in migrate.get("depends_on", {})
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in argv(service["command"]), name


def test_web_worker_and_beat_have_health_checks(compose):
    for name in ("web", "worker", "beat"):
        assert compose["services"][name]["healthcheck"]["test"], name


def test_only_the_tls_proxy_is_published_beyond_loopback(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if name == "caddy":
                assert service["profiles"] == ["tls"]
            else:
                assert str(port).startswith("127.0.0.1:"), (name, port)
    assert compose["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_the_tls_proxy_serves_the_one_host_name_and_forwards_scheme_and_client(compose):
    caddy = compose["services"]["caddy"]
    assert caddy["environment"]["SITE_HOST"] == SITE_HOST
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (DOCKER / "Caddyfile").read_text()
    assert re.search(r"^\{\$SITE_HOST\} \{", caddyfile, re.M)
    assert "reverse_proxy web:8000" in caddyfile
    assert "header_up X-Forwarded-Proto {scheme}" in caddyfile
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile
    # gunicorn believes the scheme from the network Caddy is on.
    subnet = compose["networks"]["app"]["ipam"]["config"][0]["subnet"]
    assert compose["services"]["web"]["environment"]["FORWARDED_ALLOW_IPS"] == subnet
    assert caddy["networks"] == compose["services"]["web"]["networks"] == ["app"]


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(s|m)", value)
    assert m, value
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def test_gunicorn_conf_trusts_the_proxy_only_waits_for_requests_and_recycles_workers(compose, monkeypatch):
    web = compose["services"]["web"]
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", web["environment"]["FORWARDED_ALLOW_IPS"])
    conf = runpy.run_path(str(DOCKER / "gunicorn.conf.py"))
    allowed = conf["forwarded_allow_ips"].split(",")
    assert "*" not in allowed
    assert set(allowed) == {"127.0.0.1", "::1", web["environment"]["FORWARDED_ALLOW_IPS"]}
    assert conf["max_requests"] > 0 and 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert 0 < conf["graceful_timeout"] < _seconds(web["stop_grace_period"])
    assert argv(web["command"]) == ["gunicorn", "-c", "docker/gunicorn.conf.py", "fulfilment.wsgi"]


def _remote_addr_seen(app_environ: dict[str, str], forwarded_allow_ips: str) -> str:
    seen = {}

    def inner(environ: dict, start_response: object) -> list[bytes]:
        seen.update(environ)
        return [b""]

    ForwardedFor(inner, trusted_proxies(forwarded_allow_ips))(dict(app_environ), lambda *a: None)
    return seen["REMOTE_ADDR"]


def test_the_client_address_is_taken_from_x_forwarded_for_only_when_the_proxy_sent_it(compose):
    subnet = compose["services"]["web"]["environment"]["FORWARDED_ALLOW_IPS"]
    from_caddy = {"REMOTE_ADDR": "172.30.80.5", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert _remote_addr_seen(from_caddy, subnet) == "203.0.113.7"
    # What a client put first is kept by some proxies; the address the proxy appended is the last one.
    assert _remote_addr_seen(from_caddy | {"HTTP_X_FORWARDED_FOR": "10.0.0.1, 203.0.113.7"}, subnet) == "203.0.113.7"
    assert _remote_addr_seen({"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},
                             subnet) == "198.51.100.9"
    assert _remote_addr_seen(from_caddy | {"HTTP_X_FORWARDED_FOR": "not-an-ip"}, subnet) == "172.30.80.5"
    assert _remote_addr_seen(from_caddy, "*") == "172.30.80.5"


def test_the_wsgi_application_takes_the_client_address_from_the_proxy():
    import fulfilment.wsgi  # the server's entry point: importing it is what gunicorn does

    assert isinstance(fulfilment.wsgi.application, ForwardedFor)


# --- the settings production really gets -------------------------------------------------------------
def _production_env(compose: dict, compose_dir: Path, tmp: Path, service: str = "web") -> dict[str, str]:
    """The container's environment for ``service``, with what this machine has instead of the compose
    network: a database and a broker here, runtime folders in ``tmp``."""
    env = clean_environ() | service_environment(compose["services"][service], compose_dir)
    env.update({
        "FULFILMENT_VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(tmp / "static"),
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"] if IN_CI else "filesystem://",
        "CELERY_QUEUE": f"deploy-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def test_check_deploy_is_clean_with_production_settings(compose, compose_dir, tmp_path):
    env = _production_env(compose, compose_dir, tmp_path) | {
        "DATABASE_URL": service_environment(compose["services"]["web"], compose_dir)["DATABASE_URL"]}
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_settings_refuse_debug_and_use_postgres_and_redis(compose, compose_dir, tmp_path):
    env = clean_environ() | service_environment(compose["services"]["web"], compose_dir)
    env.update({"FULFILMENT_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "fulfilment.settings"})
    show = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps("
            "[s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.SESSION_COOKIE_SECURE,"
            " s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS]))")
    out = subprocess.run([sys.executable, "-c", show], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    debug, engine, broker, session_secure, csrf_secure, redirect, hosts = json.loads(out.stdout)
    assert debug is False
    assert engine == "django.db.backends.postgresql"
    assert broker.startswith("redis://")
    assert session_secure and csrf_secure and redirect
    assert hosts == [SITE_HOST]


@pytest.mark.parametrize("key, reason", [
    ("CHANGE-ME-to-a-long-random-string-of-at-least-50-characters-0123456789", "is a placeholder"),
    ("django-insecure-" + secrets.token_urlsafe(40), "is a placeholder"),
    (secrets.token_urlsafe(20), "at least 50 are needed"),
    ("x" * 60, "is predictable"),
    ("0123456789" * 6, "is predictable"),
    (secrets.token_urlsafe(20)[:26] * 2, "is predictable"),
], ids=["template", "startproject", "short", "one-character", "digits-repeated", "random-half-twice"])
def test_check_deploy_refuses_a_weak_secret_key_and_says_what_to_do(compose, compose_dir, tmp_path, key, reason):
    env = _production_env(compose, compose_dir, tmp_path) | {"SECRET_KEY": key}
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "(fulfilment.E001) SECRET_KEY " in out.stderr and reason in out.stderr
    assert "secrets.token_urlsafe(50)" in out.stderr and "docker/.env" in out.stderr


# --- processes with production settings --------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    """compose rendered with the operator's docker/.env, a migrated database and collected static files, as the
    image and the migrate service leave them."""
    tmp = tmp_path_factory.mktemp("site")
    compose_dir = compose_dir_with(tmp, operator_dotenv())
    compose = render(compose_dir)
    env = _production_env(compose, compose_dir, tmp)
    for cmd in (["manage.py", "migrate", "--noinput", "-v0"], ["manage.py", "collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, *cmd], cwd=ROOT, env=env, check=True, timeout=300)
    return compose, compose_dir, tmp


def _web_env(site: tuple[dict, Path, Path], port: int, **extra: str) -> dict[str, str]:
    compose, compose_dir, tmp = site
    env = _production_env(compose, compose_dir, tmp)
    env.update({"WEB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2", **extra})
    return env


def _gunicorn(site: tuple[dict, Path, Path]) -> list[str]:
    compose = site[0]
    return argv(compose["services"]["web"]["command"])


PROXIED = {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}


@pytest.mark.integration
def test_the_web_healthcheck_passes_with_production_settings(site, tmp_path):
    port = free_port()
    env = _web_env(site, port)
    log = tmp_path / "web.log"
    with started(_gunicorn(site), env, log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        assert proc.poll() is None, log.read_text()
        check = subprocess.run(healthcheck_argv(site[0]["services"]["web"]), cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr + log.read_text()[-3000:]
        # What the old healthcheck did: a bare request is no host of ours (400), and plain http is redirected.
        assert http_get(port, "/healthz", {})[0] == 400
        assert http_get(port, "/healthz", {"Host": SITE_HOST})[0] == 301
    check = subprocess.run(healthcheck_argv(site[0]["services"]["web"]), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 1 and "web:" in check.stderr


@pytest.mark.integration
def test_x_forwarded_proto_is_believed_only_from_the_proxy(site, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    with started(_gunicorn(site), _web_env(site, port), log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        status, _, body = http_get(port, "/healthz", PROXIED)
        assert status == 200, body
        # 127.0.0.2 is on this machine's loopback but is not the proxy: its claim of https is ignored.
        status, headers, _ = http_get(port, "/healthz", PROXIED, source="127.0.0.2")
        assert status == 301
        assert dict(headers)["Location"] == f"https://{SITE_HOST}/healthz"


@pytest.mark.integration
def test_the_web_server_refuses_the_template_secret_and_says_what_to_do(site, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    placeholder = read_env_file(DOCKER / "production.env")["SECRET_KEY"]
    with started(_gunicorn(site), _web_env(site, port, SECRET_KEY=placeholder), log) as proc:
        assert proc.wait(60) != 0
    out = log.read_text()
    assert "SECRET_KEY is a placeholder" in out and "secrets.token_urlsafe(50)" in out
    assert not listening(port)


def _login_form(port: int) -> tuple[str, str]:
    status, headers, body = http_get(port, "/login/", PROXIED)
    assert status == 200, body[:500]
    cookie = next(re.search(r"csrftoken=([^;]+)", v).group(1) for k, v in headers  # type: ignore[union-attr]
                  if k.lower() == "set-cookie" and v.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()  # type: ignore[union-attr]
    return cookie, token


def _post_login_head(body: bytes, cookie: str) -> bytes:
    return (f"POST /login/ HTTP/1.1\r\nHost: {SITE_HOST}\r\nX-Forwarded-Proto: https\r\n"
            f"Origin: https://{SITE_HOST}\r\nCookie: csrftoken={cookie}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.integration
def test_sigterm_lets_an_in_flight_request_finish_and_gunicorn_exits_in_time(site, tmp_path):
    conf = runpy.run_path(str(DOCKER / "gunicorn.conf.py"))
    port = free_port()
    log = tmp_path / "web.log"
    with started(_gunicorn(site), _web_env(site, port), log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        cookie, token = _login_form(port)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "nobody",
                                       "password": "wrong"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            # A slow client (a scanner's batch on a warehouse Wi-Fi): half the request is in when docker stops web.
            sock.sendall(_post_login_head(body, cookie) + body[:20])
            time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            time.sleep(2.0)
            assert proc.poll() is None, "gunicorn did not wait for the request in flight"
            sock.sendall(body[20:])
            response = _read_all(sock)
        assert response.startswith(b"HTTP/1.1 200"), response[:300]
        assert proc.wait(conf["graceful_timeout"] + 5) == 0
        assert time.monotonic() - stopped_at < conf["graceful_timeout"]
    assert "Handling signal: term" in log.read_text()


@pytest.mark.integration
def test_the_worker_healthcheck_pings_this_containers_worker(site, tmp_path):
    compose, compose_dir, tmp = site
    worker = compose["services"]["worker"]
    env = _production_env(compose, compose_dir, tmp, "worker") | {"HOSTNAME": socket.gethostname()}
    log = tmp_path / "worker.log"
    cmd = [a if a != "4" else "1" for a in argv(worker["command"])]  # one pool process is enough here
    with started(cmd, env, log) as proc:
        wait_until(lambda: b" ready." in log.read_bytes() or proc.poll() is not None, 90, "the worker", log)
        check = subprocess.run(healthcheck_argv(worker), cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "pong" in check.stdout
        proc.terminate()
        proc.wait(60)
    check = subprocess.run(healthcheck_argv(worker), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode != 0


@pytest.mark.integration
def test_the_beat_healthcheck_sees_the_schedule_written_and_a_stale_one(site, tmp_path):
    compose, compose_dir, tmp = site
    beat = compose["services"]["beat"]
    # The container's volume path, here under tmp_path: the same command and check otherwise.
    container_path = "/var/lib/fulfilment/celerybeat-schedule"
    schedule = str(tmp_path / "celerybeat-schedule")
    cmd = [schedule if a == container_path else a for a in argv(beat["command"])]
    check_cmd = [schedule if a == container_path else a for a in healthcheck_argv(beat)]
    assert cmd != argv(beat["command"]) and check_cmd != healthcheck_argv(beat)
    env = _production_env(compose, compose_dir, tmp, "beat")
    log = tmp_path / "beat.log"

    def healthy() -> bool:
        return subprocess.run(check_cmd, cwd=ROOT, env=env, capture_output=True, timeout=30).returncode == 0

    assert not healthy()
    with started(cmd, env, log) as proc:
        wait_until(lambda: healthy() or proc.poll() is not None, 60, "beat's schedule", log)
        assert proc.poll() is None, log.read_text()
        proc.terminate()
        proc.wait(30)
    max_age = float(check_cmd[-1])
    for path in tmp_path.glob("celerybeat-schedule*"):
        os.utime(path, (time.time() - max_age - 60,) * 2)
    stale = subprocess.run(check_cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert stale.returncode == 1 and "schedule not written" in stale.stderr


# --- backups -----------------------------------------------------------------------------------------
def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (bin/test installs postgresql-client with apt-get)")
        pytest.skip(f"{name} not installed (bin/test installs postgresql-client with apt-get)")
    return path


def _pg_args(db: dict) -> list[str]:
    return ["--host", db["HOST"] or "127.0.0.1", "--port", str(db["PORT"] or 5432), "--username", db["USER"]]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_and_the_dashboard_starts_on_it(site, tmp_path, packer):
    """The README's backup and restore commands, as a drill: dump, restore into a new database, serve from it."""
    from django.contrib.auth.models import User
    from django.db import connection

    from fulfilment.orders.models import Order

    from .builders import make_campaign, make_order

    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI runs the restore drill on PostgreSQL")
        pytest.skip("the restore drill needs PostgreSQL (DATABASE_URL=postgres://…, as under CI=true)")
    pg_dump, pg_restore = _pg_tool("pg_dump"), _pg_tool("pg_restore")
    campaign = make_campaign()
    for n in range(5):
        make_order(campaign, items=(("SKU-A", 1), ("SKU-B", n + 1)))
    source = connection.settings_dict
    tables = sorted(connection.introspection.table_names())
    with connection.cursor() as cursor:
        before = {t: cursor.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
    assert before["orders_order"] == 5 and before["auth_user"] == 1

    env = clean_environ() | {"PGPASSWORD": source.get("PASSWORD") or ""}
    dump = tmp_path / "fulfilment.dump"
    subprocess.run([pg_dump, *_pg_args(source), "--format=custom", "--file", str(dump), source["NAME"]],
                   env=env, check=True, timeout=120)
    restored = f"{source['NAME']}_restored"
    admin = [*_pg_args(source), "--dbname", source["NAME"]]
    psql = _pg_tool("psql")
    subprocess.run([psql, *admin, "-c", f'DROP DATABASE IF EXISTS "{restored}"', "-c", f'CREATE DATABASE "{restored}"'],
                   env=env, check=True, timeout=60, capture_output=True)
    try:
        subprocess.run([pg_restore, *_pg_args(source), "--no-owner", "--exit-on-error", "--dbname", restored,
                        str(dump)], env=env, check=True, timeout=300)
        restored_url = (f"postgres://{source['USER']}@{source['HOST'] or '127.0.0.1'}:{source['PORT'] or 5432}/"
                        f"{restored}")
        counts = subprocess.run(
            [psql, *_pg_args(source), "--dbname", restored, "-At", "-c",
             " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)],  # noqa: S608
            env=env, check=True, timeout=60, capture_output=True, text=True)
        after = {t: int(n) for t, n in (line.split("|") for line in counts.stdout.split())}
        assert after == before

        # The dashboard on the restored database: no migration missing, it serves, the packer logs in.
        port = free_port()
        web_env = _web_env(site, port, DATABASE_URL=restored_url, PGPASSWORD=env["PGPASSWORD"])
        subprocess.run([sys.executable, "manage.py", "migrate", "--check"], cwd=ROOT, env=web_env, check=True,
                       timeout=120, capture_output=True)
        log = tmp_path / "web.log"
        with started(_gunicorn(site), web_env, log) as proc:
            wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
            assert http_get(port, "/healthz", PROXIED)[0] == 200
            cookie, token = _login_form(port)
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": packer.username,
                                           "password": "pw-" + packer.username}).encode()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(_post_login_head(body, cookie) + body)
                response = _read_all(sock)
            assert response.startswith(b"HTTP/1.1 302"), response[:500]
            session = re.search(rb"sessionid=([^;]+)", response).group(1).decode()  # type: ignore[union-attr]
            status, _, page = http_get(port, "/queue/", PROXIED | {"Cookie": f"sessionid={session}"})
            assert status == 200
            numbers = [str(o.market_id).encode() for o in Order.objects.all()]
            assert numbers and all(n in page for n in numbers)
        assert User.objects.count() == 1
    finally:
        subprocess.run([psql, *admin, "-c", f'DROP DATABASE IF EXISTS "{restored}"'], env=env, timeout=60,
                       capture_output=True)
