"""Chats with buyers about an order or a return: find, start, write, send a file, read the history.

A seller may start a chat about an order, or about a return (FBY, FBS and Express only); createChat
answers the chat already there when there is one. A file is at most 5 MB, sent as multipart.
Source: https://yandex.ru/dev/market/partner-api/doc/ru/reference/chats/createChat
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .dates import parse_datetime
from .enums import enum_or_str
from .limits import MAX_CHAT_FILE_BYTES, MAX_CHAT_MESSAGE, MAX_CHATS_PAGE, MAX_HISTORY_PAGE
from .types import _need

if TYPE_CHECKING:  # the client mixes this in; only its transport is used here
    from .client import MarketClient


class ChatContextType(StrEnum):
    ORDER = "ORDER"
    RETURN = "RETURN"
    DIRECT = "DIRECT"


class ChatStatus(StrEnum):
    NEW = "NEW"
    WAITING_FOR_CUSTOMER = "WAITING_FOR_CUSTOMER"
    WAITING_FOR_PARTNER = "WAITING_FOR_PARTNER"
    WAITING_FOR_ARBITER = "WAITING_FOR_ARBITER"
    WAITING_FOR_MARKET = "WAITING_FOR_MARKET"
    FINISHED = "FINISHED"


class Sender(StrEnum):
    PARTNER = "PARTNER"
    CUSTOMER = "CUSTOMER"
    MARKET = "MARKET"
    SUPPORT = "SUPPORT"


@dataclass(frozen=True)
class ChatContext:
    """``ChatContextDTO``: the order or the return a chat is about."""

    type: ChatContextType
    id: int

    def __post_init__(self) -> None:
        if self.type == ChatContextType.DIRECT:
            raise ValueError("a chat is started about an order or a return")

    def to_json(self) -> dict[str, Any]:
        return {"type": str(self.type), "id": self.id}


@dataclass(frozen=True)
class Chat:
    """``GetChatInfoDTO``."""

    id: int
    context_type: ChatContextType | str
    order_id: int | None
    return_id: int | None
    customer_name: str
    type: str
    status: ChatStatus | str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Chat:
        ctx = d.get("context") or {}
        return cls(int(_need(d, "chatId", "GetChatInfoDTO")), enum_or_str(ChatContextType, ctx.get("type")),
                   ctx.get("orderId") or d.get("orderId"), ctx.get("returnId"),
                   (ctx.get("customer") or {}).get("name") or "", d.get("type") or "",
                   enum_or_str(ChatStatus, d.get("status")), parse_datetime(d.get("createdAt")),
                   parse_datetime(d.get("updatedAt")))


@dataclass(frozen=True)
class ChatFile:
    name: str
    url: str
    size: int


@dataclass(frozen=True)
class ChatMessage:
    """``ChatMessageDTO``: text, files or both."""

    id: int
    created_at: dt.datetime | None
    sender: Sender | str
    text: str
    files: tuple[ChatFile, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ChatMessage:
        return cls(int(_need(d, "messageId", "ChatMessageDTO")), parse_datetime(d.get("createdAt")),
                   enum_or_str(Sender, d.get("sender")), d.get("message") or "",
                   tuple(ChatFile(p.get("name") or "", p.get("url") or "", int(p.get("size") or 0))
                         for p in d.get("payload") or ()))


@dataclass(frozen=True)
class ChatsPage:
    chats: tuple[Chat, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class ChatHistory:
    messages: tuple[ChatMessage, ...]
    next_page_token: str | None


class ChatsApi:
    """The chats' methods of ``MarketClient`` (per business)."""

    def get_chats(self: MarketClient, business_id: int, contexts: Sequence[ChatContext] = (),
                  statuses: Sequence[ChatStatus] = (), page_token: str | None = None,
                  limit: int = MAX_CHATS_PAGE) -> ChatsPage:
        """getChats: POST v2/businesses/{businessId}/chats — one page (≤ 20)."""
        body: dict[str, Any] = {}
        if contexts:
            body["contexts"] = [c.to_json() for c in dict.fromkeys(contexts)]
        if statuses:
            body["statuses"] = list(dict.fromkeys(str(s) for s in statuses))
        params: dict[str, Any] = {"limit": max(1, min(limit, MAX_CHATS_PAGE))}
        if page_token:
            params["pageToken"] = page_token
        data = self._request("getChats", "POST", f"/v2/businesses/{business_id}/chats", key=business_id,
                             params=params, body=body)
        result = self._result(data, "getChats")
        return ChatsPage(tuple(Chat.from_json(c) for c in result.get("chats") or ()),
                         (result.get("paging") or {}).get("nextPageToken"))

    def create_chat(self: MarketClient, business_id: int, context: ChatContext) -> int:
        """createChat: POST v2/businesses/{businessId}/chats/new — the new chat's id, or the existing one's."""
        data = self._request("createChat", "POST", f"/v2/businesses/{business_id}/chats/new", key=business_id,
                             body={"context": context.to_json()})
        return int(self._result(data, "createChat")["chatId"])

    def send_message_to_chat(self: MarketClient, business_id: int, chat_id: int, text: str) -> None:
        """sendMessageToChat: POST v2/businesses/{businessId}/chats/message?chatId= (1 to 4096 characters)."""
        if not 1 <= len(text) <= MAX_CHAT_MESSAGE:
            raise ValueError(f"a message is 1 to {MAX_CHAT_MESSAGE} characters")
        self._request("sendMessageToChat", "POST", f"/v2/businesses/{business_id}/chats/message", key=business_id,
                      params={"chatId": chat_id}, body={"message": text})

    def send_file_to_chat(self: MarketClient, business_id: int, chat_id: int, name: str, content: bytes,
                          content_type: str = "application/octet-stream") -> None:
        """sendFileToChat: POST v2/businesses/{businessId}/chats/file/send?chatId= (multipart, ≤ 5 MB)."""
        if not content or len(content) > MAX_CHAT_FILE_BYTES:
            raise ValueError("a file is 1 byte to 5 MB")
        self._request("sendFileToChat", "POST", f"/v2/businesses/{business_id}/chats/file/send", key=business_id,
                      params={"chatId": chat_id}, files={"file": (name, content, content_type)})

    def get_chat_history(self: MarketClient, business_id: int, chat_id: int, message_id_from: int | None = None,
                         page_token: str | None = None, limit: int = MAX_HISTORY_PAGE) -> ChatHistory:
        """getChatHistory: POST v2/businesses/{businessId}/chats/history?chatId= — one page (≤ 100)."""
        params: dict[str, Any] = {"chatId": chat_id, "limit": max(1, min(limit, MAX_HISTORY_PAGE))}
        if page_token:
            params["pageToken"] = page_token
        body = {"messageIdFrom": message_id_from} if message_id_from else {}
        data = self._request("getChatHistory", "POST", f"/v2/businesses/{business_id}/chats/history",
                             key=business_id, params=params, body=body)
        result = self._result(data, "getChatHistory")
        return ChatHistory(tuple(ChatMessage.from_json(m) for m in result.get("messages") or ()),
                           (result.get("paging") or {}).get("nextPageToken"))
