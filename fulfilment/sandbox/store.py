"""The sandbox Market's own storage: one SQLite file (or memory), independent of the dashboard.

Orders are kept as the Market's current JSON (``BusinessOrderDTO``) plus sandbox-only extras
(buyer, layout, identifier checks) under ``_sandbox``; indexed columns serve the list filters.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .clock import now_utc
from .events import order_events

SCHEMA = """
CREATE TABLE IF NOT EXISTS business (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaign (
    id INTEGER PRIMARY KEY, business_id INTEGER NOT NULL REFERENCES business(id),
    domain TEXT NOT NULL, placement TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_key (token TEXT PRIMARY KEY, business_id INTEGER NOT NULL REFERENCES business(id));
CREATE TABLE IF NOT EXISTS market_order (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaign(id),
    business_id INTEGER NOT NULL,
    status TEXT NOT NULL, substatus TEXT NOT NULL,
    created_at TEXT NOT NULL,      -- ISO 8601, UTC
    updated_at TEXT NOT NULL,      -- ISO 8601, UTC, microseconds: the sync watermark's clock
    shipment_date TEXT,            -- YYYY-MM-DD
    fake INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS market_order_business ON market_order(business_id, updated_at, id);
CREATE INDEX IF NOT EXISTS market_order_campaign ON market_order(campaign_id, updated_at, id);
CREATE TABLE IF NOT EXISTS received (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    operation TEXT NOT NULL, body TEXT, status INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS offer (
    business_id INTEGER NOT NULL REFERENCES business(id), offer_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (business_id, offer_id)
);
CREATE INDEX IF NOT EXISTS market_order_shipment ON market_order(campaign_id, shipment_date);
CREATE TABLE IF NOT EXISTS shipment (      -- first-mile shipments: a campaign's orders of one date and warehouse
    id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL, warehouse_id INTEGER NOT NULL,
    shipment_date TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (campaign_id, warehouse_id, shipment_date)
);
CREATE TABLE IF NOT EXISTS report (id TEXT PRIMARY KEY, business_id INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Push notifications: where each business wants them, what was queued and every answer to it.
CREATE TABLE IF NOT EXISTS notification_url (business_id INTEGER PRIMARY KEY, url TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notification (
    id INTEGER PRIMARY KEY AUTOINCREMENT, business_id INTEGER NOT NULL, url TEXT NOT NULL,
    type TEXT NOT NULL, order_id INTEGER, body TEXT NOT NULL,
    queued_at TEXT NOT NULL,                  -- ISO 8601, UTC
    state TEXT NOT NULL,                      -- PENDING, DELIVERED, REFUSED, GAVE_UP
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt REAL, next_attempt REAL     -- epoch seconds
);
CREATE INDEX IF NOT EXISTS notification_due ON notification(state, next_attempt);
CREATE TABLE IF NOT EXISTS notification_answer (
    id INTEGER PRIMARY KEY AUTOINCREMENT, notification_id INTEGER NOT NULL REFERENCES notification(id),
    at TEXT NOT NULL, status INTEGER, body TEXT, ms REAL
);
CREATE TABLE IF NOT EXISTS id_seq (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- Returns and unredeemed orders (ReturnDTO + _sandbox), and chats with buyers (see return_data.py).
CREATE TABLE IF NOT EXISTS market_return (
    id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL, order_id INTEGER NOT NULL,
    updated_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS market_return_campaign ON market_return(campaign_id, updated_at, id);
CREATE TABLE IF NOT EXISTS chat (id INTEGER PRIMARY KEY, business_id INTEGER NOT NULL, data TEXT NOT NULL);
"""


class Store:
    """Thread-safe access to the sandbox database; one writer at a time."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)
        self.on_notification: Callable[[], None] | None = None  # the notifier's wake-up

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls (same thread, lock held) join the outer one."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- accounts -------------------------------------------------------------------------------
    def add_business(self, business_id: int, name: str, api_key: str) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO business(id, name) VALUES (?, ?)", (business_id, name))
            c.execute("INSERT OR REPLACE INTO api_key(token, business_id) VALUES (?, ?)", (api_key, business_id))

    def add_campaign(self, campaign_id: int, business_id: int, domain: str, placement: str) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO campaign(id, business_id, domain, placement) VALUES (?, ?, ?, ?)",
                (campaign_id, business_id, domain, placement),
            )

    # --- the seller's catalogue ----------------------------------------------------------------
    def save_offer(self, business_id: int, offer: dict[str, Any]) -> None:
        """One ``GetOfferDTO`` of the business's catalogue (added, or replaced whole)."""
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO offer(business_id, offer_id, data) VALUES (?, ?, ?)",
                      (business_id, offer["offerId"], json.dumps(offer, ensure_ascii=False)))

    def offers(self, business_id: int, offer_ids: list[str]) -> list[dict[str, Any]]:
        """The business's offers among ``offer_ids``, in the order asked."""
        marks = ",".join("?" * len(offer_ids))
        rows = self.query(f"SELECT offer_id, data FROM offer WHERE business_id = ? AND offer_id IN ({marks})",
                          (business_id, *offer_ids))
        found = {r["offer_id"]: json.loads(r["data"]) for r in rows}
        return [found[o] for o in offer_ids if o in found]

    def business_for_key(self, token: str) -> int | None:
        rows = self.query("SELECT business_id FROM api_key WHERE token = ?", (token,))
        return rows[0]["business_id"] if rows else None

    def campaign(self, campaign_id: int) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT c.*, b.name AS business_name FROM campaign c JOIN business b ON b.id = c.business_id "
            "WHERE c.id = ?",
            (campaign_id,),
        )
        return rows[0] if rows else None

    def campaigns(self, business_id: int) -> list[sqlite3.Row]:
        return self.query(
            "SELECT c.*, b.name AS business_name FROM campaign c JOIN business b ON b.id = c.business_id "
            "WHERE c.business_id = ? ORDER BY c.id",
            (business_id,),
        )

    # --- ids ------------------------------------------------------------------------------------
    def next_id(self, name: str, start: int) -> int:
        with self.tx() as c:
            row = c.execute("SELECT value FROM id_seq WHERE name = ?", (name,)).fetchone()
            value = (row["value"] + 1) if row else start
            c.execute("INSERT OR REPLACE INTO id_seq(name, value) VALUES (?, ?)", (name, value))
            return value

    # --- orders ---------------------------------------------------------------------------------
    def save_order(self, order: dict[str, Any], conn: sqlite3.Connection | None = None, notify: bool = True) -> None:
        """Insert or replace the order; the notifications its change makes are queued in the same
        transaction (when its business asked for them), so a rolled-back change sends nothing."""
        extra = order.get("_sandbox", {})
        row = (
            order["orderId"],
            order["campaignId"],
            extra["businessId"],
            order["status"],
            order["substatus"],
            extra["createdUtc"],
            extra["updatedUtc"],
            (order.get("delivery", {}).get("shipment") or {}).get("shipmentDate"),
            int(bool(order.get("fake"))),
            int(bool(order.get("cancelRequested"))),
            json.dumps(order, ensure_ascii=False),
        )
        sql = (
            "INSERT OR REPLACE INTO market_order(id, campaign_id, business_id, status, substatus, created_at,"
            " updated_at, shipment_date, fake, cancel_requested, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        )
        with self.tx() as c:  # ``conn`` is this store's connection: joined, not a second one
            if notify and self.notification_url(extra["businessId"]):
                previous = c.execute("SELECT data FROM market_order WHERE id = ?", (order["orderId"],)).fetchone()
                for body in order_events(json.loads(previous["data"]) if previous else None, order):
                    self.queue_notification(extra["businessId"], body)
            c.execute(sql, row)

    def save_orders(self, orders: list[dict[str, Any]], notify: bool = True) -> None:
        with self.tx() as c:
            for order in orders:
                self.save_order(order, conn=c, notify=notify)

    def order(self, order_id: int, conn: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        if conn is not None:
            row = conn.execute("SELECT data FROM market_order WHERE id = ?", (order_id,)).fetchone()
        else:
            rows = self.query("SELECT data FROM market_order WHERE id = ?", (order_id,))
            row = rows[0] if rows else None
        return json.loads(row["data"]) if row else None

    def order_count(self) -> int:
        return self.query("SELECT count(*) AS n FROM market_order")[0]["n"]

    def orders_shipping(self, campaign_id: int, date_from: str, date_to: str,
                        conn: sqlite3.Connection | None = None) -> list[dict[str, Any]]:
        """The campaign's orders with a shipment date in [date_from, date_to] (ISO dates), oldest first."""
        sql = ("SELECT data FROM market_order WHERE campaign_id = ? AND shipment_date BETWEEN ? AND ? "
               "ORDER BY created_at, id")
        params = (campaign_id, date_from, date_to)
        rows = conn.execute(sql, params).fetchall() if conn is not None else self.query(sql, params)
        return [json.loads(r["data"]) for r in rows]

    # --- first-mile shipments and reports -------------------------------------------------------
    def shipment(self, shipment_id: int, conn: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        sql, params = "SELECT data FROM shipment WHERE id = ?", (shipment_id,)
        rows = conn.execute(sql, params).fetchall() if conn is not None else self.query(sql, params)
        return json.loads(rows[0]["data"]) if rows else None

    def shipment_for(self, campaign_id: int, warehouse_id: int, date: str,
                     conn: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        sql = "SELECT data FROM shipment WHERE campaign_id = ? AND warehouse_id = ? AND shipment_date = ?"
        params = (campaign_id, warehouse_id, date)
        rows = conn.execute(sql, params).fetchall() if conn is not None else self.query(sql, params)
        return json.loads(rows[0]["data"]) if rows else None

    def shipments(self, campaign_id: int, date_from: str, date_to: str) -> list[dict[str, Any]]:
        rows = self.query("SELECT data FROM shipment WHERE campaign_id = ? AND shipment_date BETWEEN ? AND ? "
                          "ORDER BY shipment_date, id", (campaign_id, date_from, date_to))
        return [json.loads(r["data"]) for r in rows]

    def save_shipment(self, shipment: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        row = (shipment["id"], shipment["campaignId"], shipment["warehouseId"], shipment["date"],
               json.dumps(shipment, ensure_ascii=False))
        sql = "INSERT OR REPLACE INTO shipment(id, campaign_id, warehouse_id, shipment_date, data) VALUES (?,?,?,?,?)"
        with self.tx() as c:
            (conn or c).execute(sql, row)

    def report(self, report_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT data FROM report WHERE id = ?", (report_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def save_report(self, report: dict[str, Any]) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO report(id, business_id, data) VALUES (?,?,?)",
                      (report["id"], report["businessId"], json.dumps(report, ensure_ascii=False)))

    # --- what the sandbox received (tests assert on it) -----------------------------------------
    def log_request(self, at: str, method: str, path: str, operation: str, body: str | None, status: int) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT INTO received(at, method, path, operation, body, status) VALUES (?,?,?,?,?,?)",
                (at, method, path, operation, body, status),
            )

    def received(self, operation: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM received"
        params: tuple = ()
        if operation:
            sql += " WHERE operation = ?"
            params = (operation,)
        return [dict(r) for r in self.query(sql + " ORDER BY id", params)]

    # --- knobs ----------------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM setting WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO setting(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # --- push notifications (``notifier`` delivers them) -----------------------------------------
    def notification_url(self, business_id: int) -> str | None:
        rows = self.query("SELECT url FROM notification_url WHERE business_id = ?", (business_id,))
        return rows[0]["url"] if rows else None

    def set_notification_url(self, business_id: int, url: str | None) -> None:
        """Where the business's notifications go (the base URL; ``/notification`` is appended); None: nowhere."""
        with self.tx() as c:
            c.execute("DELETE FROM notification_url WHERE business_id = ?", (business_id,))
            if url:
                c.execute("INSERT INTO notification_url(business_id, url) VALUES (?, ?)", (business_id, url))

    def queue_notification(self, business_id: int, body: dict[str, Any]) -> int | None:
        """Queue one notification for the business's URL, due now; None when it has no URL."""
        url = self.notification_url(business_id)
        if not url:
            return None
        with self.tx() as c:
            cur = c.execute(
                "INSERT INTO notification(business_id, url, type, order_id, body, queued_at, state, next_attempt)"
                " VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?)",
                (business_id, url, body["notificationType"], body.get("orderId"), json.dumps(body, ensure_ascii=False),
                 now_utc().isoformat(), time.time()))
        if self.on_notification:
            self.on_notification()
        return cur.lastrowid

    def due_notifications(self, now: float, limit: int = 50) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM notification WHERE state = 'PENDING' AND next_attempt <= ?"
                          " ORDER BY next_attempt, id LIMIT ?", (now, limit))

    def next_notification_at(self) -> float | None:
        """When the next pending notification is due (epoch seconds)."""
        return self.query("SELECT min(next_attempt) AS t FROM notification WHERE state = 'PENDING'")[0]["t"]

    def record_answer(self, notification_id: int, status: int | None, body: str, ms: float, state: str,
                      first_attempt: float, next_attempt: float | None) -> None:
        """One attempt's answer (``status`` None: no HTTP answer at all) and what follows it."""
        with self.tx() as c:
            c.execute("INSERT INTO notification_answer(notification_id, at, status, body, ms) VALUES (?, ?, ?, ?, ?)",
                      (notification_id, now_utc().isoformat(), status, body[:2000], round(ms, 1)))
            c.execute("UPDATE notification SET state = ?, attempts = attempts + 1, first_attempt = ?,"
                      " next_attempt = ? WHERE id = ?", (state, first_attempt, next_attempt, notification_id))

    def notifications(self) -> list[dict[str, Any]]:
        """Every notification queued, oldest first, each with its answers (tests and training read them)."""
        answers: dict[int, list[dict[str, Any]]] = {}
        for a in self.query("SELECT * FROM notification_answer ORDER BY id"):
            answers.setdefault(a["notification_id"], []).append(
                {"at": a["at"], "status": a["status"], "body": a["body"], "ms": a["ms"]})
        out = []
        for n in self.query("SELECT * FROM notification ORDER BY id"):
            out.append({"id": n["id"], "businessId": n["business_id"], "url": n["url"], "type": n["type"],
                        "orderId": n["order_id"], "body": json.loads(n["body"]), "queuedAt": n["queued_at"],
                        "state": n["state"], "attempts": n["attempts"], "answers": answers.get(n["id"], [])})
        return out
