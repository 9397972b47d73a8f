"""The mirror of the Market's orders: one page upserted at a time, and the flags a remote change raises.

New orders go in through the raw bulk writer (``bulk``), changed ones through the ORM under a row
lock. A remote change that invalidates local work (cancelled while packing, an item removed or
reduced below what is packed, READY_TO_SHIP set elsewhere) flags the order with a visible reason.
A layout the Market holds is never taken as packed boxes: packing progress comes only from scans
here. The Market's layout stays in the order's ``raw`` (``market_layout`` reads it for the screen),
and its box ids and barcodes go onto the local boxes once a layout sent from here matches it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from fulfilment.market import types as mt

from . import bulk, flags
from .models import AuditEvent, Box, BoxLine, Campaign, Order, OrderItem, OutboxAction

log = logging.getLogger("fulfilment.sync")


# --- mapping -------------------------------------------------------------------------------------
def order_fields(o: mt.Order) -> dict[str, object]:
    """The Market's side of an order row, by field name (``MARKET_ORDER_FIELDS``, in that order)."""
    return {
        "external_order_id": o.external_order_id,
        "program_type": o.program_type,
        "status": str(o.status),
        "substatus": str(o.substatus),
        "created_at_market": o.created_at,
        "updated_at_market": o.updated_at,
        "expiry_date": o.expiry_date,
        "shipment_date": o.shipment.date if o.shipment else None,
        "shipment_time": o.shipment.time if o.shipment else "",
        "shipment_id": o.shipment.id if o.shipment else None,
        "delivery_type": o.delivery_type,
        "dispatch_type": o.dispatch_type,
        "delivery_service_name": o.delivery_service_name,
        "buyer_type": str(o.buyer_type),
        "payment_type": o.payment_type,
        "payment_method": o.payment_method,
        "fake": o.fake,
        "cancel_requested": o.cancel_requested,
        # The Market gives no time for the request: its updatedAt when first seen (kept after, see below).
        "cancel_requested_at": o.updated_at if o.cancel_requested else None,
        # Digital keys are due 30 minutes after PROCESSING, and the Market gives no time for it: an
        # order first seen in PROCESSING counts from its creation (the earliest it can be, so the
        # countdown never shows more time than there is); one seen to change into it, see below.
        "processing_at": o.created_at if str(o.status) == "PROCESSING" else None,
        "currency": o.currency,
        "items_total": o.items_total,
        "delivery_total": o.delivery_total,
        "subsidy_total": o.subsidy_total,
        "notes": o.notes,
        "raw": o.raw,
    }


def item_fields(i: mt.OrderItem) -> dict[str, object]:
    """The Market's side of an item row, by field name (``ITEM_FIELDS``, in that order)."""
    return {
        "offer_id": i.offer_id,
        "name": i.offer_name[:1024],
        "count": i.count,
        "price": i.unit_price,
        "buyer_price": i.buyer_unit_price,
        "payment_total": i.payment,
        "subsidy_total": i.subsidy,
        "vat": i.vat,
        "required_instance_types": [str(t) for t in i.required_instance_types],
        "tags": list(i.tags),
        "promos": list(i.promos),
        "market_instances": [
            {k: v for k, v in {"cis": x.cis, "cisFull": x.cis_full, "uin": x.uin, "rnpt": x.rnpt, "gtd": x.gtd,
                               "countryCode": x.country_code}.items() if v}
            for x in i.instances
        ],
    }


MARKET_ORDER_FIELDS = [
    "external_order_id", "program_type", "status", "substatus", "created_at_market", "updated_at_market",
    "expiry_date", "shipment_date", "shipment_time", "shipment_id", "delivery_type", "dispatch_type",
    "delivery_service_name", "buyer_type", "payment_type", "payment_method", "fake", "cancel_requested",
    "cancel_requested_at", "processing_at", "currency",
    "items_total", "delivery_total", "subsidy_total", "notes", "raw",
]
ORDER_FIELDS = [*MARKET_ORDER_FIELDS, "synced_at", "flag_reason"]  # what a sync changes on a known order
ITEM_FIELDS = ["offer_id", "name", "count", "price", "buyer_price", "payment_total", "subsidy_total", "vat",
               "required_instance_types", "tags", "promos", "market_instances"]


