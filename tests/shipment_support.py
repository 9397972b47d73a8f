"""Builders for the shipment tests: orders made ready at the sandbox Market, mirrored here, and
cutoffs set on both sides (the Market's schedule is not in the API, so the shop's cutoff is a
setting here that must match the Market's)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from django.utils import timezone

from fulfilment.market.types import BoxLine, PartialCount
from fulfilment.orders.models import Campaign, Shipment
from fulfilment.orders.shipments import sync_campaign_shipments
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox import seed
from fulfilment.sandbox.clock import MSK

FBS = seed.FBS_CAMPAIGN_ID


def skip_near_midnight(margin_hours: int = 2) -> None:
    """Cutoffs are HH:MM of the shipment's day; tests put them around now, which needs room in the day."""
    now = dt.datetime.now(MSK)
    if now.hour >= 24 - margin_hours or now.hour < 1:
        pytest.skip("too close to midnight in Moscow for cutoffs around now")


def hhmm(minutes_from_now: int) -> str:
    return (dt.datetime.now(MSK) + dt.timedelta(minutes=minutes_from_now)).strftime("%H:%M")


def set_cutoff(sandbox, minutes_from_now: int, campaign: Campaign | None = None) -> str:
    """The shop's cutoff ``minutes_from_now`` from now, at the Market (every shipment and new ones) and here."""
    value = hhmm(minutes_from_now)
    requests.post(f"{sandbox.url}/_sandbox/settings", json={"shipment_cutoff": value}, timeout=5).raise_for_status()
    for s in Shipment.objects.all():
        control(sandbox, s.market_id, cutoff=value)
    campaigns = [campaign] if campaign else list(Campaign.objects.filter(market_id=FBS))
    for c in campaigns:
        c.shipment_cutoff = dt.time.fromisoformat(value)
        c.save(update_fields=["shipment_cutoff"])
    return value


def control(sandbox, shipment_id: int, **body) -> dict:
    resp = requests.post(f"{sandbox.url}/_sandbox/shipments/{shipment_id}", json=body, timeout=5)
    resp.raise_for_status()
    return resp.json()


def ready_at_market(sandbox, lines=(("MUG-001", 1),), boxes: int = 1, ready: bool = True, **kw) -> int:
    """An order laid out in ``boxes`` boxes at the Market and, ``ready``, READY_TO_SHIP there."""
    client = sandbox.client()
    order = sandbox.place(list(lines), **kw)
    item = order["items"][0]
    layout = [[BoxLine(item["id"], full_count=item["count"])]] if boxes == 1 else [
        [BoxLine(item["id"], partial=PartialCount(n, boxes))] for n in range(1, boxes + 1)]
    client.set_order_box_layout(FBS, order["orderId"], layout)
    if ready:
        client.update_order_status(FBS, order["orderId"], "PROCESSING", "READY_TO_SHIP")
    return order["orderId"]


def mirror(sandbox, business) -> list[Shipment]:
    """The orders and then the shipments of the FBS shop, read here as the worker does."""
    sync_business(business.pk, client=sandbox.client())
    return sync_campaign_shipments(Campaign.objects.get(market_id=FBS).pk, client=sandbox.client())


def shipment_today() -> Shipment:
    return Shipment.objects.get(shipment_date=timezone.localdate(), campaign__market_id=FBS)



def received(sandbox, operation: str) -> list[dict]:
    """The requests of one operation the sandbox received, oldest first, bodies decoded."""
    return [{**r, "body": json.loads(r["body"]) if r.get("body") else None} for r in sandbox.store.received(operation)]
