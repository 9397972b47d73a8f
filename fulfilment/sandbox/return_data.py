"""Returns and chats as the sandbox stores them: one JSON per return (``ReturnDTO`` plus ``_sandbox``
extras) and per chat (``GetChatInfoDTO`` plus its messages and files), in the tables ``store`` makes."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .store import Store


def save_return(store: Store, ret: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
    row = (ret["id"], ret["_sandbox"]["campaignId"], ret["orderId"], ret["_sandbox"]["updatedUtc"],
           json.dumps(ret, ensure_ascii=False))
    with store.tx() as c:
        (conn or c).execute("INSERT OR REPLACE INTO market_return(id, campaign_id, order_id, updated_at, data)"
                            " VALUES (?,?,?,?,?)", row)


def load_return(store: Store, return_id: int, conn: sqlite3.Connection | None = None) -> dict[str, Any] | None:
    sql, params = "SELECT data FROM market_return WHERE id = ?", (return_id,)
    rows = conn.execute(sql, params).fetchall() if conn is not None else store.query(sql, params)
    return json.loads(rows[0]["data"]) if rows else None


def campaign_returns(store: Store, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's returns, oldest change first (the list's order)."""
    rows = store.query("SELECT data FROM market_return WHERE campaign_id = ? ORDER BY updated_at, id", (campaign_id,))
    return [json.loads(r["data"]) for r in rows]


def order_returns(store: Store, order_id: int, conn: sqlite3.Connection | None = None) -> list[dict[str, Any]]:
    sql, params = "SELECT data FROM market_return WHERE order_id = ? ORDER BY id", (order_id,)
    rows = conn.execute(sql, params).fetchall() if conn is not None else store.query(sql, params)
    return [json.loads(r["data"]) for r in rows]


def save_chat(store: Store, chat: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
    with store.tx() as c:
        (conn or c).execute("INSERT OR REPLACE INTO chat(id, business_id, data) VALUES (?,?,?)",
                            (chat["chatId"], chat["_sandbox"]["businessId"], json.dumps(chat, ensure_ascii=False)))


def business_chats(store: Store, business_id: int) -> list[dict[str, Any]]:
    rows = store.query("SELECT data FROM chat WHERE business_id = ? ORDER BY id", (business_id,))
    return [json.loads(r["data"]) for r in rows]


def load_chat(store: Store, chat_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT data FROM chat WHERE id = ?", (chat_id,))
    return json.loads(rows[0]["data"]) if rows else None
