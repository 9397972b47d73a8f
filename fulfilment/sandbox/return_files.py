"""A return's files: the buyer's photos (real PNG images, drawn from the photo's hash so the same
hash is always the same picture) and the buyer's application (a real PDF, set like the acts)."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zlib
from typing import Any

from .clock import MSK
from .doc_pdf import _Sheet

REASONS = {"BAD_QUALITY": "товар с недостатками", "DOES_NOT_FIT": "товар не подошёл",
           "WRONG_ITEM": "привезли не тот товар", "DAMAGE_DELIVERY": "повреждён при доставке",
           "CONTENT_FAIL": "не соответствует описанию", "DELIVERY_FAIL": "не привезли вовремя"}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def photo_png(image_hash: str, width: int = 64, height: int = 48) -> bytes:
    """An RGB PNG: a diagonal stripe pattern in two colours taken from the hash."""
    seed = hashlib.sha256(image_hash.encode()).digest()
    a, b = seed[:3], seed[3:6]
    rows = b"".join(b"\x00" + b"".join(a if ((x + y) // 8) % 2 else b for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


def application_pdf(ret: dict[str, Any], order: dict[str, Any]) -> bytes:
    """The buyer's application for a return: who, which order, which items, why."""
    sheet = _Sheet(f"Заявление на возврат {ret['id']}")
    buyer = order.get("_sandbox", {}).get("buyer") or {}
    sheet.line("Заявление на возврат товара", 14)
    sheet.line(f"Возврат № {ret['id']} по заказу № {ret['orderId']}")
    sheet.line(f"Покупатель: {buyer.get('firstName', '')} {buyer.get('lastName', '')}".strip())
    created = ret.get("creationDate", "")
    if created:
        sheet.line(f"Дата: {dt.datetime.fromisoformat(created).astimezone(MSK).strftime('%d.%m.%Y %H:%M')}")
    sheet.line("")
    names = {i["offerId"]: i.get("offerName", i["offerId"]) for i in order["items"]}
    for item in ret["items"]:
        for claim in item.get("decisions") or ():
            reason = REASONS.get(claim.get("reasonType", ""), claim.get("reasonType", ""))
            sheet.line(f"{names.get(item['shopSku'], item['shopSku'])} ({item['shopSku']}), {claim['count']} шт.: "
                       f"{reason}")
            if claim.get("comment"):
                sheet.line(f"Комментарий покупателя: {claim['comment']}", indent=10)
    sheet.line("")
    sheet.line("Прошу вернуть деньги за товар.")
    return sheet.done()
