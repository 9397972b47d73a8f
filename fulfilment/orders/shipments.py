"""The mirror of each shop's first-mile shipments: today's and the next few days', read with
searchShipments, then getShipment (its ``availableActions``) and getShipmentOrdersInfo (whose labels
can be printed) for each. Refreshed by the beat, on demand, and after every shipment change the
outbox delivers. Orders of a shipment not mirrored here yet are fetched by a targeted refresh."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from fulfilment.market.client import MarketClient
from fulfilment.market.errors import MarketError
from fulfilment.market.shipment_changes import ExternalOrderId, ShipmentChange, ShipmentTransfer
from fulfilment.market.shipments import FirstMileShipment, ShipmentsFilter

from .clients import client_for
from .locks import try_lock
from .models import Campaign, Order, PlacementModel, Shipment
from .refresh import refresh_orders

log = logging.getLogger("fulfilment.shipments")
DAYS_AHEAD = 3  # today's shipment and the next ones: what the supervisor plans


def local_today() -> dt.date:
    return timezone.localdate()


def shipment_campaigns() -> list[Campaign]:
    """Shops that ship first-mile shipments (FBS) and can be asked."""
    return list(Campaign.objects.filter(is_active=True, credentials_error="", placement_model=PlacementModel.FBS,
                                        business__is_active=True, business__credentials_error="")
                .select_related("business"))


def _date_of(s: FirstMileShipment) -> dt.date:
    """The shipment's day: that of its hand-over interval, else that of its orders here."""
    if s.plan_from:
        return timezone.localtime(s.plan_from).date()
    dates = set(Order.objects.filter(market_id__in=s.order_ids).exclude(shipment_date=None)
                .values_list("shipment_date", flat=True))
    return min(dates) if dates else local_today()


def _fields(s: FirstMileShipment) -> dict[str, Any]:
    return {
        "external_id": s.external_id, "shipment_date": _date_of(s), "plan_from": s.plan_from, "plan_to": s.plan_to,
        "status": str(s.status), "status_description": s.status_description, "shipment_type": str(s.shipment_type),
        "warehouse_name": s.warehouse.name if s.warehouse else "",
        "destination_name": s.warehouse_to.name if s.warehouse_to else "",
        "delivery_service_name": s.delivery_service_name, "draft_count": s.draft_count,
        "planned_count": s.planned_count, "fact_count": s.fact_count, "signed": s.signed,
        "pallets_planned": s.pallets_planned, "pallets_fact": s.pallets_fact,
        "available_actions": [str(a) for a in s.available_actions], "order_ids": list(s.order_ids),
    }


def _store(campaign: Campaign, client: MarketClient, market_id: int) -> Shipment:
    """Read one shipment in full and write it here."""
    detailed = client.get_shipment(campaign.market_id, market_id)
    info = client.get_shipment_orders_info(campaign.market_id, market_id)
    fields = _fields(detailed) | {"with_labels": list(info.with_labels), "synced_at": timezone.now()}
    shipment, _ = Shipment.objects.update_or_create(market_id=market_id, defaults={"campaign": campaign, **fields})
    missing = set(detailed.order_ids) - set(Order.objects.filter(campaign=campaign, market_id__in=detailed.order_ids)
                                            .values_list("market_id", flat=True))
    if missing:
        refresh_orders(campaign.business_id, missing, client)
    return shipment


def sync_campaign_shipments(campaign_id: int, client: MarketClient | None = None) -> list[Shipment]:
    """Today's and the next DAYS_AHEAD days' shipments of a shop, and any earlier one still not confirmed."""
    campaign = Campaign.objects.select_related("business").get(pk=campaign_id)
    # One pass a shop at a time (two beats, a redelivered message): shipments share 200 calls an hour.
    with try_lock(f"sync-shipments:{campaign_id}") as mine:
        if not mine:
            return []
        client = client or client_for(campaign.business)
        today = local_today()
        found = list(client.iter_shipments(campaign.market_id, ShipmentsFilter(
            today - dt.timedelta(days=1), today + dt.timedelta(days=DAYS_AHEAD))))
        return [_store(campaign, client, s.id) for s in found]


def refresh_shipment(shipment_id: int, client: MarketClient | None = None) -> Shipment:
    """Read one mirrored shipment again, now."""
    shipment = Shipment.objects.select_related("campaign__business").get(pk=shipment_id)
    return _store(shipment.campaign, client or client_for(shipment.campaign.business), shipment.market_id)


def after_shipment_change(campaign_id: int, order_id: int | None, change: ShipmentChange) -> None:
    """The outbox delivered a shipment change (inside its transaction): follow it here, then read
    the shipment (and moved orders) again once committed."""
    if isinstance(change, ExternalOrderId):
        if order_id:
            Order.objects.filter(pk=order_id).update(external_order_id=change.external_id)
        return
    shipment_pk = Shipment.objects.filter(market_id=change.shipment_id).values_list("pk", flat=True).first()
    if shipment_pk:
        moved = list(change.order_ids) if isinstance(change, ShipmentTransfer) else []
        transaction.on_commit(lambda: refresh_shipment_task.delay(shipment_pk, moved))


@shared_task(name="fulfilment.orders.tasks.sync_shipments_task", acks_late=True, ignore_result=True,
             autoretry_for=(MarketError,), retry_backoff=True, retry_backoff_max=300, max_retries=3)
def sync_shipments_task(campaign_id: int | None = None) -> int:
    """Beat (every SHIPMENT_SYNC_SECONDS) and the supervisor's "refresh": one shop, or every shop."""
    if campaign_id is not None:
        return len(sync_campaign_shipments(campaign_id))
    ids = [c.pk for c in shipment_campaigns()]
    for pk in ids:
        sync_shipments_task.delay(pk)
    return len(ids)


@shared_task(name="fulfilment.orders.tasks.refresh_shipment_task", acks_late=True, ignore_result=True,
             autoretry_for=(MarketError,), retry_backoff=True, retry_backoff_max=120, max_retries=3)
def refresh_shipment_task(shipment_id: int, moved_order_ids: list[int] | None = None) -> None:
    """After a change the outbox delivered: the shipment and the orders it moved, read again."""
    shipment = refresh_shipment(shipment_id)
    if moved_order_ids:
        refresh_orders(shipment.campaign.business_id, moved_order_ids)
        # The orders moved to the next shipment, which may be new here.
        sync_campaign_shipments(shipment.campaign_id)
