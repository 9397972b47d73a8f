"""The sandbox Market: a WSGI application speaking the Partner API's order methods.

It keeps its own storage (``store.Store``), authenticates by ``Api-Key`` (or ``Authorization:
Bearer``), answers errors shaped like the Market's (``status: ERROR, errors: [{code, message}]``),
enforces the documented limits with 420 and ``X-RateLimit-Resource-*`` headers, and has chaos knobs
(latency, a 5xx rate, 420 after N calls per period) for tests. ``/_sandbox/...`` is the control
plane for tests and training (no auth; bind the server to localhost).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import random
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fulfilment.market.limits import LIMITS, MAX_DATE_RANGE_DAYS, MAX_PAGE_SIZE, MAX_STATUS_UPDATES

from . import rules
from .labels import DEFAULT_FORMAT, PAGE_FORMATS, render_labels
from .render import to_v1, to_v2
from .store import Store

MSK = ZoneInfo("Europe/Moscow")
log = logging.getLogger("fulfilment.sandbox")
UTC = dt.UTC
CANCEL_WINDOW = dt.timedelta(hours=48)
DIGITAL_WINDOW = dt.timedelta(minutes=30)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = [{"code": code, "message": message}]
        self.headers = headers or {}

    @classmethod
    def many(cls, errors: list[rules.MarketError]) -> ApiError:
        exc = cls(400, errors[0].code, errors[0].message)
        exc.errors = [e.as_dict() for e in errors]
        return exc


def bad(message: str, code: str = "BAD_REQUEST") -> ApiError:
    return ApiError(400, code, message)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    params: dict[str, int] = field(default_factory=dict)
    business_id: int | None = None

    def q(self, name: str, *aliases: str) -> str | None:
        for key in (name, *aliases):
            if self.query.get(key):
                return self.query[key][0]
        return None

    def qlist(self, name: str) -> list[str]:
        out: list[str] = []
        for v in self.query.get(name, []):
            out.extend(x for x in v.split(",") if x)
        return out


@dataclass
class Response:
    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Chaos:
    """Test knobs: latency, a rate of 500s, and 420 after ``burst_after`` calls in ``burst_period`` s."""

    latency_ms: int = 0
    error_rate: float = 0.0
    burst_after: int = 0
    burst_period: float = 60.0
    seed: int | None = None


def now_utc() -> dt.datetime:
    return dt.datetime.now(UTC)


def iso_msk(moment: dt.datetime) -> str:
    return moment.astimezone(MSK).isoformat(timespec="seconds")


class SandboxMarket:
    """The WSGI application. One instance per server; state lives in ``store``."""

    def __init__(self, store: Store, chaos: Chaos | None = None, failing_codes: Iterable[str] = (),
                 check_delay: float = 2.0) -> None:
        self.store = store
        self.chaos = chaos or Chaos()
        self._rng = random.Random(self.chaos.seed)
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, int], deque[float]] = defaultdict(deque)
        self._burst_hits: deque[float] = deque()
        self._in_flight: dict[tuple[str, int], int] = defaultdict(int)
        self._updated_lock = threading.Lock()
        self._last_update = 0.0
        if failing_codes:
            self.store.set_setting("failing_codes", list(failing_codes))
        self.store.set_setting("check_delay", self.store.get_setting("check_delay", check_delay))
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[[Request], Response]]] = []
        r = self._route
        c = r"/v2/campaigns/(?P<campaignId>\d+)"
        o = c + r"/orders/(?P<orderId>\d+)"
        r("GET", r"/v2/campaigns", "getCampaigns", self.get_campaigns)
        r("GET", c, "getCampaign", self.get_campaign)
        r("POST", r"/v1/businesses/(?P<businessId>\d+)/orders", "getBusinessOrders", self.get_business_orders)
        r("GET", c + r"/orders", "getOrders", self.get_orders)
        r("POST", c + r"/orders/status-update", "updateOrderStatuses", self.update_order_statuses)
        r("GET", o, "getOrder", self.get_order)
        r("PUT", o + r"/boxes", "setOrderBoxLayout", self.set_box_layout)
        r("PUT", o + r"/identifiers", "provideOrderItemIdentifiers", self.provide_identifiers)
        r("POST", o + r"/identifiers/status", "getOrderIdentifiersStatus", self.identifiers_status)
        r("PUT", o + r"/items", "updateOrderItems", self.update_items)
        r("PUT", o + r"/status", "updateOrderStatus", self.update_status)
        r("PUT", o + r"/delivery/shipments/(?P<shipmentId>\d+)/boxes", "setOrderShipmentBoxes",
          self.set_shipment_boxes)
        r("PUT", o + r"/cancellation/accept", "acceptOrderCancellation", self.accept_cancellation)
        r("POST", o + r"/deliverDigitalGoods", "provideOrderDigitalCodes", self.digital_codes)
        r("GET", o + r"/delivery/labels", "generateOrderLabels", self.labels)
        r("GET", o + r"/delivery/labels/data", "getOrderLabelsData", self.labels_data)
        r("GET", o + r"/delivery/shipments/(?P<shipmentId>\d+)/boxes/(?P<boxId>\d+)/label", "generateOrderLabel",
          self.label)
        r("GET", o + r"/buyer", "getOrderBuyerInfo", self.buyer)
        r("POST", c + r"/stats/orders", "getOrdersStats", self.stats)
        r("POST", r"/v1/campaigns/(?P<campaignId>\d+)/orders/update", "updateOrder", self.update_order)

    def _route(self, method: str, pattern: str, operation: str, handler: Callable[[Request], Response]) -> None:
        self.routes.append((method, re.compile(pattern + r"/?$"), operation, handler))

    # --- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        resp = self.handle(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", "/"),
            environ.get("QUERY_STRING", ""),
            {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")},
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)),
        )
        if isinstance(resp.body, bytes | bytearray):
            payload = bytes(resp.body)
        else:
            payload = json.dumps(resp.body, ensure_ascii=False).encode()
        headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(payload)))]
        headers += list(resp.headers.items())
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                  405: "Method Not Allowed", 420: "Enhance Your Calm", 500: "Internal Server Error"}
        start_response(f"{resp.status} {reason.get(resp.status, 'Unknown')}", headers)
        return [payload]

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes) -> Response:
        if path.startswith("/_sandbox/"):
            return self.control(method, path, raw)
        operation = "unknown"
        try:
            route = None
            for m, pattern, op, handler in self.routes:
                match = pattern.match(path)
                if match:
                    operation = op
                    if m == method:
                        route = (handler, match)
                        break
            if route is None:
                if operation != "unknown":
                    raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here")
                raise ApiError(404, "NOT_FOUND", f"No such resource: {path}")
            handler, match = route
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad(f"Request body is not valid JSON: {exc}") from exc
            req = Request(method, path, parse_qs(query), headers, body,
                          {k: int(v) for k, v in match.groupdict().items()})
            self._authenticate(req)
            if "orderId" in req.params:
                self._settle(req.params["orderId"])
            key = req.params.get("campaignId") or req.params.get("businessId") or 0
            self._apply_chaos()
            self._check_limits(operation, key, body)
            limit = LIMITS.get(operation)
            slot = (operation, key)
            if limit and limit.parallel:
                with self._lock:
                    if self._in_flight[slot] >= limit.parallel:
                        raise ApiError(420, "LIMIT_EXCEEDED",
                                       f"More than {limit.parallel} parallel requests to {operation}",
                                       self._limit_headers(1))
                    self._in_flight[slot] += 1
            try:
                resp = handler(req)
            finally:
                if limit and limit.parallel:
                    with self._lock:
                        self._in_flight[slot] -= 1
        except ApiError as exc:
            resp = Response(exc.status, {"status": "ERROR", "errors": exc.errors}, headers=exc.headers)
        except Exception as exc:  # a sandbox bug still answers in the Market's shape
            log.exception("sandbox failure in %s", operation)
            resp = Response(500, {"status": "ERROR", "errors": [{"code": "INTERNAL_ERROR", "message": repr(exc)}]})
        self.store.log_request(now_utc().isoformat(), method, path + (f"?{query}" if query else ""), operation,
                               raw.decode("utf-8", "replace") if raw else None, resp.status)
        return resp

    # --- auth, limits, chaos ----------------------------------------------------------------------
    def _authenticate(self, req: Request) -> None:
        token = req.headers.get("api-key")
        auth = req.headers.get("authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            raise ApiError(401, "UNAUTHORIZED", "Authorization is missing: send the Api-Key header")
        business_id = self.store.business_for_key(token)
        if business_id is None:
            raise ApiError(403, "FORBIDDEN", "The API key is not valid")
        req.business_id = business_id
        if "businessId" in req.params and req.params["businessId"] != business_id:
            raise ApiError(403, "FORBIDDEN", f"No access to business {req.params['businessId']}")
        if "campaignId" in req.params:
            campaign = self.store.campaign(req.params["campaignId"])
            if campaign is None or campaign["business_id"] != business_id:
                raise ApiError(403, "FORBIDDEN", f"No access to campaign {req.params['campaignId']}")

    @staticmethod
    def _limit_headers(wait_seconds: float) -> dict[str, str]:
        until = now_utc() + dt.timedelta(seconds=max(wait_seconds, 1))
        return {"X-RateLimit-Resource-Until": until.strftime("%a, %d %b %Y %H:%M:%S GMT"),
                "X-RateLimit-Resource-Remaining": "0"}

    def _check_limits(self, operation: str, key: int, body: Any) -> None:
        limit = LIMITS.get(operation)
        if limit is None:
            return
        cost = 1
        if limit.counts_orders and isinstance(body, dict):
            cost = max(1, len(body.get("orders") or []))
        amount = self.store.get_setting(f"limit:{operation}", limit.amount)
        period = limit.period
        now = time.monotonic()
        with self._lock:
            hits = self._hits[(operation, key)]
            while hits and hits[0] <= now - period:
                hits.popleft()
            if len(hits) + cost > amount:
                wait = period - (now - hits[0]) if hits else period
                raise ApiError(420, "LIMIT_EXCEEDED", f"Limit of {amount} per {period:.0f} s for {operation} exceeded",
                               self._limit_headers(wait))
            hits.extend([now] * cost)

    def _apply_chaos(self) -> None:
        chaos = self.chaos
        if chaos.latency_ms:
            time.sleep(self._rng.uniform(0, chaos.latency_ms) / 1000)
        if chaos.burst_after:
            now = time.monotonic()
            with self._lock:
                while self._burst_hits and self._burst_hits[0] <= now - chaos.burst_period:
                    self._burst_hits.popleft()
                if len(self._burst_hits) >= chaos.burst_after:
                    wait = chaos.burst_period - (now - self._burst_hits[0])
                    raise ApiError(420, "LIMIT_EXCEEDED", "Too many requests (sandbox burst limit)",
                                   self._limit_headers(wait))
                self._burst_hits.append(now)
        if chaos.error_rate and self._rng.random() < chaos.error_rate:
            raise ApiError(500, "INTERNAL_ERROR", "Sandbox chaos: internal error")

    # --- helpers ----------------------------------------------------------------------------------
    def _touch(self, order: dict[str, Any]) -> None:
        """Bump updateDate; strictly increasing so that a watermark never skips a change."""
        with self._updated_lock:
            stamp = max(time.time(), self._last_update + 1e-6)
            self._last_update = stamp
        moment = dt.datetime.fromtimestamp(stamp, UTC)
        order["updateDate"] = iso_msk(moment)
        order["_sandbox"]["updatedUtc"] = moment.isoformat(timespec="microseconds")

    def _load(self, req: Request, conn: Any = None) -> dict[str, Any]:
        order = self.store.order(req.params["orderId"], conn=conn)
        if order is None or order["campaignId"] != req.params["campaignId"]:
            raise ApiError(404, "ORDER_NOT_FOUND", f"Order {req.params['orderId']} not found")
        return order

    def _settle(self, order_id: int) -> None:
        """Apply what time has done to the order (an unanswered cancellation), in its own transaction,
        so that a refused request cannot roll it back."""
        with self.store.tx() as conn:
            order = self.store.order(order_id, conn=conn)
            if order is not None and self._expire_cancellation(order):
                self.store.save_order(order, conn=conn)

    def _expire_cancellation(self, order: dict[str, Any]) -> bool:
        """A cancellation request not answered within 48 hours cancels the order by itself."""
        asked = order["_sandbox"].get("cancelRequestedAt")
        if (order.get("cancelRequested") and asked and order["status"] in ("DELIVERY", "PICKUP")
                and now_utc() - dt.datetime.fromisoformat(asked) > CANCEL_WINDOW):
            order.update(status="CANCELLED", substatus="USER_CHANGED_MIND", cancelRequested=False)
            self._touch(order)
            return True
        return False

    def _placement(self, order: dict[str, Any]) -> str:
        campaign = self.store.campaign(order["campaignId"])
        return campaign["placement"] if campaign else "FBS"

    @staticmethod
    def _require_processing(order: dict[str, Any], what: str) -> None:
        if order["status"] != "PROCESSING" or order["substatus"] not in ("STARTED", "PACKAGING"):
            raise bad(f"{what} is possible only while the order is PROCESSING/STARTED; it is "
                      f"{order['status']}/{order['substatus']}", "STATUS_NOT_ALLOWED")

    # --- campaigns --------------------------------------------------------------------------------
    def _campaign_dto(self, row: Any) -> dict[str, Any]:
        return {"id": row["id"], "domain": row["domain"], "placementType": row["placement"],
                "business": {"id": row["business_id"], "name": row["business_name"]},
                "apiAvailability": "AVAILABLE"}

    def get_campaigns(self, req: Request) -> Response:
        rows = self.store.campaigns(req.business_id or 0)
        return Response(body={"campaigns": [self._campaign_dto(r) for r in rows],
                              "pager": {"total": len(rows), "from": 1 if rows else 0, "to": len(rows),
                                        "currentPage": 1, "pagesCount": 1, "pageSize": max(len(rows), 1)}})

    def get_campaign(self, req: Request) -> Response:
        return Response(body={"campaign": self._campaign_dto(self.store.campaign(req.params["campaignId"]))})

    # --- listing ----------------------------------------------------------------------------------
    @staticmethod
    def _encode_token(updated: str, order_id: int) -> str:
        return base64.urlsafe_b64encode(json.dumps([updated, order_id]).encode()).decode().rstrip("=")

    @staticmethod
    def _decode_token(token: str) -> tuple[str, int]:
        try:
            updated, order_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return str(updated), int(order_id)
        except (ValueError, TypeError) as exc:
            raise bad("pageToken is not valid", "INVALID_PAGE_TOKEN") from exc

    @staticmethod
    def _limit(req: Request) -> int:
        raw = req.q("limit")
        if raw is None:
            return MAX_PAGE_SIZE
        try:
            value = int(raw)
        except ValueError as exc:
            raise bad("limit must be a number") from exc
        if value < 1:
            raise bad("limit must be at least 1")
        return min(value, MAX_PAGE_SIZE)  # the Market truncates larger values

    @staticmethod
    def _range(frm: dt.datetime | None, to: dt.datetime | None, name: str) -> None:
        if frm and to:
            if to < frm:
                raise bad(f"{name}: the end is before the start", "INVALID_DATE_RANGE")
            if to - frm > dt.timedelta(days=MAX_DATE_RANGE_DAYS):
                raise bad(f"{name}: at most {MAX_DATE_RANGE_DAYS} days per request", "INVALID_DATE_RANGE")

    @staticmethod
    def _parse_dt(value: str | None, name: str) -> dt.datetime | None:
        if not value:
            return None
        try:
            if re.match(r"^\d{2}-\d{2}-\d{4}$", value):
                return dt.datetime.strptime(value, "%d-%m-%Y").replace(tzinfo=MSK)
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise bad(f"{name}: {value!r} is not a date", "INVALID_DATE") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=MSK)

    def _select(self, where: list[str], params: list[Any], after: tuple[str, int] | None, limit: int
                ) -> tuple[list[dict[str, Any]], str | None]:
        if after:
            where.append("(updated_at > ? OR (updated_at = ? AND id > ?))")
            params += [after[0], after[0], after[1]]
        sql = ("SELECT id, updated_at FROM market_order WHERE " + " AND ".join(where or ["1=1"])
               + " ORDER BY updated_at, id LIMIT ?")
        rows = self.store.query(sql, [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        orders = []
        for row in rows:
            order = self.store.order(row["id"])
            assert order is not None
            if self._expire_cancellation(order):
                self.store.save_order(order)
            orders.append(order)
        token = self._encode_token(rows[-1]["updated_at"], rows[-1]["id"]) if more and rows else None
        return orders, token

    def _common_filters(self, body: dict[str, Any]) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if body.get("orderIds"):
            ids = [int(i) for i in body["orderIds"]]
            where.append(f"id IN ({','.join('?' * len(ids))})")
            params += ids
        for key, column in (("statuses", "status"), ("substatuses", "substatus")):
            values = body.get(key) or []
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params += values
        if body.get("fake") is not None:
            where.append("fake = ?")
            params.append(int(bool(body["fake"])))
        if body.get("waitingForCancellationApprove"):
            where.append("cancel_requested = 1 AND status IN ('DELIVERY', 'PICKUP')")
        return where, params

    def _date_filters(self, where: list[str], params: list[Any], created: tuple[Any, Any],
                      updated: tuple[Any, Any], shipment: tuple[Any, Any], has_ids: bool) -> None:
        c_from, c_to = created
        u_from, u_to = updated
        s_from, s_to = shipment
        self._range(c_from, c_to, "creation date")
        self._range(u_from, u_to, "update date")
        self._range(s_from, s_to, "shipment date")
        if not any((c_from, c_to, u_from, u_to, s_from, s_to)) and not has_ids:
            c_from = now_utc() - dt.timedelta(days=MAX_DATE_RANGE_DAYS)  # the documented default window
        if c_from:
            where.append("created_at >= ?")
            params.append(c_from.astimezone(UTC).isoformat(timespec="microseconds"))
        if c_to:
            if c_from and c_to - c_from < dt.timedelta(days=1):
                c_to = c_from + dt.timedelta(days=1)
            where.append("created_at < ?")
            params.append(c_to.astimezone(UTC).isoformat(timespec="microseconds"))
        if u_from:
            where.append("updated_at >= ?")
            params.append(u_from.astimezone(UTC).isoformat(timespec="microseconds"))
        if u_to:
            where.append("updated_at < ?")
            params.append(u_to.astimezone(UTC).isoformat(timespec="microseconds"))
        if s_from:
            where.append("shipment_date >= ?")
            params.append(s_from.date().isoformat())
        if s_to:
            where.append("shipment_date <= ?")
            params.append(s_to.date().isoformat())

    def get_business_orders(self, req: Request) -> Response:
        body = req.body or {}
        if not isinstance(body, dict):
            raise bad("The request body must be a JSON object")
        where, params = self._common_filters(body)
        where.insert(0, "business_id = ?")
        params.insert(0, req.params["businessId"])
        if body.get("campaignIds"):
            ids = [int(i) for i in body["campaignIds"]]
            for cid in ids:
                campaign = self.store.campaign(cid)
                if campaign is None or campaign["business_id"] != req.business_id:
                    raise ApiError(403, "FORBIDDEN", f"No access to campaign {cid}")
            where.append(f"campaign_id IN ({','.join('?' * len(ids))})")
            params += ids
        dates = body.get("dates") or {}

        def d(name: str) -> dt.datetime | None:
            return self._parse_dt(dates.get(name), name)

        self._date_filters(where, params, (d("creationDateFrom"), d("creationDateTo")),
                           (d("updateDateFrom"), d("updateDateTo")), (d("shipmentDateFrom"), d("shipmentDateTo")),
                           bool(body.get("orderIds")))
        token = req.q("pageToken", "page_token")
        orders, next_token = self._select(where, params, self._decode_token(token) if token else None,
                                          self._limit(req))
        result: dict[str, Any] = {"orders": [to_v1(o) for o in orders]}
        if next_token:
            result["paging"] = {"nextPageToken": next_token}
        return Response(body=result)

    def get_orders(self, req: Request) -> Response:
        """Deprecated GET v2 campaigns/{id}/orders (retired 2027-04-12), same data as OrderDTO."""
        body = {
            "orderIds": req.qlist("orderIds") or None,
            "statuses": req.qlist("status") or None,
            "substatuses": req.qlist("substatus") or None,
            "fake": None if req.q("fake") is None else req.q("fake") == "true",
            "waitingForCancellationApprove": req.q("onlyWaitingForCancellationApprove") == "true",
        }
        where, params = self._common_filters(body)
        where.insert(0, "campaign_id = ?")
        params.insert(0, req.params["campaignId"])

        def d(name: str) -> dt.datetime | None:
            return self._parse_dt(req.q(name), name)

        self._date_filters(where, params, (d("fromDate"), d("toDate")), (d("updatedAtFrom"), d("updatedAtTo")),
                           (d("supplierShipmentDateFrom"), d("supplierShipmentDateTo")), bool(body["orderIds"]))
        buyer_type = req.q("buyerType")
        token = req.q("pageToken", "page_token")
        orders, next_token = self._select(where, params, self._decode_token(token) if token else None,
                                          self._limit(req))
        if buyer_type:
            orders = [o for o in orders if o.get("buyerType", "PERSON") == buyer_type]
        result: dict[str, Any] = {"orders": [to_v2(o) for o in orders],
                                  "pager": {"from": 1 if orders else 0, "to": len(orders),
                                            "pageSize": self._limit(req)}}
        if next_token:
            result["paging"] = {"nextPageToken": next_token}
        return Response(body=result)

    def get_order(self, req: Request) -> Response:
        return Response(body={"order": to_v2(self._load(req))})

    # --- packing ----------------------------------------------------------------------------------
    def set_box_layout(self, req: Request) -> Response:
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("boxes"), list):
            raise bad("boxes is required", "BAD_REQUEST")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            self._require_processing(order, "Changing the box layout")
            errors, new_counts = rules.check_box_layout(order, body)
            if errors:
                raise ApiError.many(errors)
            # Removal (allowRemove): irreversible, the buyer is told at once.
            order["items"] = [dict(i, count=new_counts[i["id"]]) for i in order["items"] if new_counts[i["id"]] > 0]
            instances: dict[int, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
            layout = []
            result_boxes = []
            for n, box in enumerate(body["boxes"], start=1):
                box_id = self.store.next_id("box", 900_000_000)
                layout.append({"boxId": box_id, "barcode": f"{order['orderId']}-{n}", "items": box["items"]})
                result_boxes.append({"boxId": box_id, "items": box["items"]})
                for line in box["items"]:
                    for inst in line.get("instances") or []:
                        f = next(k for k in rules.CODE_FIELDS if inst.get(k))
                        instances[line["id"]][(f, inst[f])] = inst
            order["delivery"]["boxesLayout"] = layout
            checks = order["_sandbox"].setdefault("checks", {})
            for item in order["items"]:
                known = []
                for (f, value), inst in instances.get(item["id"], {}).items():
                    entry = {f: value.split(rules.GS)[0] if f == "cis" else value}
                    if f == "cis":
                        entry["cisFull"] = value
                    if inst.get("countryCode"):
                        entry["countryCode"] = inst["countryCode"]
                    known.append(entry)
                    if f in ("cis", "uin") and value not in checks:
                        checks[value] = {"type": f, "item": item["id"], "at": now_utc().isoformat()}
                if known:
                    item["instances"] = known
                else:
                    item.pop("instances", None)
            self._touch(order)
            self.store.save_order(order, conn=conn)
        return Response(body={"status": "OK", "result": {"boxes": result_boxes}})

    def identifiers_status(self, req: Request) -> Response:
        order = self._load(req)
        failing = set(self.store.get_setting("failing_codes", []) or [])
        delay = float(self.store.get_setting("check_delay", 2.0))
        per_item: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"cis": [], "uin": []})
        for value, check in (order["_sandbox"].get("checks") or {}).items():
            if check["item"] not in {i["id"] for i in order["items"]}:
                continue
            age = (now_utc() - dt.datetime.fromisoformat(check["at"])).total_seconds()
            failed = any(f == value or value.startswith(f) for f in failing)
            if age < delay:
                entry: dict[str, Any] = {"value": value, "status": "IN_PROGRESS"}
            elif failed:
                entry = {"value": value, "status": "FAILED",
                         "substatus": "CIS_NOT_FOUND_IN_GIS_MT" if check["type"] == "cis" else "UIN_NO_DATA"}
            else:
                entry = {"value": value, "status": "OK"}
            per_item[check["item"]][check["type"]].append(entry)
        items = []
        for item_id, groups in per_item.items():
            dto: dict[str, Any] = {"id": item_id}
            if groups["cis"]:
                dto["cis"] = groups["cis"]
            if groups["uin"]:
                dto["uin"] = groups["uin"]
            items.append(dto)
        return Response(body={"status": "OK", "result": {"items": items}})

    def _codes_verified(self, order: dict[str, Any]) -> tuple[bool, str]:
        failing = set(self.store.get_setting("failing_codes", []) or [])
        delay = float(self.store.get_setting("check_delay", 2.0))
        for value, check in (order["_sandbox"].get("checks") or {}).items():
            if check["item"] not in {i["id"] for i in order["items"]}:
                continue
            if any(value == f or value.startswith(f) for f in failing):
                return False, f"Code {value!r} did not pass the check"
            if (now_utc() - dt.datetime.fromisoformat(check["at"])).total_seconds() < delay:
                return False, "Codes are still being checked"
        return True, ""

    def provide_identifiers(self, req: Request) -> Response:
        """DBS: codes without the layout; accepted as sent, not checked."""
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise bad("items is required")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            if self._placement(order) != "DBS":
                raise bad("This method is for DBS orders; FBS and Express send codes with the box layout",
                          "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
            if order["status"] not in ("PROCESSING", "DELIVERY", "PICKUP"):
                raise bad(f"Codes cannot be sent for an order in status {order['status']}", "STATUS_NOT_ALLOWED")
            items = {i["id"]: i for i in order["items"]}
            errors: list[rules.MarketError] = []
            for entry in body["items"]:
                item = items.get(entry.get("id"))
                if item is None:
                    errors.append(rules.MarketError("ITEM_NOT_FOUND", f"Item {entry.get('id')} is not in the order"))
                    continue
                insts = entry.get("instances") or []
                if len(insts) > item["count"]:
                    errors.append(rules.MarketError("INVALID_INSTANCES",
                                                    f"Item {item['id']}: {len(insts)} codes for {item['count']} units"))
                for inst in insts:
                    errors.extend(rules.check_instance(inst, item))
            if errors:
                raise ApiError.many(errors)
            for entry in body["items"]:
                item = items[entry["id"]]
                known = []
                for inst in entry["instances"]:
                    f = next(k for k in rules.CODE_FIELDS if inst.get(k))
                    e = {f: inst[f].split(rules.GS)[0] if f == "cis" else inst[f]}
                    if f == "cis":
                        e["cisFull"] = inst[f]
                    if inst.get("countryCode"):
                        e["countryCode"] = inst["countryCode"]
                    known.append(e)
                item["instances"] = known
            self._touch(order)
            self.store.save_order(order, conn=conn)
        brief = [{"id": i["id"], "count": i["count"], "offerId": i["offerId"], "offerName": i["offerName"],
                  **({"instances": i["instances"]} if i.get("instances") else {})} for i in order["items"]]
        return Response(body={"status": "OK", "result": {"items": brief}})

    def update_items(self, req: Request) -> Response:
        """DBS: remove an item or reduce its count (never increase)."""
        body = req.body
        if not isinstance(body, dict) or not body.get("items"):
            raise bad("items is required")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            if self._placement(order) != "DBS":
                raise bad("Use the box layout with allowRemove for FBS and Express", "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
            self._require_processing(order, "Changing the items")
            items = {i["id"]: i for i in order["items"]}
            sent = {e.get("id"): e for e in body["items"]}
            errors: list[rules.MarketError] = []
            for item_id, item in items.items():
                entry = sent.get(item_id)
                new = item["count"] if entry is None else entry.get("count")
                if not isinstance(new, int) or new < 0:
                    errors.append(rules.MarketError("BAD_REQUEST", f"Item {item_id}: count must be 0 or more"))
                elif new > item["count"]:
                    errors.append(rules.MarketError("BAD_REQUEST",
                                                    f"Item {item_id}: the count cannot be increased"))
                else:
                    errors.extend(rules.removal_errors(order, item, new))
            for item_id in sent:
                if item_id not in items:
                    errors.append(rules.MarketError("ITEM_NOT_FOUND", f"Item {item_id} is not in the order"))
            if errors:
                raise ApiError.many(errors)
            kept = []
            for item in order["items"]:
                new = sent.get(item["id"], {}).get("count", item["count"])
                if new > 0:
                    kept.append(dict(item, count=new))
            if not kept:
                raise bad("An order cannot lose all its items; cancel it instead", "ITEM_REMOVAL_NOT_ALLOWED")
            order["items"] = kept
            self._touch(order)
            self.store.save_order(order, conn=conn)
        return Response(body=None, content_type="application/json")

    # --- status -----------------------------------------------------------------------------------
    def _transition(self, order: dict[str, Any], status: str, substatus: str | None) -> str | None:
        """Apply a status change; returns an error message or None."""
        placement = self._placement(order)
        cur = (order["status"], order["substatus"])
        if status == "CANCELLED":
            if substatus != "SHOP_FAILED":
                return "A shop cancels with substatus SHOP_FAILED"
            if cur[0] not in ("PROCESSING", "UNPAID", "PENDING") and not (placement == "DBS" and cur[0] == "DELIVERY"):
                return f"An order in status {cur[0]} cannot be cancelled by the shop"
        elif status == "PROCESSING" and substatus == "READY_TO_SHIP":
            if cur != ("PROCESSING", "STARTED") and cur != ("PROCESSING", "PACKAGING"):
                return f"READY_TO_SHIP is possible from PROCESSING/STARTED, not {cur[0]}/{cur[1]}"
            if placement != "DBS":
                if not order["delivery"].get("boxesLayout"):
                    return "Send the box layout (PUT .../boxes) before READY_TO_SHIP"
                ok, why = self._codes_verified(order)
                if not ok:
                    return why
                for item in order["items"]:
                    need = rules.required_fields(item, order.get("buyerType") or "PERSON")
                    have = {f for inst in item.get("instances") or [] for f in rules.CODE_FIELDS if inst.get(f)}
                    if need - have:
                        return f"Item {item['id']} is missing its codes"
        elif status == "PROCESSING" and substatus == "SHIPPED":
            if cur != ("PROCESSING", "READY_TO_SHIP"):
                return "SHIPPED follows READY_TO_SHIP"
        elif placement == "DBS" and status in ("DELIVERY", "PICKUP", "DELIVERED"):
            allowed = {"DELIVERY": ("PROCESSING",), "PICKUP": ("DELIVERY",), "DELIVERED": ("DELIVERY", "PICKUP")}
            if cur[0] not in allowed[status]:
                return f"{status} cannot follow {cur[0]}"
            substatus = substatus or ""
        else:
            return f"Changing the status to {status}/{substatus} is not allowed here"
        order["status"], order["substatus"] = status, substatus or order["substatus"]
        if status == "CANCELLED":
            order["cancelRequested"] = False
        self._touch(order)
        return None

    def update_status(self, req: Request) -> Response:
        body = req.body
        change = body.get("order") if isinstance(body, dict) else None
        if not isinstance(change, dict) or not change.get("status"):
            raise bad("order.status is required")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            error = self._transition(order, change["status"], change.get("substatus"))
            if error:
                raise bad(error, "STATUS_NOT_ALLOWED")
            self.store.save_order(order, conn=conn)
        return Response(body={"order": to_v2(order)})

    def update_order_statuses(self, req: Request) -> Response:
        body = req.body
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list) or not orders:
            raise bad("orders is required")
        if len(orders) > MAX_STATUS_UPDATES:
            raise bad(f"At most {MAX_STATUS_UPDATES} orders per request", "TOO_MANY_ORDERS")
        results = []
        for change in orders:
            entry: dict[str, Any] = {"id": change.get("id")}
            with self.store.tx() as conn:
                order = self.store.order(int(change.get("id") or 0), conn=conn)
                if order is None or order["campaignId"] != req.params["campaignId"]:
                    entry.update(updateStatus="ERROR", errorDetails="Order not found")
                else:
                    error = self._transition(order, change.get("status", ""), change.get("substatus"))
                    if error:
                        entry.update(updateStatus="ERROR", errorDetails=error, status=order["status"],
                                     substatus=order["substatus"])
                    else:
                        self.store.save_order(order, conn=conn)
                        entry.update(updateStatus="OK", status=order["status"], substatus=order["substatus"])
            results.append(entry)
        return Response(body={"status": "OK", "result": {"orders": results}})

    def set_shipment_boxes(self, req: Request) -> Response:
        """DBS cargo places: the count is the length of ``boxes`` (deprecated, off 2027-04-05)."""
        body = req.body
        boxes = body.get("boxes") if isinstance(body, dict) else None
        if not isinstance(boxes, list) or not boxes:
            raise bad("boxes must list at least one cargo place")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            shipment = order["delivery"].get("shipment") or {}
            if shipment.get("id") != req.params["shipmentId"]:
                raise ApiError(404, "SHIPMENT_NOT_FOUND", f"Shipment {req.params['shipmentId']} not found")
            if order["status"] != "PROCESSING":
                raise bad("Cargo places can be changed only while the order is PROCESSING", "STATUS_NOT_ALLOWED")
            result = []
            for box in boxes:
                # fulfilmentId is echoed only when sent: the spec's pattern for it (^[[a-zA-Z0-9]- ]*$)
                # is malformed and matches no real box id, so the sandbox does not invent one.
                entry: dict[str, Any] = {"id": self.store.next_id("parcel", 700_000_000)}
                if (box or {}).get("fulfilmentId"):
                    entry["fulfilmentId"] = box["fulfilmentId"]
                result.append(entry)
            order["_sandbox"]["cargoPlaces"] = result
            self._touch(order)
            self.store.save_order(order, conn=conn)
        return Response(body={"status": "OK", "result": {"boxes": result}})

    def accept_cancellation(self, req: Request) -> Response:
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("accepted"), bool):
            raise bad("accepted (true or false) is required")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            if self._placement(order) != "DBS":
                raise bad("Cancellation approval is for DBS orders", "METHOD_NOT_ALLOWED_FOR_PLACEMENT")
            if not order.get("cancelRequested") or order["status"] not in ("DELIVERY", "PICKUP"):
                raise bad("The buyer has not asked to cancel this order, or the 48 hours have passed",
                          "ORDER_NOT_WAITING_FOR_CANCELLATION")
            if body["accepted"]:
                order.update(status="CANCELLED", substatus="USER_CHANGED_MIND", cancelRequested=False)
            else:
                if body.get("reason") not in ("ORDER_DELIVERED", "ORDER_IN_DELIVERY"):
                    raise bad("A rejection needs reason ORDER_DELIVERED or ORDER_IN_DELIVERY", "REASON_REQUIRED")
                order["cancelRequested"] = False
                order["_sandbox"]["cancelRejected"] = body["reason"]
                if body["reason"] == "ORDER_DELIVERED":
                    order.update(status="DELIVERED", substatus="DELIVERY_SERVICE_DELIVERED")
            self._touch(order)
            self.store.save_order(order, conn=conn)
        return Response(body={"status": "OK"})

    def digital_codes(self, req: Request) -> Response:
        body = req.body
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise bad("items is required")
        with self.store.tx() as conn:
            order = self._load(req, conn)
            if order["delivery"]["type"] != "DIGITAL":
                raise bad("The order has no digital goods", "NOT_DIGITAL")
            if order["status"] != "PROCESSING":
                raise bad(f"Keys can be sent only for a PROCESSING order, not {order['status']}", "STATUS_NOT_ALLOWED")
            since = dt.datetime.fromisoformat(order["_sandbox"].get("processingAt") or order["creationDate"])
            if now_utc() - since > DIGITAL_WINDOW:
                raise bad("Keys must be sent within 30 minutes of the order reaching PROCESSING", "DEADLINE_PASSED")
            by_id = {i["id"]: i for i in order["items"]}
            for entry in items:
                item = by_id.get(entry.get("id"))
                if item is None:
                    raise bad(f"Item {entry.get('id')} is not in the order", "ITEM_NOT_FOUND")
                for key in ("slip", "activate_till"):
                    if not entry.get(key):
                        raise bad(f"Item {item['id']}: {key} is required")
                codes = entry.get("codes") or []
                if len(codes) != item["count"]:
                    raise bad(f"Item {item['id']}: {item['count']} keys needed, got {len(codes)}", "INVALID_CODES")
            missing = set(by_id) - {e["id"] for e in items}
            if missing:
                raise bad(f"Keys for items {sorted(missing)} are missing", "INVALID_CODES")
            order["_sandbox"]["digitalCodes"] = items
            order.update(status="DELIVERED", substatus="DELIVERY_SERVICE_DELIVERED")
            self._touch(order)
            self.store.save_order(order, conn=conn)
        return Response(body={"status": "OK"})

    # --- labels -----------------------------------------------------------------------------------
    def _layout_or_400(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        layout = order["delivery"].get("boxesLayout") or []
        if not layout:
            raise bad("Labels are available after the box layout is sent", "NO_BOX_LAYOUT")
        return layout

    def _format(self, req: Request) -> str:
        fmt = req.q("format") or DEFAULT_FORMAT
        if fmt not in PAGE_FORMATS:
            raise bad(f"format must be one of {', '.join(PAGE_FORMATS)}")
        return fmt

    def labels(self, req: Request) -> Response:
        order = self._load(req)
        layout = self._layout_or_400(order)
        campaign = self.store.campaign(order["campaignId"])
        pdf = render_labels(order, layout, self._format(req), campaign["domain"] if campaign else "")
        return Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="labels-{order["orderId"]}.pdf"'})

    def label(self, req: Request) -> Response:
        order = self._load(req)
        layout = self._layout_or_400(order)
        boxes = [b for b in layout if b["boxId"] == req.params["boxId"]]
        if not boxes:
            raise ApiError(404, "BOX_NOT_FOUND", f"Box {req.params['boxId']} not found")
        campaign = self.store.campaign(order["campaignId"])
        pdf = render_labels(order, boxes, self._format(req), campaign["domain"] if campaign else "")
        return Response(body=pdf, content_type="application/pdf")

    def labels_data(self, req: Request) -> Response:
        order = self._load(req)
        layout = self._layout_or_400(order)
        campaign = self.store.campaign(order["campaignId"])
        base = f"/v2/campaigns/{order['campaignId']}/orders/{order['orderId']}/delivery"
        shipment_id = (order["delivery"].get("shipment") or {}).get("id") or 0
        buyer = order["_sandbox"].get("buyer", {})
        boxes = [{
            "url": f"{base}/shipments/{shipment_id}/boxes/{b['boxId']}/label",
            "supplierName": campaign["domain"] if campaign else "",
            "deliveryServiceName": order["delivery"]["serviceName"],
            "orderId": order["orderId"], "orderNum": str(order["orderId"]),
            "recipientName": f"{buyer.get('lastName', '')} {buyer.get('firstName', '')}".strip() or "—",
            "boxId": b["boxId"], "fulfilmentId": b["barcode"], "place": f"{n}/{len(layout)}",
            "weight": "1.0", "deliveryServiceId": str(order["delivery"]["deliveryServiceId"]),
            "shipmentDate": (order["delivery"].get("shipment") or {}).get("shipmentDate", ""),
        } for n, b in enumerate(layout, start=1)]
        return Response(body={"status": "OK", "result": {"orderId": order["orderId"], "placesNumber": len(layout),
                                                         "url": f"{base}/labels", "parcelBoxLabels": boxes}})

    def buyer(self, req: Request) -> Response:
        order = self._load(req)
        buyer = dict(order["_sandbox"].get("buyer", {}))
        buyer["type"] = order.get("buyerType", "PERSON")
        return Response(body={"status": "OK", "result": buyer})

    # --- stats and updates ------------------------------------------------------------------------
    def stats(self, req: Request) -> Response:
        """getOrdersStats (seed 002): orders with their items and payments, by creation/update date."""
        body = req.body or {}
        where = ["campaign_id = ?"]
        params: list[Any] = [req.params["campaignId"]]
        for key, column in (("dateFrom", "created_at >="), ("dateTo", "created_at <"),
                            ("updateFrom", "updated_at >="), ("updateTo", "updated_at <")):
            if body.get(key):
                day = self._parse_dt(body[key], key)
                assert day is not None
                if key.endswith("To"):
                    day += dt.timedelta(days=1)
                where.append(f"{column} ?")
                params.append(day.astimezone(UTC).isoformat(timespec="microseconds"))
        if body.get("orders"):
            where.append(f"id IN ({','.join('?' * len(body['orders']))})")
            params += [int(i) for i in body["orders"]]
        token = req.q("pageToken", "page_token")
        raw_limit = req.q("limit")
        limit = min(int(raw_limit), 200) if raw_limit else 200
        orders, next_token = self._select(where, params, self._decode_token(token) if token else None, limit)
        stat_status = {"PROCESSING": "PROCESSING", "DELIVERY": "DELIVERY", "PICKUP": "PICKUP",
                       "DELIVERED": "DELIVERED", "CANCELLED": "CANCELLED_IN_PROCESSING", "RETURNED": "RETURNED",
                       "PARTIALLY_RETURNED": "PARTIALLY_RETURNED", "PENDING": "PENDING", "RESERVED": "RESERVED",
                       "UNPAID": "PENDING"}
        out = []
        for o in orders:
            created = dt.datetime.fromisoformat(o["creationDate"])
            items = []
            for it in o["items"]:
                payment = ((it.get("prices") or {}).get("payment") or {}).get("value", 0)
                items.append({
                    "offerName": it["offerName"], "marketSku": 100000 + it["id"] % 1000000, "shopSku": it["offerId"],
                    "count": it["count"],
                    "prices": [{"type": "BUYER", "costPerItem": round(payment / it["count"], 2),
                                "total": payment}],
                    "warehouse": {"id": 1, "name": "Sandbox"},
                })
            stat = stat_status.get(o["status"], "PROCESSING")
            if stat.startswith("PROCESSING") and o["substatus"] == "READY_TO_SHIP":
                stat = "PROCESSING"
            out.append({
                "id": o["orderId"], "creationDate": created.date().isoformat(),
                "statusUpdateDate": dt.datetime.fromisoformat(o.get("updateDate") or o["creationDate"])
                .isoformat(timespec="seconds"),
                "status": stat, "fake": o["fake"], "partnerOrderId": str(o["orderId"]),
                "paymentType": "PREPAID" if o["paymentType"] == "PREPAID" else "POSTPAID",
                "deliveryRegion": {"id": 213, "name": "Москва"},
                "items": items, "currency": "RUR",
                "payments": [{"id": f"pay-{o['orderId']}", "date": created.date().isoformat(), "type": "PAYMENT",
                              "source": "BUYER", "total": sum(i["prices"][0]["total"] for i in items)}],
                "commissions": [{"type": "FEE",
                                 "actual": round(sum(i["prices"][0]["total"] for i in items) * 0.05, 2)}],
            })
        result: dict[str, Any] = {"orders": out}
        if next_token:
            result["paging"] = {"nextPageToken": next_token}
        return Response(body={"status": "OK", "result": result})

    def update_order(self, req: Request) -> Response:
        """updateOrder (seed 003): recipient details and delivery interval; returns operation ids."""
        body = req.body
        change = body.get("order") if isinstance(body, dict) else None
        if not isinstance(change, dict) or not change.get("id"):
            raise bad("order.id is required")
        if not change.get("customer") and not change.get("deliveryInterval"):
            raise bad("Send customer or deliveryInterval")
        with self.store.tx() as conn:
            order = self.store.order(int(change["id"]), conn=conn)
            if order is None or order["campaignId"] != req.params["campaignId"]:
                raise ApiError(404, "ORDER_NOT_FOUND", f"Order {change['id']} not found")
            if order["status"] in ("DELIVERED", "CANCELLED"):
                raise bad(f"An order in status {order['status']} cannot be changed", "STATUS_NOT_ALLOWED")
            operations = []
            customer = change.get("customer")
            if customer:
                phone = customer.get("phone", "")
                if not customer.get("firstName") or not customer.get("lastName") or not re.match(r"^\+\d{4,15}$",
                                                                                               phone):
                    raise bad("customer needs firstName, lastName and a phone like +79990001122")
                order["_sandbox"]["buyer"] = {**order["_sandbox"].get("buyer", {}), **customer}
                operations.append({"id": f"op-{self.store.next_id('operation', 1)}",
                                   "type": "ORDER_RECIPIENT_UPDATE"})
            interval = change.get("deliveryInterval")
            if interval:
                dates = interval.get("deliveryDateInterval") or {}
                times = interval.get("deliveryTimeInterval") or {}
                if not dates.get("fromDate") or not times.get("fromTime"):
                    raise bad("deliveryInterval needs deliveryDateInterval and deliveryTimeInterval")
                order["delivery"]["dates"].update({k: v for k, v in {
                    "fromDate": dates.get("fromDate"), "toDate": dates.get("toDate") or dates.get("fromDate"),
                    "fromTime": times.get("fromTime"), "toTime": times.get("toTime")}.items() if v})
                operations.append({"id": f"op-{self.store.next_id('operation', 1)}",
                                   "type": "ORDER_DELIVERY_INTERVAL_UPDATE"})
            self._touch(order)
            self.store.save_order(order, conn=conn)
        return Response(body={"status": "OK", "result": {"operations": operations}})

    # --- control plane (tests, training) -----------------------------------------------------------
    def control(self, method: str, path: str, raw: bytes) -> Response:
        body = json.loads(raw) if raw else {}
        if path == "/_sandbox/health":
            return Response(body={"status": "OK", "orders": self.store.order_count()})
        if path == "/_sandbox/received" and method == "GET":
            return Response(body={"requests": self.store.received()})
        if path == "/_sandbox/chaos" and method == "POST":
            for key, value in body.items():
                if hasattr(self.chaos, key):
                    setattr(self.chaos, key, value)
            with self._lock:
                self._burst_hits.clear()
            return Response(body={"status": "OK"})
        if path == "/_sandbox/settings" and method == "POST":
            for key, value in body.items():
                self.store.set_setting(key, value)
            return Response(body={"status": "OK"})
        m = re.match(r"^/_sandbox/orders/(\d+)(/buyer-cancel)?$", path)
        if m and method == "GET":
            order = self.store.order(int(m.group(1)))
            return Response(404, {"status": "ERROR"}) if order is None else Response(body=order)
        if m and method == "POST":
            with self.store.tx() as conn:
                order = self.store.order(int(m.group(1)), conn=conn)
                if order is None:
                    return Response(404, {"status": "ERROR", "errors": [{"code": "ORDER_NOT_FOUND", "message": ""}]})
                if m.group(2):
                    # The buyer cancels: PROCESSING orders cancel at once; in delivery, the shop decides.
                    if order["status"] == "PROCESSING":
                        order.update(status="CANCELLED", substatus="USER_CHANGED_MIND")
                    else:
                        order["cancelRequested"] = True
                        order["_sandbox"]["cancelRequestedAt"] = now_utc().isoformat()
                else:
                    extra = body.pop("_sandbox", {})
                    order.update(body)
                    order["_sandbox"].update(extra)
                self._touch(order)
                self.store.save_order(order, conn=conn)
            return Response(body=to_v1(order))
        return Response(404, {"status": "ERROR", "errors": [{"code": "NOT_FOUND", "message": path}]})
