"""Serve the sandbox Market over HTTP (threaded, stdlib only) — in its own process or a test thread."""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import SandboxMarket

log = logging.getLogger("fulfilment.sandbox")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def make_sandbox_server(app: SandboxMarket, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """A bound server; ``port=0`` picks a free port (see ``server.server_port``)."""
    return make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


class SandboxThread:
    """The sandbox in a background thread, for tests: ``with SandboxThread(app) as url: ...``."""

    def __init__(self, app: SandboxMarket, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.server = make_sandbox_server(app, host, port)
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sandbox-market", daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        self.app.notifier.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.app.notifier.stop()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
