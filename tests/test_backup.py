"""The README's backup and restore, as a drill on PostgreSQL: dump, restore into a new database, serve from it."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import urllib.parse

import pytest
from django.contrib.auth.models import User
from django.db import connection

from fulfilment.orders.models import Order

from .builders import make_campaign, make_order
from .deploy_support import (
    IN_CI,
    PROXIED,
    ROOT,
    clean_environ,
    free_port,
    gunicorn_command,
    http_get,
    listening,
    login_form,
    post_login_head,
    read_all,
    site,
    started,
    wait_until,
    web_env,
)

pytestmark = pytest.mark.integration
__all__ = ["site"]


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (bin/test installs postgresql-client with apt-get)")
        pytest.skip(f"{name} not installed (bin/test installs postgresql-client with apt-get)")
    return path


def _pg_args(db: dict) -> list[str]:
    return ["--host", db["HOST"] or "127.0.0.1", "--port", str(db["PORT"] or 5432), "--username", db["USER"]]


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_and_the_dashboard_starts_on_it(site, tmp_path, packer):
    """The README's backup and restore commands, as a drill: dump, restore into a new database, serve from it."""
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
        restored_env = web_env(site, port, DATABASE_URL=restored_url, PGPASSWORD=env["PGPASSWORD"])
        subprocess.run([sys.executable, "manage.py", "migrate", "--check"], cwd=ROOT, env=restored_env, check=True,
                       timeout=120, capture_output=True)
        log = tmp_path / "web.log"
        with started(gunicorn_command(site), restored_env, log) as proc:
            wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
            assert http_get(port, "/healthz", PROXIED)[0] == 200
            cookie, token = login_form(port)
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": packer.username,
                                           "password": "pw-" + packer.username}).encode()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(post_login_head(body, cookie) + body)
                response = read_all(sock)
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
