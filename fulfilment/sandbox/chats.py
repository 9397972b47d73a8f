"""Chats with buyers: getChats, createChat (one chat per order or return; a return's chat only in
FBS and Express shops, as documented), sendMessageToChat, sendFileToChat (multipart, ≤ 5 MB) and
getChatHistory. Files are kept and served back by the control plane under ``/_sandbox/chat-files/``."""

from __future__ import annotations

import base64
from typing import Any

from .clock import now_utc
from .protocol import ApiError, Request, Response, UploadedFile, bad
from .return_data import business_chats, load_chat, load_return, save_chat
from .state import MarketState

MAX_FILE = 5 * 1024 * 1024
CHAT_ORDER_STATUSES = ("PROCESSING", "DELIVERY", "PICKUP", "DELIVERED")


def to_json(chat: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in chat.items() if k not in ("_sandbox", "messages")}


def _chat(market: MarketState, req: Request) -> dict[str, Any]:
    try:
        chat_id = int(req.q("chatId") or "")
    except ValueError as exc:
        raise bad("chatId is required") from exc
    chat = load_chat(market.store, chat_id)
    if chat is None or chat["_sandbox"]["businessId"] != req.business_id:
        raise ApiError(404, "CHAT_NOT_FOUND", f"Chat {chat_id} not found")
    return chat


def _limit(req: Request, default: int, top: int) -> int:
    try:
        limit = int(req.q("limit") or default)
    except ValueError as exc:
        raise bad("limit is a number") from exc
    if not 1 <= limit <= top:
        raise bad(f"limit is 1 to {top}")
    return limit


