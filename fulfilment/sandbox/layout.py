"""setOrderBoxLayout (FBS and Express, seed 001): the boxes, the codes they carry, and removal with
``allowRemove``. The rules themselves are in ``rules.check_box_layout``; this applies an accepted
layout: new box ids and barcodes, the items' codes, and a check started for each CIS and UIN."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from . import rules
from .clock import now_utc
from .identifiers import stored_instance
from .protocol import ApiError, Request, Response, bad
from .state import MarketState
from .status import require_processing


def set_box_layout(market: MarketState, req: Request) -> Response:
    """setOrderBoxLayout: check the layout, then store it with new box ids."""
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("boxes"), list):
        raise bad("boxes is required", "BAD_REQUEST")
    with market.store.tx() as conn:
        order = market.load(req, conn)
        require_processing(order, "Changing the box layout")
        errors, new_counts = rules.check_box_layout(order, body)
        if errors:
            raise ApiError.many(errors)
        # Removal (allowRemove): irreversible, the buyer is told at once.
        order["items"] = [dict(i, count=new_counts[i["id"]]) for i in order["items"] if new_counts[i["id"]] > 0]
        instances: dict[int, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
        layout = []
        result_boxes = []
        for n, box in enumerate(body["boxes"], start=1):
            box_id = market.store.next_id("box", 900_000_000)
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
                known.append(stored_instance(f, value, inst))
                if f in ("cis", "uin") and value not in checks:
                    checks[value] = {"type": f, "item": item["id"], "at": now_utc().isoformat()}
            if known:
                item["instances"] = known
            else:
                item.pop("instances", None)
        market.touch(order)
        market.store.save_order(order, conn=conn)
    return Response(body={"status": "OK", "result": {"boxes": result_boxes}})
