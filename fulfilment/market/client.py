"""The Partner API client: the only place that builds the Market's URLs and JSON.

Every method is one documented operation (its ``operationId`` in the docstring). Calls go through
the shared rate limiter, carry a timeout, and turn HTTP failures into ``errors.MarketError``
subclasses that say whether a retry can help.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import requests

from .catalogue import CatalogueApi
from .changes import (
    BoxLayout,
    CancellationDecision,
    CargoPlaces,
    Change,
    DigitalCodes,
    Identifiers,
    ItemCounts,
    ItemRemoval,
    OrderUpdate,
    ReturnDecisions,
    StatusChange,
    StatusChanges,
)
from .chats import ChatsApi
from .documents import DocumentsApi
from .errors import (
    ApiErrorItem,
    MarketBadRequest,
    MarketCredentialsError,
    MarketError,
    MarketNotFound,
    MarketProtocolError,
    MarketRateLimited,
    MarketUnavailable,
)
from .labels import LabelsApi
from .limits import MAX_PAGE_SIZE
from .packing import PackingApi
from .ratelimit import MemoryBackend, RateLimiter
from .returns import ReturnsApi
from .shipment_changes import ExternalOrderId, PalletsCount, ShipmentConfirm, ShipmentTransfer
from .shipments import ShipmentsApi
from .stats import StatsApi
from .types import (
    Campaign,
    CancellationReason,
    ItemsModificationReason,
    Operation,
    Order,
    OrdersFilter,
    OrdersPage,
)

log = logging.getLogger("fulfilment.market")
DEFAULT_BASE_URL = "https://api.partner.market.yandex.ru"
# getOrder's x-deprecation-config: degraded from 2027-01-18, gone from 2027-04-12 (getBusinessOrders replaces it).
GET_ORDER_SHUTDOWN = dt.date(2027, 4, 12)
FILE_TYPES = {"pdf": "application/pdf", "xlsx": "application/vnd.ms-excel",  # ``expect`` → Accept
              "image": "image/jpeg, image/png"}


class Credentials:
    """The token, kept out of ``repr`` and logs."""

    def __init__(self, token: str, scheme: str = "API_KEY") -> None:
        if scheme not in ("API_KEY", "OAUTH"):
            raise ValueError("scheme is API_KEY or OAUTH")
        self._token = token
        self.scheme = scheme

    def headers(self) -> dict[str, str]:
        if self.scheme == "OAUTH":
            return {"Authorization": f"Bearer {self._token}"}
        return {"Api-Key": self._token}

    def __repr__(self) -> str:
        return f"Credentials(scheme={self.scheme!r}, token=***)"


def _retry_after(headers: Any) -> float:
    """Seconds until ``X-RateLimit-Resource-Until`` (an HTTP date or ISO 8601), else a minute."""
    until = headers.get("X-RateLimit-Resource-Until")
    if until:
        moment: dt.datetime | None
        try:
            moment = email.utils.parsedate_to_datetime(until)
        except (TypeError, ValueError):
            try:
                moment = dt.datetime.fromisoformat(until.replace("Z", "+00:00"))
            except ValueError:
                moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return max(1.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())
    return 60.0


class MarketClient(PackingApi, LabelsApi, StatsApi, CatalogueApi, ShipmentsApi, DocumentsApi, ReturnsApi, ChatsApi):
    def __init__(self, credentials: Credentials, base_url: str = DEFAULT_BASE_URL, *, timeout: float = 30.0,
                 limiter: RateLimiter | None = None, session: requests.Session | None = None) -> None:
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.limiter = limiter or RateLimiter(MemoryBackend())
        self.session = session or requests.Session()
        self.calls = 0  # requests actually sent (benchmarks read it)

    def __repr__(self) -> str:
        return f"MarketClient({self.base_url!r}, {self.credentials!r})"

    # --- transport --------------------------------------------------------------------------------
    def _request(self, operation: str, method: str, path: str, *, key: int, params: dict[str, Any] | None = None,
                 body: Any = None, cost: int = 1, expect: str = "json", files: dict[str, Any] | None = None) -> Any:
        lease = self.limiter.acquire(operation, key, cost)
        try:
            data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
            accept = FILE_TYPES.get(expect, "application/json")
            headers = {"Accept": accept, **self.credentials.headers()}
            if data is not None:
                headers["Content-Type"] = "application/json; charset=utf-8"
            self.calls += 1
            try:
                resp = self.session.request(method, self.base_url + path, params=params, data=data, headers=headers,
                                            files=files, timeout=self.timeout)  # files: multipart (chats)
            except requests.Timeout as exc:
                raise MarketUnavailable(f"{operation}: the Market did not answer in {self.timeout:.0f} s",
                                        operation=operation) from exc
            except requests.ConnectionError as exc:
                raise MarketUnavailable(f"{operation}: cannot reach the Market ({exc.__class__.__name__})",
                                        operation=operation) from exc
        finally:
            self.limiter.release(operation, key, lease)
        log.debug("%s %s %s -> %s", operation, method, path, resp.status_code)
        if resp.status_code == 200:
            if expect in FILE_TYPES:
                return resp.content
            if not resp.content:
                return None
            try:
                return resp.json()
            except ValueError as exc:
                raise MarketProtocolError(f"{operation}: the answer is not JSON", status=200,
                                          operation=operation) from exc
        self._raise(operation, key, resp)
        raise AssertionError("unreachable")

    def _raise(self, operation: str, key: int, resp: requests.Response) -> None:
        try:
            payload = resp.json()
            errors = tuple(ApiErrorItem(str(e.get("code", "")), str(e.get("message") or ""))
                           for e in payload.get("errors") or ())
        except (ValueError, AttributeError):
            errors = ()
        text = "; ".join(str(e) for e in errors) or resp.reason or f"HTTP {resp.status_code}"
        kwargs = {"status": resp.status_code, "operation": operation, "errors": errors}
        code = resp.status_code
        if code == 400:
            raise MarketBadRequest(text, **kwargs)
        if code in (401, 403):
            raise MarketCredentialsError(text, **kwargs)
        if code == 404:
            raise MarketNotFound(text, **kwargs)
        if code == 420 or code == 429:
            wait = _retry_after(resp.headers)
            self.limiter.block(operation, key, wait)
            raise MarketRateLimited(text, retry_after=wait, **kwargs)
        if code >= 500:
            raise MarketUnavailable(text, **kwargs)
        raise MarketError(text, **kwargs)

    @staticmethod
    def _result(payload: Any, operation: str) -> Any:
        if not isinstance(payload, dict) or "result" not in payload:
            raise MarketProtocolError(f"{operation}: no result in the answer", operation=operation)
        return payload["result"]

    # --- campaigns --------------------------------------------------------------------------------
    def get_campaigns(self) -> list[Campaign]:
        """getCampaigns: GET v2/campaigns (all pages)."""
        out: list[Campaign] = []
        page = 1
        while True:
            data = self._request("getCampaigns", "GET", "/v2/campaigns", key=0, params={"page": page, "pageSize": 50})
            out += [Campaign.from_json(c) for c in data.get("campaigns") or ()]
            pager = data.get("pager") or {}
            if page >= int(pager.get("pagesCount") or 1):
                return out
            page += 1

    def get_campaign(self, campaign_id: int) -> Campaign:
        """getCampaign: GET v2/campaigns/{campaignId}."""
        data = self._request("getCampaign", "GET", f"/v2/campaigns/{campaign_id}", key=campaign_id)
        return Campaign.from_json(data["campaign"])

    # --- orders -----------------------------------------------------------------------------------
    def get_business_orders(self, business_id: int, filters: OrdersFilter | None = None,
                            page_token: str | None = None, limit: int = MAX_PAGE_SIZE) -> OrdersPage:
        """getBusinessOrders: POST v1/businesses/{businessId}/orders — one page."""
        params: dict[str, Any] = {"limit": min(limit, MAX_PAGE_SIZE)}
        if page_token:
            params["pageToken"] = page_token
        data = self._request("getBusinessOrders", "POST", f"/v1/businesses/{business_id}/orders", key=business_id,
                             params=params, body=(filters or OrdersFilter()).to_json())
        orders = tuple(Order.from_business(o) for o in data.get("orders") or ())
        return OrdersPage(orders, (data.get("paging") or {}).get("nextPageToken"))

    def iter_business_orders(self, business_id: int, filters: OrdersFilter | None = None,
                             limit: int = MAX_PAGE_SIZE, *, attempts: int = 1, max_wait: float = 30.0
                             ) -> Iterator[OrdersPage]:
        """Every page, streamed: one request per page, never all orders in memory. With ``attempts``
        above 1 a page that fails for a transient reason is asked again in place (``wait_and_retry``),
        so a long pass does not start over for one bad page."""
        token: str | None = None
        while True:
            page = wait_and_retry(lambda t=token: self.get_business_orders(business_id, filters, t, limit),
                                  attempts=attempts, max_wait=max_wait)
            yield page
            if not page.next_page_token or not page.orders:
                return
            token = page.next_page_token

    def get_orders(self, campaign_id: int, *, statuses: tuple[str, ...] = (), substatuses: tuple[str, ...] = (),
                   updated_from: dt.datetime | None = None, updated_to: dt.datetime | None = None,
                   only_waiting_for_cancellation_approve: bool = False, page_token: str | None = None,
                   limit: int = MAX_PAGE_SIZE) -> OrdersPage:
        """getOrders (deprecated; off 2027-04-12): GET v2/campaigns/{campaignId}/orders — one page.
        Only for campaigns whose business id is unknown."""
        params: dict[str, Any] = {"limit": min(limit, MAX_PAGE_SIZE)}
        if statuses:
            params["status"] = ",".join(statuses)
        if substatuses:
            params["substatus"] = ",".join(substatuses)
        if updated_from:
            params["updatedAtFrom"] = updated_from.isoformat(timespec="seconds")
        if updated_to:
            params["updatedAtTo"] = updated_to.isoformat(timespec="seconds")
        if only_waiting_for_cancellation_approve:
            params["onlyWaitingForCancellationApprove"] = "true"
        if page_token:
            params["pageToken"] = page_token
        data = self._request("getOrders", "GET", f"/v2/campaigns/{campaign_id}/orders", key=campaign_id,
                             params=params)
        return OrdersPage(tuple(Order.from_v2(o, campaign_id) for o in data.get("orders") or ()),
                          (data.get("paging") or {}).get("nextPageToken"))

    def get_order(self, campaign_id: int, order_id: int) -> Order:
        """getOrder (deprecated; off 2027-04-12): GET v2/campaigns/{campaignId}/orders/{orderId}."""
        data = self._request("getOrder", "GET", f"/v2/campaigns/{campaign_id}/orders/{order_id}", key=campaign_id)
        return Order.from_v2(data["order"], campaign_id)

    # --- order changes ----------------------------------------------------------------------------
    def update_order(self, campaign_id: int, order_id: int, *, customer: dict[str, str] | None = None,
                     delivery_dates: tuple[dt.date, dt.date] | None = None,
                     delivery_times: tuple[str, str] | None = None) -> list[Operation]:
        """updateOrder (seed 003): POST v1/campaigns/{campaignId}/orders/update — recipient and/or
        delivery interval; returns the operations to follow."""
        body = OrderUpdate(order_id, tuple((customer or {}).items()), delivery_dates, delivery_times).body()
        data = self._request("updateOrder", "POST", f"/v1/campaigns/{campaign_id}/orders/update", key=campaign_id,
                             body=body)
        return [Operation(o["id"], o["type"]) for o in self._result(data, "updateOrder")["operations"]]


    # --- a stored change, as the outbox sends it --------------------------------------------------
    def send_change(self, campaign_id: int, order_id: int, change: Change) -> Any:
        """Send one change recorded by the outbox; returns what the operation's method returns."""
        match change:
            case BoxLayout():
                return self.set_order_box_layout(campaign_id, order_id, [list(box) for box in change.boxes],
                                                 change.allow_remove)
            case StatusChange():
                return self.update_order_status(campaign_id, order_id, change.status, change.substatus)
            case StatusChanges():
                return self.update_order_statuses(campaign_id, [(o.order_id, o.status, o.substatus)
                                                                for o in change.orders])
            case Identifiers():
                return self.provide_order_item_identifiers(campaign_id, order_id,
                                                           {i.item_id: list(i.instances) for i in change.items})
            case ItemCounts():
                return self.update_order_items(campaign_id, order_id, {i.item_id: i.count for i in change.items},
                                               ItemsModificationReason(change.reason),
                                               {i.item_id: list(i.instances) for i in change.items if i.instances})
            case CargoPlaces():
                return self.set_order_shipment_boxes(campaign_id, order_id, change.shipment_id, change.places)
            case CancellationDecision():
                reason = CancellationReason(change.reason) if change.reason else None
                return self.accept_order_cancellation(campaign_id, order_id, change.accepted, reason)
            case DigitalCodes():
                return self.provide_order_digital_codes(campaign_id, order_id, list(change.items))
            case OrderUpdate():
                return self.update_order(campaign_id, order_id, customer=dict(change.customer) or None,
                                         delivery_dates=change.delivery_dates, delivery_times=change.delivery_times)
            case ItemRemoval():
                return self.send_change(campaign_id, order_id, change.change)
            case ReturnDecisions():
                return self.submit_return_decision(campaign_id, change.order_id, change.return_id, change.decisions)
            case ShipmentTransfer() | PalletsCount() | ShipmentConfirm() | ExternalOrderId():
                return self.send_shipment_change(campaign_id, order_id, change)
        raise TypeError(f"not a change the client can send: {change!r}")


def wait_and_retry(call: Any, *, attempts: int = 5, max_wait: float = 30.0) -> Any:
    """Run ``call()`` retrying transient failures: a 420 when the wait is at most ``max_wait``, 5xx and
    timeouts with backoff; ``attempts`` calls at most. (A task's own failures use Celery's retry.)"""
    for attempt in range(attempts):
        try:
            return call()
        except MarketRateLimited as exc:
            if attempt == attempts - 1 or exc.retry_after > max_wait:
                raise
            time.sleep(exc.retry_after)
        except MarketUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(min(max_wait, 0.5 * 2**attempt))
    raise AssertionError("unreachable")
