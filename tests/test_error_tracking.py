"""SENTRY_DSN: errors of the web and of Celery tasks reach the tracker, with no secret and no personal data.

The tracker is a local HTTP server that takes sentry-sdk's envelopes as Sentry's ingest does (the real
service is outside this machine); the application runs in its own process, configured only by SENTRY_DSN.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .deploy_support import LEAKING

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "y0_AgAAAAB-market-token-never-leaves"
PHONE = "+79991234567"

APP = r"""
import os, sys, types
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "fulfilment.settings"
django.setup()
from django.http import HttpResponse
from django.test import override_settings
from django.contrib.auth.decorators import login_not_required
from django.views.decorators.csrf import csrf_exempt
from django.urls import path
import sentry_sdk
import fulfilment.urls

TOKEN, PHONE = os.environ.pop("T_TOKEN"), os.environ.pop("T_PHONE")  # not in this source: its lines are sent

@csrf_exempt
@login_not_required
def broken(request):
    buyer = {"phone": PHONE, "name": os.environ.get("T_NAME", "")}  # a local variable with personal data
    raise RuntimeError("the view broke")

urls = types.ModuleType("urls")
urls.urlpatterns = [path("broken/", broken), *fulfilment.urls.urlpatterns]
# Served over HTTP as gunicorn would serve it: sentry-sdk reads the request from the WSGI environ.
import threading, requests
from wsgiref.simple_server import make_server, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
WSGIRequestHandler.log_message = lambda *a: None
with override_settings(ROOT_URLCONF=urls, ALLOWED_HOSTS=["127.0.0.1"]):
    server = make_server("127.0.0.1", 0, get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answer = requests.post(f"http://127.0.0.1:{server.server_port}/broken/?phone=" + PHONE,
                           data={"recipient": os.environ.get("T_NAME", ""), "phone": PHONE},
                           headers={"Api-Key": TOKEN, "Authorization": "Bearer " + TOKEN, "Cookie": "sessionid=abc"})
    assert answer.status_code == 500, answer.status_code
    server.shutdown()

from fulfilment.celery import app
app.conf.task_always_eager = True

@app.task(name="tests.failing")
def failing(token):
    raise ValueError("the task broke")

failing.apply(args=(TOKEN,), kwargs={})
sentry_sdk.flush(5)
print("done")
"""


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # only when sentry-sdk found brotli installed and chose it

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ingest():
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def _events(received: list[bytes]) -> list[dict]:
    events = []
    for envelope in received:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_errors_of_views_and_tasks_reach_the_tracker_without_secrets_or_personal_data(ingest, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in LEAKING}
    env |= {"SENTRY_DSN": f"http://public@127.0.0.1:{ingest.server_port}/1", "SENTRY_ENVIRONMENT": "test",
            "FULFILMENT_VAR_DIR": str(tmp_path)}
    env |= {"T_TOKEN": TOKEN, "T_PHONE": PHONE, "T_NAME": "Иван Покупатель"}
    script = APP
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    events = _events(_Ingest.received)
    kinds = {e["exception"]["values"][-1]["type"] for e in events if "exception" in e}
    assert kinds == {"RuntimeError", "ValueError"}, kinds
    assert all(e["environment"] == "test" for e in events)
    everything = b"".join(_Ingest.received).decode()
    assert TOKEN not in everything
    assert PHONE.lstrip("+") not in everything and "Покупатель" not in everything and "Иван" not in everything
    assert "sessionid=abc" not in everything
    assert all("user" not in e for e in events)


def test_without_a_dsn_nothing_is_started():
    from fulfilment.error_tracking import init_error_tracking

    assert init_error_tracking("", environment="test") is False
