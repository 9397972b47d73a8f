"""What every handler shares: the store, the clock that stamps changes, the Market's "now" for
time rules, and the order a path names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .clock import UpdateClock, now_utc
from .protocol import ApiError, Request
from .store import Store


class MarketState:
    """The sandbox Market's data as the handlers see it; one per application."""

    def __init__(self, store: Store, clock: UpdateClock | None = None) -> None:
        self.store = store
        self.clock = clock or UpdateClock()

    def touch(self, order: dict[str, Any]) -> None:
        """Bump the order's updateDate (see ``UpdateClock``)."""
        self.clock.touch(order)

    def now(self) -> dt.datetime:
        """The Market's present for its time rules (cutoffs, reports): the real time moved by the
        control plane's clock offset (``clock_offset`` seconds). ``updateDate`` stamps keep real time."""
        return now_utc() + dt.timedelta(seconds=float(self.store.get_setting("clock_offset", 0)))

    def load(self, req: Request, conn: Any = None) -> dict[str, Any]:
        """The order of the path's ``orderId``, if it belongs to the path's campaign; 404 otherwise."""
        order = self.store.order(req.params["orderId"], conn=conn)
        if order is None or order["campaignId"] != req.params["campaignId"]:
            raise ApiError(404, "ORDER_NOT_FOUND", f"Order {req.params['orderId']} not found")
        return order

    def placement(self, order: dict[str, Any]) -> str:
        """FBS, EXPRESS, DBS or LAAS: the campaign's, which decides which rules apply."""
        campaign = self.store.campaign(order["campaignId"])
        return campaign["placement"] if campaign else "FBS"
