"""Builders for returns in the sandbox: an order shipped with codes and delivered, its return, and
the return's journey — all through the Partner API and the control plane, over HTTP."""

from __future__ import annotations

import random

import requests

from fulfilment.market.client import MarketClient
from fulfilment.market.types import BoxLine, Instance
from fulfilment.sandbox import seed


def shipped_with_codes(sandbox, client: MarketClient, lines=(("SHOES-RUN-42", 2), ("MUG-001", 1)),
                       rng: random.Random | None = None, delivered: bool = True) -> tuple[dict, dict[str, list[str]]]:
    """An FBS order laid out in one box with a code per marked unit, then delivered; its codes by SKU."""
    rng = rng or random.Random(19)
    order = sandbox.place(list(lines))
    codes: dict[str, list[str]] = {}
    box = []
    for item in order["items"]:
        product = seed.CATALOG[item["offerId"]]
        if product.codes:
            codes[item["offerId"]] = [seed.make_cis(product, rng) for _ in range(item["count"])]
            box.append(BoxLine(item["id"], full_count=item["count"],
                               instances=tuple(Instance(cis=c) for c in codes[item["offerId"]])))
        else:
            box.append(BoxLine(item["id"], full_count=item["count"]))
    client.set_order_box_layout(seed.FBS_CAMPAIGN_ID, order["orderId"], [box])
    status = {"status": "DELIVERED", "substatus": "DELIVERY_SERVED"} if delivered else \
        {"status": "PICKUP", "substatus": "PICKUP_SERVICE_RECEIVED"}
    control(sandbox, "POST", f"/orders/{order['orderId']}", status)
    return sandbox.stored(order["orderId"]), codes


def control(sandbox, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
    resp = requests.request(method, f"{sandbox.url}/_sandbox{path}", json=body, timeout=10)
    assert resp.status_code == expect, resp.text
    return resp.json()


def buyer_returns(sandbox, order_id: int, items: list[dict] | None = None, kind: str = "RETURN") -> dict:
    """The buyer returns (``items``: offerId, count, reason, comment, photos) or the order goes unredeemed."""
    return control(sandbox, "POST", f"/orders/{order_id}/returns", {"type": kind, "items": items or []})


def travel(sandbox, return_id: int, *statuses: str, **extra) -> dict:
    """Move the return along its journey, one status at a time."""
    state: dict = {}
    for status in statuses:
        state = control(sandbox, "POST", f"/returns/{return_id}", {"shipmentStatus": status, **extra})
    return state