def _page(items: list[Any], req: Request, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """Offset pages; the token is the next offset."""
    token = req.q("pageToken", "page_token")
    if token is not None and not token.isdigit():
        raise bad("pageToken is not valid", "INVALID_PAGE_TOKEN")
    start = int(token or 0)
    page = items[start:start + limit]
    return page, ({"nextPageToken": str(start + limit)} if start + limit < len(items) else {})


def get_chats(market: MarketState, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    limit = _limit(req, 10, 20)
    contexts = {(c.get("type"), c.get("id")) for c in body.get("contexts") or ()}
    order_ids = set(body.get("orderIds") or ())
    chats = []
    for chat in business_chats(market.store, req.business_id or 0):
        ctx = chat["context"]
        key = (ctx["type"], ctx.get("returnId") if ctx["type"] == "RETURN" else ctx.get("orderId"))
        if (contexts and key not in contexts) or (order_ids and ctx.get("orderId") not in order_ids) \
                or (body.get("statuses") and chat["status"] not in body["statuses"]) \
                or (body.get("types") and chat["type"] not in body["types"]) \
                or (body.get("contextTypes") and ctx["type"] not in body["contextTypes"]):
            continue
        chats.append(to_json(chat))
    page, paging = _page(chats, req, limit)
    return Response(body={"status": "OK", "result": {"chats": page, **({"paging": paging} if paging else {})}})


def create_chat(market: MarketState, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    context = body.get("context") or ({"type": "ORDER", "id": body["orderId"]} if body.get("orderId") else None)
    if not isinstance(context, dict) or context.get("type") not in ("ORDER", "RETURN") \
            or not isinstance(context.get("id"), int):
        raise bad("context: {type: ORDER or RETURN, id}")
    ret = load_return(market.store, context["id"]) if context["type"] == "RETURN" else None
    order_id = ret["orderId"] if ret else context["id"]
    order = market.store.order(order_id)
    if order is None or order["_sandbox"]["businessId"] != req.business_id \
            or (context["type"] == "RETURN" and ret is None):
        raise ApiError(404, "NOT_FOUND", f"No {context['type'].lower()} {context['id']} in this business")
    if context["type"] == "RETURN" and market.placement(order) == "DBS":
        raise bad("Chats about returns are for FBY, FBS and Express shops", "CHAT_NOT_ALLOWED")
    if context["type"] == "ORDER" and order["status"] not in CHAT_ORDER_STATUSES:
        raise bad(f"No chat can be started for an order in {order['status']}", "CHAT_NOT_ALLOWED")
    for chat in business_chats(market.store, req.business_id or 0):
        ctx = chat["context"]
        if ctx["type"] == context["type"] and (ctx.get("returnId") if ret else ctx.get("orderId")) == context["id"]:
            return Response(body={"status": "OK", "result": {"chatId": chat["chatId"]}})
    buyer = order["_sandbox"].get("buyer") or {}
    now = now_utc().isoformat(timespec="seconds")
    ctx = {"type": context["type"], "campaignId": order["campaignId"], "orderId": order_id,
           "customer": {"name": f"{buyer.get('firstName', 'Покупатель')} {buyer.get('lastName', '')[:1]}.".strip(),
                        "publicId": str(buyer.get("id") or f"buyer-{order_id}")}}
    if ret:
        ctx["returnId"] = ret["id"]
    chat = {"chatId": market.store.next_id("chat", 60_000_001), "orderId": order_id, "context": ctx, "type": "CHAT",
            "status": "NEW", "createdAt": now, "updatedAt": now, "messages": [],
            "_sandbox": {"businessId": req.business_id, "files": {}}}
    save_chat(market.store, chat)
    return Response(body={"status": "OK", "result": {"chatId": chat["chatId"]}})


def _post(market: MarketState, chat: dict[str, Any], message: dict[str, Any]) -> None:
    if chat["status"] == "FINISHED":
        raise bad(f"Chat {chat['chatId']} is finished", "CHAT_FINISHED")
    now = now_utc().isoformat(timespec="seconds")
    chat["messages"].append({"messageId": market.store.next_id("chat_message", 61_000_001), "createdAt": now,
                             "sender": "PARTNER", **message})
    chat["updatedAt"] = now
    chat["status"] = "WAITING_FOR_CUSTOMER"
    save_chat(market.store, chat)


def send_message(market: MarketState, req: Request) -> Response:
    chat = _chat(market, req)
    text = (req.body or {}).get("message") if isinstance(req.body, dict) else None
    if not isinstance(text, str) or not 1 <= len(text) <= 4096:
        raise bad("message: 1 to 4096 characters")
    _post(market, chat, {"message": text})
    return Response(body={"status": "OK"})


def send_file(market: MarketState, req: Request) -> Response:
    chat = _chat(market, req)
    upload = req.body.get("file") if isinstance(req.body, dict) else None
    if not isinstance(upload, UploadedFile) or not upload.content:
        raise bad("file is required (multipart/form-data)")
    if len(upload.content) > MAX_FILE:
        raise bad("A file is at most 5 MB", "FILE_TOO_LARGE")
    n = len(chat["_sandbox"]["files"]) + 1
    chat["_sandbox"]["files"][str(n)] = {"name": upload.name, "type": upload.content_type,
                                         "data": base64.b64encode(upload.content).decode()}
    host = req.headers.get("host", "127.0.0.1")
    url = f"http://{host}/_sandbox/chat-files/{chat['chatId']}/{n}"
    _post(market, chat, {"payload": [{"name": upload.name or f"file-{n}", "url": url, "size": len(upload.content)}]})
    return Response(body={"status": "OK"})


def history(market: MarketState, req: Request) -> Response:
    chat = _chat(market, req)
    body = req.body if isinstance(req.body, dict) else {}
    since = body.get("messageIdFrom") or 0
    messages = [m for m in chat["messages"] if m["messageId"] >= since]
    page, paging = _page(messages, req, _limit(req, 50, 100))
    result = {"orderId": chat["orderId"], "context": chat["context"], "messages": page}
    return Response(body={"status": "OK", "result": {**result, **({"paging": paging} if paging else {})}})
