"""Delivery of the push notifications the store queued: in a background thread, with the Market's
retry schedule, every attempt and its answer recorded.

Source: https://yandex.ru/dev/market/partner-api/doc/ru/push-notifications/ (the seller's server
not answering). A notification is POSTed as JSON to ``<business URL>/notification`` with the
Market's 10-second timeout. A 200 delivers it. A 400 carrying the documented error body
(``{"error": {"type": UNKNOWN | WRONG_EVENT_FORMAT | DUPLICATED_EVENT}}``) refuses it for good: the
Market does not resend a bad event. Anything else (another status, no answer, a 400 from something
that is not the seller's integration) is tried again every minute for the first hour, every 15
minutes for the rest of the first day, then every hour, and given up 14 days after the first
attempt. The setting ``notify_time_scale`` (1.0: real time) shrinks that schedule for tests:
0.001 makes the minute 60 ms.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from fulfilment.market.notification_values import NotificationErrorType

from .store import Store

log = logging.getLogger("fulfilment.sandbox")
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
GIVE_UP_AFTER = 14 * DAY
TIMEOUT = 10.0  # the Market waits this long for an answer
IDLE = 1.0  # the longest nap between two looks at the queue (a changed time scale is noticed)
FINAL_ERRORS = frozenset(str(t) for t in NotificationErrorType)


def retry_delay(elapsed: float) -> float | None:
    """Seconds of Market time until the next attempt, ``elapsed`` seconds after the first attempt
    failed again; None: give up."""
    if elapsed >= GIVE_UP_AFTER:
        return None
    if elapsed < HOUR:
        return MINUTE
    if elapsed < DAY:
        return 15 * MINUTE
    return HOUR


def is_final_refusal(status: int | None, body: str) -> bool:
    """A 400 with the documented error body: the seller refused the event, it is not sent again."""
    if status != 400:
        return False
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and error.get("type") in FINAL_ERRORS


def post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> tuple[int | None, str]:
    """POST one notification; the HTTP status (None without an answer) and the answer's text."""
    if not url.startswith(("http://", "https://")):
        return None, f"not an http(s) URL: {url!r}"
    data = json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url.rstrip("/") + "/notification", data=data, method="POST",  # noqa: S310 - http(s) only
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) only, checked above
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:  # refused, timed out, a malformed URL
        return None, repr(exc)


class Notifier:
    """The delivery thread of one store: woken when a notification is queued, otherwise it naps
    until the next retry is due. The API's answer never waits for a delivery."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-notifier", daemon=True)
        store.on_notification = self._wake.set

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                nap = self.deliver_due()
            except sqlite3.ProgrammingError:  # the store was closed under us: nothing left to deliver
                return
            except Exception:  # a sandbox bug must not end delivery for good
                log.exception("notification delivery failed")
                nap = IDLE
            self._wake.wait(nap)

    def scale(self) -> float:
        return float(self.store.get_setting("notify_time_scale", 1.0)) or 1.0

    def deliver_due(self) -> float:
        """Send every notification that is due, oldest first; seconds until the next one is."""
        for row in self.store.due_notifications(time.time()):
            if self._stopping.is_set():
                break
            self.deliver(row)
        due = self.store.next_notification_at()
        return IDLE if due is None else min(IDLE, max(0.0, due - time.time()))

    def deliver(self, row: sqlite3.Row) -> str:
        """One attempt at one notification; its new state."""
        started = time.time()
        status, answer = post(row["url"], json.loads(row["body"]))
        ms = (time.time() - started) * 1000
        first = row["first_attempt"] or started
        next_at = None
        if status == 200:
            state = "DELIVERED"
        elif is_final_refusal(status, answer):
            state = "REFUSED"
        else:
            scale = self.scale()
            delay = retry_delay((time.time() - first) / scale)
            state = "PENDING" if delay is not None else "GAVE_UP"
            next_at = time.time() + delay * scale if delay is not None else None
        self.store.record_answer(row["id"], status, answer, ms, state, first, next_at)
        log.debug("notification %s %s → %s (%s)", row["id"], row["type"], status, state)
        return state