# --- one page ------------------------------------------------------------------------------------
def _older(remote: mt.Order, local: Order) -> bool:
    """A copy fetched before the one already written (a sync page in flight while a notification's
    refresh wrote a newer state): the later updateDate wins, as the Market's notification rules say."""
    return bool(remote.updated_at and local.updated_at_market and remote.updated_at < local.updated_at_market)


def apply_page(campaigns: dict[int, Campaign], remote: Sequence[mt.Order]) -> tuple[int, int, list[Order]]:
    """Upsert one page of orders in one transaction. Returns (created, updated, newly flagged)."""
    now = timezone.now()
    remote = [o for o in remote if o.campaign_id in campaigns]
    if not remote:
        return 0, 0, []
    with transaction.atomic():
        campaign_pks = [campaigns[cid].pk for cid in {o.campaign_id for o in remote}]
        known = bulk.begin_page(campaign_pks, [o.id for o in remote])
        existing = {(x.campaign_id, x.market_id): x
                    for x in Order.objects.select_for_update().filter(pk__in=known.values())} if known else {}
        new: list[mt.Order] = []
        changed: list[tuple[Order, mt.Order]] = []
        for o in remote:
            local = existing.get((campaigns[o.campaign_id].pk, o.id))
            if local is None:
                new.append(o)
            elif local.raw != o.raw and not _older(o, local):
                # Compared by content: updateDate has one-second precision, two changes may share it.
                changed.append((local, o))
        _create(campaigns, new, now)
        raised = _apply_changes(changed, now)
    for order, line in raised:
        log.warning("order %s flagged: %s", order.market_id, line)
    return len(new), len(changed), [o for o, _ in raised]


def _create(campaigns: dict[int, Campaign], new: list[mt.Order], now: dt.datetime) -> None:
    """New orders and their items by the bulk writer (a layout the Market holds stays in ``raw``)."""
    if not new:
        return
    ids = bulk.insert(Order, ["campaign", "market_id", "synced_at", "flag_reason", "version", *MARKET_ORDER_FIELDS],
                      [[campaigns[o.campaign_id].pk, o.id, now, "", 0, *_values(order_fields(o), MARKET_ORDER_FIELDS)]
                       for o in new], key=("campaign", "market_id"))
    pks = [ids[(campaigns[o.campaign_id].pk, o.id)] for o in new]
    bulk.insert(OrderItem, ["order", "market_item_id", *ITEM_FIELDS],
                [[pk, i.id, *_values(item_fields(i), ITEM_FIELDS)] for pk, o in zip(pks, new, strict=True)
                 for i in o.items])


def _values(fields: dict[str, object], names: list[str]) -> list[object]:
    return [fields[n] for n in names]


def _items_by_order(order_pks: Iterable[int]) -> dict[int, dict[int, OrderItem]]:
    """order pk → {the Market's item id → item}, in one query."""
    items: dict[int, dict[int, OrderItem]] = {pk: {} for pk in order_pks}
    for item in OrderItem.objects.filter(order__in=list(items)):
        items[item.order_id][item.market_item_id] = item
    return items


def _flag(order: Order, raised: list[tuple[Order, str]], code: str, **values: object) -> None:
    """Flag ``order`` (once per reason) and note it in ``raised``."""
    line = flags.flag(code, **values)
    updated = flags.add(order.flag_reason, line)
    if updated is not None:
        order.flag_reason = updated
        raised.append((order, line))


