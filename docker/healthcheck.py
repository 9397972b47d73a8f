"""Health checks of the compose services, standard library only (fast, no Django start-up).

    python docker/healthcheck.py web            # GET /healthz as the proxy would send it: 200 and "ok"
    python docker/healthcheck.py beat FILE AGE  # beat wrote its schedule FILE within AGE seconds

The worker's check is Celery's own: ``celery inspect ping`` of this container's node (compose.yaml).
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import sys
import time


def web() -> str | None:
    """The problem with the web server, or None. Sends an allowed Host and the proxy's X-Forwarded-Proto:
    with production settings a bare request gets 400 (DisallowedHost) or a redirect to https."""
    port = int(os.environ.get("WEB_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        resp = conn.getresponse()
        body = resp.read()
    except OSError as exc:
        return f"web: {exc}"
    finally:
        conn.close()
    if resp.status != 200:
        return f"web: /healthz answered {resp.status}"
    if json.loads(body).get("status") != "ok":
        return f"web: /healthz says {body[:200]!r}"
    return None


def beat(schedule: str, max_age: float) -> str | None:
    """beat stores its schedule at start and every few minutes while it ticks (the file's suffix depends on
    the dbm module), so an old file means a beat that hangs."""
    files = glob.glob(glob.escape(schedule) + "*")
    if not files:
        return f"beat: no schedule file {schedule}"
    age = time.time() - max(os.path.getmtime(f) for f in files)
    return f"beat: schedule not written for {age:.0f} s" if age > max_age else None


def main(argv: list[str]) -> int:
    if argv[:1] == ["web"]:
        problem = web()
    elif argv[:1] == ["beat"] and len(argv) == 3:
        problem = beat(argv[1], float(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
