"""Codes a trainee can print and scan while packing the sandbox Market's orders.

The sandbox's goods carry made-up but well-formed codes, so a demo warehouse has nothing real to
scan. For an order of a sandbox business this gives, per item, its product barcode and, per unit,
the marking codes its ``requiredInstanceTypes`` ask for. They are derived from the order and item
ids, so a reprint gives the same codes, and two orders never share one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fulfilment.orders.models import Order
from fulfilment.sandbox.seed import CATALOG, make_cis


@dataclass
class TrainingItem:
    offer_id: str
    name: str
    count: int
    ean13: str
    codes: list[tuple[str, str]] = field(default_factory=list)  # (type, code) per unit


def is_sandbox(order: Order) -> bool:
    """Orders of a business whose API is not the real Market's (the demo's sandbox)."""
    host = urlsplit(order.campaign.business.api_base_url).hostname or ""
    return not host.endswith("market.yandex.ru")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(20, 25):02d}"


def training_codes(order: Order) -> list[TrainingItem]:
    """Per item of the order: its product barcode and the codes each unit needs."""
    out = []
    for item in order.items.order_by("id"):
        product = CATALOG.get(item.offer_id)
        entry = TrainingItem(item.offer_id, item.name, item.count, (product.ean13 or "") if product else "")
        rng = random.Random(f"{order.market_id}/{item.market_item_id}")  # noqa: S311 - made-up codes, reproducible
        for _unit in range(item.count):
            for kind in item.required_instance_types or []:
                if kind in ("CIS", "CIS_OPTIONAL") and product and product.gtin:
                    entry.codes.append(("CIS", make_cis(product, rng)))
                elif kind == "UIN":
                    entry.codes.append(("UIN", _digits(rng, 16)))
                elif kind == "RNPT":
                    entry.codes.append(("RNPT", f"{_digits(rng, 8)}/{_date(rng)}/{_digits(rng, 7)}/{_digits(rng, 3)}"))
                elif kind == "GTD":
                    entry.codes.append(("GTD", f"{_digits(rng, 8)}/{_date(rng)}/{_digits(rng, 7)}"))
        out.append(entry)
    return out
