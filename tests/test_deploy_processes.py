"""The compose services' processes, started here with the settings compose gives them: their healthcheck
commands, gunicorn's trust of the proxy, the refusal of the template key, and a graceful stop on SIGTERM."""

from __future__ import annotations

import os
import re
import runpy
import signal
import socket
import subprocess
import time
import urllib.parse

import pytest

from .deploy_support import (
    DOCKER,
    PROXIED,
    ROOT,
    SITE_HOST,
    argv,
    free_port,
    gunicorn_command,
    healthcheck_argv,
    http_get,
    listening,
    login_form,
    post_login_head,
    production_env,
    read_all,
    read_env_file,
    site,
    started,
    wait_until,
    web_env,
)

pytestmark = pytest.mark.integration
__all__ = ["site"]  # the fixture, shared with test_backup.py


def test_the_web_healthcheck_passes_with_production_settings(site, tmp_path):
    port = free_port()
    env = web_env(site, port)
    log = tmp_path / "web.log"
    with started(gunicorn_command(site), env, log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        assert proc.poll() is None, log.read_text()
        web = site[0]["services"]["web"]
        # As Docker runs it: a failure within start_period (the worker still booting, which on a loaded
        # machine takes longer than the check's own 5 s timeout) does not count; one pass is healthy.
        start_period = float(str(web["healthcheck"]["start_period"]).rstrip("s"))

        def passes() -> bool:
            return subprocess.run(healthcheck_argv(web), cwd=ROOT, env=env, capture_output=True,
                                  timeout=30).returncode == 0

        wait_until(passes, start_period, "the healthcheck to pass within the service's start_period", log,
                   interval=1)
        # What the old healthcheck did: a bare request is no host of ours (400), and plain http is redirected.
        assert http_get(port, "/healthz", {})[0] == 400
        assert http_get(port, "/healthz", {"Host": SITE_HOST})[0] == 301
    check = subprocess.run(healthcheck_argv(site[0]["services"]["web"]), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 1 and "web:" in check.stderr


def test_x_forwarded_proto_is_believed_only_from_the_proxy(site, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    with started(gunicorn_command(site), web_env(site, port), log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        status, _, body = http_get(port, "/healthz", PROXIED)
        assert status == 200, body
        # 127.0.0.2 is on this machine's loopback but is not the proxy: its claim of https is ignored.
        status, headers, _ = http_get(port, "/healthz", PROXIED, source="127.0.0.2")
        assert status == 301
        assert dict(headers)["Location"] == f"https://{SITE_HOST}/healthz"


def test_the_web_server_refuses_the_template_secret_and_says_what_to_do(site, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    placeholder = read_env_file(DOCKER / "production.env")["SECRET_KEY"]
    with started(gunicorn_command(site), web_env(site, port, SECRET_KEY=placeholder), log) as proc:
        assert proc.wait(60) != 0
    out = log.read_text()
    assert "SECRET_KEY is a placeholder" in out and "secrets.token_urlsafe(50)" in out
    assert not listening(port)


def test_sigterm_lets_an_in_flight_request_finish_and_gunicorn_exits_in_time(site, tmp_path):
    conf = runpy.run_path(str(DOCKER / "gunicorn.conf.py"))
    port = free_port()
    log = tmp_path / "web.log"
    with started(gunicorn_command(site), web_env(site, port), log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        cookie, token = login_form(port)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "nobody",
                                       "password": "wrong"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            # A slow client (a scanner's batch on a warehouse Wi-Fi): half the request is in when docker stops web.
            sock.sendall(post_login_head(body, cookie) + body[:20])
            time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            time.sleep(2.0)
            assert proc.poll() is None, "gunicorn did not wait for the request in flight"
            sock.sendall(body[20:])
            response = read_all(sock)
        assert response.startswith(b"HTTP/1.1 200"), response[:300]
        assert proc.wait(conf["graceful_timeout"] + 5) == 0
        assert time.monotonic() - stopped_at < conf["graceful_timeout"]
    assert "Handling signal: term" in log.read_text()


def test_the_worker_healthcheck_pings_this_containers_worker(site, tmp_path):
    compose, compose_dir, tmp = site
    worker = compose["services"]["worker"]
    env = production_env(compose, compose_dir, tmp, "worker") | {"HOSTNAME": socket.gethostname()}
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


def test_the_beat_healthcheck_sees_the_schedule_written_and_a_stale_one(site, tmp_path):
    compose, compose_dir, tmp = site
    beat = compose["services"]["beat"]
    # The container's volume path, here under tmp_path: the same command and check otherwise.
    container_path = "/var/lib/fulfilment/celerybeat-schedule"
    schedule = str(tmp_path / "celerybeat-schedule")
    cmd = [schedule if a == container_path else a for a in argv(beat["command"])]
    check_cmd = [schedule if a == container_path else a for a in healthcheck_argv(beat)]
    assert cmd != argv(beat["command"]) and check_cmd != healthcheck_argv(beat)
    env = production_env(compose, compose_dir, tmp, "beat")
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


def test_metrics_sum_every_gunicorn_worker_and_start_from_nothing(site, tmp_path):
    port = free_port()
    env = web_env(site, port, WEB_CONCURRENCY="3", WEB_THREADS="1")
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_99999.db").write_bytes(b"stale figures of an earlier run")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    log = tmp_path / "web.log"
    with started(gunicorn_command(site), env, log) as proc:
        wait_until(lambda: listening(port) or proc.poll() is not None, 60, "gunicorn", log)
        assert proc.poll() is None, log.read_text()
        for _ in range(30):
            assert http_get(port, "/healthz", PROXIED)[0] == 200
        status, _, body = http_get(port, "/metrics", PROXIED)
        assert status == 200, body[:500]
    text = body.decode()
    served = sum(float(v) for v in re.findall(
        r'^django_http_requests_total_by_view_transport_method_total\{[^}]*view="health"[^}]*\} (\S+)$', text, re.M))
    assert served == 30, text[:2000]
    assert "fulfilment_outbox_backlog" in text and "fulfilment_sync_lag_seconds" in text
    assert not (folder / "counter_99999.db").exists()
