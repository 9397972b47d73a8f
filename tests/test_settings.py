"""Settings come from the environment, with an embedded default that needs no server."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key

from fulfilment.secret_key import weakness

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'limiter': s.RATE_LIMIT_REDIS_URL,"
    " 'hosts': s.ALLOWED_HOSTS, 'key_length': len(s.SECRET_KEY)}))"
)
CONFIG_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "RATE_LIMIT_REDIS_URL",
               "SECURE_SSL_REDIRECT", "FULFILMENT_VAR_DIR", "DJANGO_ALLOW_ASYNC_UNSAFE")


def run_settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update({"DJANGO_SETTINGS_MODULE": "fulfilment.settings", "FULFILMENT_VAR_DIR": str(tmp_path / "var")})
    clean.update(env)
    out = subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=clean, capture_output=True, text=True,
                         timeout=60, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_no_environment_it_runs_on_sqlite_and_a_serverless_broker(tmp_path):
    s = run_settings(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].startswith(str(tmp_path / "var"))
    assert s["broker"] == "filesystem://"
    assert s["debug"] is False
    assert s["limiter"] == ""
    assert (tmp_path / "var" / "secret_key").exists()
    assert (tmp_path / "var" / "celery" / "queue").is_dir()


def test_importing_the_settings_writes_nothing(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update({"DJANGO_SETTINGS_MODULE": "fulfilment.settings", "FULFILMENT_VAR_DIR": str(tmp_path / "var")})
    subprocess.run([sys.executable, "-c", "import fulfilment.settings"], cwd=ROOT, env=clean, timeout=60, check=True)
    assert list(tmp_path.iterdir()) == []


def test_the_embedded_secret_key_is_kept_between_runs(tmp_path):
    run_settings(tmp_path)
    key = (tmp_path / "var" / "secret_key").read_text()
    run_settings(tmp_path)
    assert (tmp_path / "var" / "secret_key").read_text() == key
    assert len(key) >= 50


def test_production_uses_postgres_and_redis_from_the_environment(tmp_path):
    s = run_settings(tmp_path, DATABASE_URL="postgres://u:p@db.example:5432/fulfilment",
                     CELERY_BROKER_URL="redis://cache.example:6379/0", SECRET_KEY="x" * 60,
                     ALLOWED_HOSTS="pack.example.com")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "fulfilment"
    assert s["broker"] == "redis://cache.example:6379/0"
    assert s["limiter"] == "redis://cache.example:6379/0"
    assert s["hosts"] == ["pack.example.com"]


# check --deploy and the production settings, as compose gives them to each container: tests/test_deploy.py.
def test_generated_keys_are_accepted():
    for _ in range(2000):
        for key in (secrets.token_urlsafe(50), secrets.token_hex(32), get_random_secret_key()):
            assert weakness(key) is None, key


@pytest.mark.parametrize("key", [
    "CHANGE-ME-to-a-long-random-string-of-at-least-50-characters-0123456789",
    "django-insecure-" + "k3j4h5g6f7d8s9a0" * 3,
    "changeme" + secrets.token_urlsafe(50),
])
def test_a_placeholder_key_is_refused(key):
    assert "placeholder" in weakness(key)


def test_a_short_key_is_refused():
    assert "has 49 characters, at least 50" in weakness(secrets.token_urlsafe(50)[:49])


@pytest.mark.parametrize("key", ["x" * 60, "ab" * 30, "0123456789" * 6, "abcdefghijklmnopqrstuvwxyz" * 2,
                                 "password" * 7, secrets.token_urlsafe(30)[:30] * 2])
def test_a_predictable_key_is_refused(key):
    assert "predictable" in weakness(key)


def test_every_refusal_says_what_to_do():
    for key in ("CHANGE-ME" + "x" * 50, "short", "x" * 60):
        assert "secrets.token_urlsafe(50)" in weakness(key) and "docker/.env" in weakness(key)


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI runs against PostgreSQL and Redis")
def test_ci_runs_on_postgres_and_redis():
    from django.conf import settings

    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
