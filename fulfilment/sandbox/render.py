"""Turn the sandbox's stored order into the shapes the API returns.

Stored form: ``BusinessOrderDTO`` (v1) plus keys starting with ``_`` that only the sandbox sees.
``to_v1`` strips those; ``to_v2`` builds the deprecated ``OrderDTO`` of GET v2 campaigns/.../orders.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .clock import MSK


def strip_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_private(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_private(v) for v in value]
    return value


def to_v1(order: dict[str, Any]) -> dict[str, Any]:
    return strip_private(order)


def _dmy(iso_date: str | None) -> str | None:
    if not iso_date:
        return None
    return dt.date.fromisoformat(iso_date).strftime("%d-%m-%Y")


def _dmy_hms(iso: str | None) -> str | None:
    if not iso:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(MSK).strftime("%d-%m-%Y %H:%M:%S")


def _num(value: Any) -> float:
    return float(Decimal(str(value or 0)))


def to_v2(order: dict[str, Any]) -> dict[str, Any]:
    """The deprecated ``OrderDTO`` (DD-MM-YYYY dates, flat totals, ``delivery.shipments``)."""
    extra = order.get("_sandbox", {})
    delivery = order["delivery"]
    items = []
    for it in order["items"]:
        count = it["count"]
        payment = _num(((it.get("prices") or {}).get("payment") or {}).get("value"))
        subsidy = _num(((it.get("prices") or {}).get("subsidy") or {}).get("value"))
        unit_buyer = round(payment / count, 2) if count else 0
        unit_price = round((payment + subsidy) / count, 2) if count else 0
        v2_item: dict[str, Any] = {
            "id": it["id"],
            "offerId": it["offerId"],
            "offerName": it["offerName"],
            "price": unit_price,
            "buyerPrice": unit_buyer,
            "buyerPriceBeforeDiscount": unit_price,
            "count": count,
            "vat": (it.get("prices") or {}).get("vat", "NO_VAT"),
        }
        for key in ("instances", "requiredInstanceTypes", "tags"):
            if it.get(key):
                v2_item[key] = it[key]
        if it.get("_promos"):
            v2_item["promos"] = it["_promos"]
        items.append(v2_item)
    prices = order.get("prices") or {}
    items_total = sum(i["price"] * i["count"] for i in items)
    buyer_items_total = _num((prices.get("payment") or {}).get("value"))
    delivery_total = _num(((prices.get("delivery") or {}).get("payment") or {}).get("value"))
    shipment = delivery.get("shipment") or {}
    v2_delivery: dict[str, Any] = {
        "type": delivery["type"],
        "serviceName": delivery["serviceName"],
        "deliveryPartnerType": delivery["deliveryPartnerType"],
        "deliveryServiceId": delivery["deliveryServiceId"],
        "dates": {
            k: v
            for k, v in {
                "fromDate": _dmy(delivery["dates"].get("fromDate")),
                "toDate": _dmy(delivery["dates"].get("toDate")),
                "fromTime": delivery["dates"].get("fromTime"),
                "toTime": delivery["dates"].get("toTime"),
            }.items()
            if v
        },
    }
    if delivery.get("dispatchType"):
        v2_delivery["dispatchType"] = delivery["dispatchType"]
    if shipment:
        v2_shipment: dict[str, Any] = {"shipmentDate": _dmy(shipment.get("shipmentDate"))}
        if shipment.get("id"):
            v2_shipment["id"] = shipment["id"]
        if shipment.get("shipmentTime"):
            v2_shipment["shipmentTime"] = shipment["shipmentTime"]
        layout = delivery.get("boxesLayout") or []
        if layout:
            v2_shipment["boxes"] = [{"id": b["boxId"], "fulfilmentId": b["barcode"]} for b in layout]
        v2_delivery["shipments"] = [v2_shipment]
    buyer = extra.get("buyer", {})
    v2 = {
        "id": order["orderId"],
        "status": order["status"],
        "substatus": order["substatus"],
        "creationDate": _dmy_hms(order["creationDate"]),
        "updatedAt": _dmy_hms(order.get("updateDate")),
        "currency": "RUR",
        "itemsTotal": round(items_total, 2),
        "deliveryTotal": delivery_total,
        "buyerItemsTotalBeforeDiscount": round(items_total, 2),
        "buyerItemsTotal": buyer_items_total,
        "paymentType": order["paymentType"],
        "paymentMethod": order["paymentMethod"],
        "fake": order["fake"],
        "items": items,
        "delivery": v2_delivery,
        "buyer": {"type": order.get("buyerType", "PERSON"),
                  **{k: v for k, v in buyer.items() if k in ("id", "lastName", "firstName", "middleName")}},
        "taxSystem": extra.get("taxSystem", "OSN"),
        "cancelRequested": bool(order.get("cancelRequested")),
    }
    if order.get("notes"):
        v2["notes"] = order["notes"]
    if order.get("externalOrderId"):
        v2["externalOrderId"] = order["externalOrderId"]
    return v2
