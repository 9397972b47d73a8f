"""The sandbox Market: a WSGI application speaking the Partner API's order, shipment and document methods.

It keeps its own storage (``store.Store``), authenticates by ``Api-Key`` (or ``Authorization:
Bearer``), answers errors shaped like the Market's (``status: ERROR, errors: [{code, message}]``),
enforces the documented limits with 420 and ``X-RateLimit-Resource-*`` headers, and has chaos knobs
(latency, a 5xx rate, 420 after N calls per period) for tests. ``/_sandbox/...`` is the control
plane for tests and training (no auth; bind the server to localhost).

This module only composes the parts: ``routes`` finds the handler, ``auth``, ``chaos`` and
``rate_limits`` guard it, the per-area modules answer, ``control`` serves ``/_sandbox/``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from . import cancellation
from .auth import authenticate
from .chaos import Chaos, ChaosGate
from .clock import now_utc
from .control import control
from .notifier import Notifier
from .protocol import ApiError, Request, Response, bad, multipart, serve_wsgi
from .rate_limits import RateLimiter
from .routes import resolve
from .state import MarketState
from .store import Store

log = logging.getLogger("fulfilment.sandbox")


class SandboxMarket:
    """The WSGI application. One instance per server; state lives in ``store``."""

    def __init__(self, store: Store, chaos: Chaos | None = None, failing_codes: Iterable[str] = (),
                 check_delay: float = 2.0) -> None:
        self.store = store
        self.market = MarketState(store)
        self.gate = ChaosGate(chaos or Chaos())
        self.limits = RateLimiter(store)
        self.notifier = Notifier(store)  # started by whoever serves the application
        if failing_codes:
            self.store.set_setting("failing_codes", list(failing_codes))
        self.store.set_setting("check_delay", self.store.get_setting("check_delay", check_delay))

    @property
    def chaos(self) -> Chaos:
        """The knobs in force; tests change them in place."""
        return self.gate.chaos

    @property
    def _rng(self) -> random.Random:
        """The chaos's random source (tests seed it or fix its latency)."""
        return self.gate.rng

    def _touch(self, order: dict[str, Any]) -> None:
        """Bump an order's updateDate as a change through the API would (tests edit stored orders)."""
        self.market.touch(order)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        return serve_wsgi(self.handle, environ, start_response)

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes) -> Response:
        """One request: route, parse, authenticate, settle the order, chaos, limits, the handler; logged."""
        if path == "/_sandbox/limits":  # GET: the peaks of parallel requests; POST: the same, then reset
            return Response(body={"peakInFlight": self.limits.peaks(reset=method == "POST")})
        if path.startswith("/_sandbox/"):
            return control(self.market, self.gate, method, path, raw)
        operation = "unknown"
        try:
            operation, route, params = resolve(method, path)
            if route is None:
                if operation != "unknown":
                    raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here")
                raise ApiError(404, "NOT_FOUND", f"No such resource: {path}")
            if operation in (self.store.get_setting("retired_methods") or ()):
                # A method past its shutdown date (x-deprecation-config) is gone like an unknown path:
                # the spec documents no 410 for any method, so the 404 every method lists, in its shape.
                raise ApiError(404, "NOT_FOUND", f"No such resource: {path}")
            body: Any = None
            if raw and headers.get("content-type", "").startswith("multipart/form-data"):
                body = multipart(headers["content-type"], raw)
            elif raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad(f"Request body is not valid JSON: {exc}") from exc
            req = Request(method, path, parse_qs(query), headers, body, params)
            authenticate(self.store, req)
            if "orderId" in req.params:
                cancellation.settle(self.market, req.params["orderId"])
            key = req.params.get("campaignId") or req.params.get("businessId") or 0
            self.limits.check_budget(operation, key, body)
            with self.limits.parallel_slot(operation, key):
                self.gate.apply()  # the latency is the Market's work: it holds the parallel slot
                resp = route.handler(self.market, req)
        except ApiError as exc:
            resp = Response(exc.status, {"status": "ERROR", "errors": exc.errors}, headers=exc.headers)
        except Exception as exc:  # a sandbox bug still answers in the Market's shape
            log.exception("sandbox failure in %s", operation)
            resp = Response(500, {"status": "ERROR", "errors": [{"code": "INTERNAL_ERROR", "message": repr(exc)}]})
        self.store.log_request(now_utc().isoformat(), method, path + (f"?{query}" if query else ""), operation,
                               raw.decode("utf-8", "replace") if raw else None, resp.status)
        return resp