def _apply_changes(changed: list[tuple[Order, mt.Order]], now: dt.datetime) -> list[tuple[Order, str]]:
    """Known orders the Market changed: fields, items, and the flags the change raises."""
    raised: list[tuple[Order, str]] = []
    if not changed:
        return raised
    orders = [local for local, _ in changed]
    items_by_order = _items_by_order(o.pk for o in orders)
    packed: dict[int, dict[int, int]] = {o.pk: {} for o in orders}
    for line in BoxLine.objects.filter(box__order__in=orders).select_related("box", "item"):
        units = line.full_count if line.full_count is not None else 0
        if line.part_current == 1:
            units = 1
        packed[line.box.order_id][line.item.market_item_id] = packed[line.box.order_id].get(
            line.item.market_item_id, 0) + units
    ready_sent = set(OutboxAction.objects.filter(
        order__in=orders, kind=OutboxAction.Kind.STATUS, state=OutboxAction.State.DELIVERED
    ).values_list("order_id", flat=True))
    started = set(Box.objects.filter(order__in=orders).values_list("order_id", flat=True))

    to_update_items: list[OrderItem] = []
    to_create_items: list[OrderItem] = []
    to_delete: list[int] = []
    for local, o in changed:
        was_active = local.status == "PROCESSING" and local.substatus in ("STARTED", "PACKAGING", "")
        asked_at = local.cancel_requested_at
        was_status, processing_at = local.status, local.processing_at
        for key, value in order_fields(o).items():
            setattr(local, key, value)
        if local.cancel_requested and asked_at is not None:
            local.cancel_requested_at = asked_at  # the 48 hours run from the first sighting
        if local.status == "PROCESSING":
            # Seen changing into PROCESSING: it happened after the last sync that saw it before.
            local.processing_at = processing_at or (
                (local.synced_at or o.created_at) if was_status != "PROCESSING" else o.created_at)
        local.synced_at = now
        in_progress = local.pk in started
        if was_active and local.status == "CANCELLED" and in_progress:
            _flag(local, raised, flags.CANCELLED_WHILE_PACKING)
        if (was_active and local.substatus == "READY_TO_SHIP" and local.pk not in ready_sent):
            _flag(local, raised, flags.READY_TO_SHIP_ELSEWHERE)
        current = items_by_order[local.pk]
        seen = set()
        for i in o.items:
            seen.add(i.id)
            item = current.get(i.id)
            if item is None:
                to_create_items.append(OrderItem(order=local, market_item_id=i.id, **item_fields(i)))
                continue
            if i.count < packed[local.pk].get(i.id, 0):
                _flag(local, raised, flags.ITEM_REDUCED, sku=i.offer_id, count=i.count)
            for key, value in item_fields(i).items():
                setattr(item, key, value)
            to_update_items.append(item)
        for market_item_id, item in current.items():
            if market_item_id not in seen:
                if packed[local.pk].get(market_item_id) or in_progress:
                    _flag(local, raised, flags.ITEM_REMOVED, sku=item.offer_id)
                to_delete.append(item.pk)
    bulk.update(Order, orders, ORDER_FIELDS)
    bulk.update(OrderItem, to_update_items, ITEM_FIELDS)
    OrderItem.objects.bulk_create(to_create_items)
    if to_delete:
        OrderItem.objects.filter(pk__in=to_delete).delete()
    # Box ids and barcodes belong to a layout sent from here; the Market's own layout (set in its
    # cabinet, or the one box a removal sends) is shown as the Market's, never as packed units.
    laid_out = {local.pk: o for local, o in changed if o.boxes_layout and local.layout_sent_version is not None}
    if laid_out:
        boxes: dict[int, list[Box]] = {pk: [] for pk in laid_out}
        for box in Box.objects.filter(order__in=list(laid_out)).order_by("number"):
            boxes[box.order_id].append(box)
        for pk, o in laid_out.items():
            if boxes[pk]:
                _keep_market_box_ids(boxes[pk], o)
    AuditEvent.objects.bulk_create([
        AuditEvent(order=order, action="flagged", payload={"reason": line}) for order, line in raised
    ])
    return raised


# --- the Market's layout -------------------------------------------------------------------------
def _keep_market_box_ids(boxes: list[Box], remote: mt.Order) -> None:
    """Local boxes stay as packed; they take the Market's box ids and barcodes when they match its boxes."""
    if len(boxes) != len(remote.boxes_layout):
        return
    for box, rb in zip(boxes, remote.boxes_layout, strict=True):
        if box.market_box_id != rb.box_id or (rb.barcode and box.barcode != rb.barcode):
            box.market_box_id = rb.box_id
            box.barcode = rb.barcode or box.barcode
            box.save(update_fields=["market_box_id", "barcode"])


def market_layout(order: Order) -> tuple[mt.LayoutBox, ...]:
    """The boxes the Market holds for the order as of the last sync (``delivery.boxesLayout``); from
    ``market_boxes`` when the query read that part only (``market_boxes()``), not the whole payload."""
    if "market_boxes" in order.__dict__:
        boxes = order.__dict__["market_boxes"]
    else:
        boxes = ((order.raw or {}).get("delivery") or {}).get("boxesLayout")
    return tuple(mt.LayoutBox.from_json(b) for b in boxes or ())


def market_boxes() -> KeyTransform:
    """``raw -> 'delivery' -> 'boxesLayout'``: annotate a query of orders with it as ``market_boxes``
    (and defer "raw") for market_layout to read that part of the payload only."""
    return KeyTransform("boxesLayout", KeyTransform("delivery", "raw"))
