"""Settings come from the environment, with an embedded default that needs no server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'limiter': s.RATE_LIMIT_REDIS_URL,"
    " 'hosts': s.ALLOWED_HOSTS}))"
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


def _production_env() -> dict[str, str]:
    """docker/production.env, the settings production runs with."""
    values = {}
    for line in (ROOT / "docker" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(_production_env())
    env.update({"DJANGO_SETTINGS_MODULE": "fulfilment.settings", "FULFILMENT_VAR_DIR": str(tmp_path / "var")})
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_settings_refuse_debug_and_use_secure_cookies(tmp_path):
    s = run_settings(tmp_path, **_production_env())
    assert s["debug"] is False
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["broker"].startswith("redis://")


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI runs against PostgreSQL and Redis")
def test_ci_runs_on_postgres_and_redis():
    from django.conf import settings

    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
