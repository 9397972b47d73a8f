"""The production deploy (docker/) as far as a machine without a Docker engine can test it: compose.yaml rendered
as compose would, and the settings each container really gets. The processes: test_deploy_processes.py; the
backup drill: test_backup.py."""

from __future__ import annotations

import json
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from fulfilment.proxy import ForwardedFor, trusted_proxies

from .deploy_support import (
    DOCKER,
    GOOD_KEY,
    ROOT,
    SITE_HOST,
    ComposeError,
    argv,
    clean_environ,
    compose_dir_with,
    env_files,
    operator_dotenv,
    production_env,
    read_env_file,
    render,
    service_environment,
)

APP_SERVICES = ("migrate", "web", "worker", "beat")


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
    for missing in ("SECRET_KEY", "SITE_HOST", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
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
    assert compose["services"]["gateway"]["ports"] == ["127.0.0.1:8000:8000"]


def test_web_and_worker_scale_and_the_proxies_reach_every_web_replica(compose):
    """``up --scale web=N --scale worker=M``: no replica claims a host port or a fixed name, and both
    proxies spread requests over whatever replicas the service name resolves to."""
    for name in ("web", "worker"):
        service = compose["services"][name]
        assert not service.get("ports") and "container_name" not in service, name
    assert compose["services"]["web"]["expose"] == ["8000"]
    gateway = compose["services"]["gateway"]
    assert "./Caddyfile.gateway:/etc/caddy/Caddyfile:ro" in gateway["volumes"]
    assert gateway["networks"] == compose["services"]["web"]["networks"]
    assert gateway["depends_on"]["web"]["condition"] == "service_healthy"
    for caddyfile in ("Caddyfile", "Caddyfile.gateway"):
        text = (DOCKER / caddyfile).read_text()
        assert re.search(r"^\s*dynamic a web 8000 \{", text, re.M), caddyfile
        assert "lb_policy round_robin" in text and "lb_try_duration" in text, caddyfile
    gatewayfile = (DOCKER / "Caddyfile.gateway").read_text()
    assert re.search(r"^:8000 \{", gatewayfile, re.M) and "auto_https off" in gatewayfile
    # Only this host reaches the gateway: what its own TLS proxy says of the scheme and client is passed on.
    assert "header_up X-Forwarded-For {http.request.header.X-Forwarded-For}" in gatewayfile
    assert "header_up X-Forwarded-Proto {http.request.header.X-Forwarded-Proto}" in gatewayfile


def test_the_tls_proxy_serves_the_one_host_name_and_forwards_scheme_and_client(compose):
    caddy = compose["services"]["caddy"]
    assert caddy["environment"]["SITE_HOST"] == SITE_HOST
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (DOCKER / "Caddyfile").read_text()
    assert re.search(r"^\{\$SITE_HOST\} \{", caddyfile, re.M)
    assert "reverse_proxy {" in caddyfile and "dynamic a web 8000" in caddyfile
    assert "header_up X-Forwarded-Proto {scheme}" in caddyfile
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile
    # gunicorn believes the scheme from the network Caddy is on.
    subnet = compose["networks"]["app"]["ipam"]["config"][0]["subnet"]
    assert compose["services"]["web"]["environment"]["TRUSTED_PROXIES"] == subnet
    assert caddy["networks"] == compose["services"]["web"]["networks"] == ["app"]


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(s|m)", value)
    assert m, value
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def test_gunicorn_conf_trusts_the_proxy_only_waits_for_requests_and_recycles_workers(compose, monkeypatch):
    web = compose["services"]["web"]
    monkeypatch.setenv("TRUSTED_PROXIES", web["environment"]["TRUSTED_PROXIES"])
    conf = runpy.run_path(str(DOCKER / "gunicorn.conf.py"))
    allowed = conf["forwarded_allow_ips"].split(",")
    assert "*" not in allowed
    assert set(allowed) == {"127.0.0.1", "::1", web["environment"]["TRUSTED_PROXIES"]}
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
    subnet = compose["services"]["web"]["environment"]["TRUSTED_PROXIES"]
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

def test_minio_keeps_the_photos_private_on_a_volume_with_its_bucket_made_first(compose, compose_dir):
    minio, bucket = compose["services"]["minio"], compose["services"]["minio-bucket"]
    dotenv = read_env_file(compose_dir / ".env")
    assert argv(minio["command"]) == ["minio", "server", "/data"]
    assert minio["volumes"] == ["minio:/data"] and "minio" in compose["volumes"]
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert not minio.get("ports") and minio["expose"] == ["9000"]  # the app network only
    assert minio["networks"] == compose["services"]["web"]["networks"]
    assert minio["environment"] == {"MINIO_ROOT_USER": dotenv["S3_ACCESS_KEY_ID"],
                                    "MINIO_ROOT_PASSWORD": dotenv["S3_SECRET_ACCESS_KEY"]}
    # The one-shot: mc with its alias from the environment, no shell; once, after MinIO is healthy.
    assert argv(bucket["command"]) == ["mc", "mb", "--ignore-existing", f"store/{dotenv['S3_BUCKET']}"]
    assert bucket["environment"]["MC_HOST_store"] == (
        f"http://{dotenv['S3_ACCESS_KEY_ID']}:{dotenv['S3_SECRET_ACCESS_KEY']}@minio:9000")
    assert bucket["depends_on"] == {"minio": {"condition": "service_healthy"}} and bucket["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert compose["services"][name]["depends_on"]["minio-bucket"] == {
            "condition": "service_completed_successfully"}, name


def test_web_and_worker_store_the_photos_in_the_minio_bucket(compose, compose_dir, tmp_path):
    dotenv = read_env_file(compose_dir / ".env")
    for name in ("web", "worker"):
        env = production_env(compose, compose_dir, tmp_path, service=name)
        assert env["S3_ENDPOINT_URL"] == "http://minio:9000", name
        env["DJANGO_SETTINGS_MODULE"] = "fulfilment.settings"
        show = ("import django, json; django.setup(); from django.conf import settings as s; "
                "print(json.dumps(s.STORAGES['default']))")
        out = subprocess.run([sys.executable, "-c", show], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60, check=True)
        storage = json.loads(out.stdout.strip().splitlines()[-1])
        assert storage["BACKEND"] == "storages.backends.s3.S3Storage", name
        options = storage["OPTIONS"]
        assert options["bucket_name"] == dotenv["S3_BUCKET"] and options["endpoint_url"] == "http://minio:9000"
        assert (options["access_key"], options["secret_key"]) == (dotenv["S3_ACCESS_KEY_ID"],
                                                                  dotenv["S3_SECRET_ACCESS_KEY"])


def test_the_templates_storage_secret_is_refused_before_anything_starts(tmp_path):
    compose_dir = compose_dir_with(tmp_path, operator_dotenv(S3_SECRET_ACCESS_KEY=read_env_file(
        DOCKER / "production.env")["S3_SECRET_ACCESS_KEY"]))
    compose = render(compose_dir)
    env = production_env(compose, compose_dir, tmp_path, service="migrate")
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "(fulfilment.E003) S3_SECRET_ACCESS_KEY" in out.stderr and "token_urlsafe(30)" in out.stderr


# --- the settings production really gets -------------------------------------------------------------
def test_check_deploy_is_clean_with_production_settings(compose, compose_dir, tmp_path):
    env = production_env(compose, compose_dir, tmp_path) | {
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
    env = production_env(compose, compose_dir, tmp_path) | {"SECRET_KEY": key}
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "(fulfilment.E001) SECRET_KEY " in out.stderr and reason in out.stderr
    assert "secrets.token_urlsafe(50)" in out.stderr and "docker/.env" in out.stderr


def test_the_image_runs_python_3_13_with_the_locked_dependencies():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.13-", dockerfile, re.M)
    assert "pip install -r requirements/run.lock" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile  # the project itself adds nothing unlocked


def test_the_wsgi_application_believes_the_proxies_of_trusted_proxies(settings):
    import fulfilment.wsgi  # the server's entry point: importing it is what gunicorn does

    networks = {str(n) for n in fulfilment.wsgi.application.proxies}
    assert {str(n) for n in trusted_proxies(settings.TRUSTED_PROXIES)} == networks


def test_the_old_second_name_for_the_proxies_is_refused_with_what_to_set(monkeypatch):
    from fulfilment.apps import check_one_proxy_setting

    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "172.30.80.0/24")
    [error] = check_one_proxy_setting()
    assert error.id == "fulfilment.E002" and "TRUSTED_PROXIES=172.30.80.0/24" in error.hint
    monkeypatch.setenv("TRUSTED_PROXIES", "172.30.80.0/24")
    assert check_one_proxy_setting() == []
    monkeypatch.delenv("FORWARDED_ALLOW_IPS")
    assert check_one_proxy_setting() == []
