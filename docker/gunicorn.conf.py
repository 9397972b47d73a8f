"""gunicorn for production: ``gunicorn -c docker/gunicorn.conf.py fulfilment.wsgi`` (the compose web service).

Here rather than at the top level: gunicorn reads ./gunicorn.conf.py by itself, and the demo (bin/run) and the
tests start gunicorn from the top level with settings of their own.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"

# docker stop sends SIGTERM: gunicorn stops accepting and lets in-flight requests (a scan batch, a layout
# being sent) finish for this long. compose's stop_grace_period for web must be longer.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
timeout = 60
keepalive = 5

# A worker is replaced after about this many requests, against slow leaks; the jitter keeps the workers from
# restarting all at once. Open screens ask their live regions again every 1-2 s (static/js/live.js): 50 of
# them are ~40 requests a second, which would replace each worker every couple of minutes at 2 000.
max_requests = 20000
max_requests_jitter = 2000

# X-Forwarded-Proto (the scheme) is believed only from these peers: the TLS proxy's network
# (TRUSTED_PROXIES, set by compose.yaml) and the container's own loopback, where the healthcheck runs.
# fulfilment/proxy.py believes X-Forwarded-For (the client's address) from the same peers, by the same setting.
forwarded_allow_ips = ",".join(
    ["127.0.0.1", "::1", *(a.strip() for a in os.environ.get("TRUSTED_PROXIES", "").split(",") if a.strip())]
)

# No gunicornc control socket (gunicorn >= 25 makes one in $HOME): docker's signals run the server, and several
# gunicorns of one user would share the path.
control_socket_disable = True

accesslog = "-"
# The client's address as the proxy saw it, then the proxy's own.
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


# Prometheus (/metrics): with PROMETHEUS_MULTIPROC_DIR set (compose does), every worker writes its figures there
# and a scrape of any worker sums them. Stale files of an earlier run would be summed too: start empty; a
# worker that exits is marked dead so its gauges drop out.
def on_starting(server: object) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # only in multiprocess mode: it reads the folder at import

        multiprocess.mark_process_dead(worker.pid)
