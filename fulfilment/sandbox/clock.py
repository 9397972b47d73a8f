"""The sandbox's clock: UTC and Moscow time, the Market's time format, and ``updateDate`` stamps."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

MSK = ZoneInfo("Europe/Moscow")
UTC = dt.UTC


def now_utc() -> dt.datetime:
    return dt.datetime.now(UTC)


def iso_msk(moment: dt.datetime) -> str:
    """A moment as the Market writes it: Moscow time, whole seconds, with the offset."""
    return moment.astimezone(MSK).isoformat(timespec="seconds")


class UpdateClock:
    """Stamps an order's ``updateDate`` on every change, strictly increasing across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0

    def touch(self, order: dict[str, Any]) -> None:
        """Bump updateDate; strictly increasing so that a watermark never skips a change."""
        with self._lock:
            stamp = max(time.time(), self._last + 1e-6)
            self._last = stamp
        moment = dt.datetime.fromtimestamp(stamp, UTC)
        order["updateDate"] = iso_msk(moment)
        order["_sandbox"]["updatedUtc"] = moment.isoformat(timespec="microseconds")
