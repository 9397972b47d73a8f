"""Keep the local mirror equal to the Market: incremental, streamed, single-flight, bulk upserts.

One pass per business with POST v1/businesses/{id}/orders (all its active campaigns at once); the
deprecated campaign listing only where no business id is known. The watermark (the newest
``updateDate`` seen) advances only after a complete pass; the next pass starts a little earlier
(``OVERLAP``) so that a change committed at the Market during our pass is never skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from fulfilment.market import types as mt
from fulfilment.market.client import MarketClient, wait_and_retry
from fulfilment.market.errors import MarketCredentialsError, MarketError
from fulfilment.market.limits import MAX_DATE_RANGE_DAYS

from .clients import client_for
from .locks import try_lock
from .models import AuditEvent, Box, BoxLine, Business, Campaign, Order, OrderItem, OutboxAction

log = logging.getLogger("fulfilment.sync")
OVERLAP = dt.timedelta(minutes=2)
BACKFILL_DAYS = 30


@dataclass
class SyncResult:
    business_id: int
    ran: bool = True
    pages: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    flagged: int = 0
    error: str = ""
    calls: int = 0
    flagged_ids: list[int] = field(default_factory=list)


# --- single flight -------------------------------------------------------------------------------
def _mark_running(business: Business) -> dt.datetime:
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(sync_started_at=now)
    return now


def _finish(business: Business, **fields: object) -> None:
    Business.objects.filter(pk=business.pk).update(sync_started_at=None, **fields)


# --- mapping -------------------------------------------------------------------------------------
def _order_fields(o: mt.Order) -> dict[str, object]:
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


def _item_fields(i: mt.OrderItem) -> dict[str, object]:
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


ORDER_FIELDS = [
    "external_order_id", "program_type", "status", "substatus", "created_at_market", "updated_at_market",
    "expiry_date", "shipment_date", "shipment_time", "shipment_id", "delivery_type", "dispatch_type",
    "delivery_service_name", "buyer_type", "payment_type", "payment_method", "fake", "cancel_requested",
    "cancel_requested_at", "processing_at", "currency",
    "items_total", "delivery_total", "subsidy_total", "notes", "raw", "synced_at", "flag_reason",
]
ITEM_FIELDS = ["offer_id", "name", "count", "price", "buyer_price", "payment_total", "subsidy_total", "vat",
               "required_instance_types", "tags", "promos", "market_instances"]


def _flag(order: Order, reason: str, flags: list[tuple[Order, str]]) -> None:
    if reason not in order.flag_reason:
        order.flag_reason = (order.flag_reason + "\n" + reason).strip()
        flags.append((order, reason))


def _adapter(field: models.Field) -> Callable[[object], object] | None:
    """How a value of ``field`` is written, or None when the driver takes it as it is (str, int,
    bool, Decimal everywhere; dates and aware datetimes in PostgreSQL's COPY)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        # JSON text: both SQLite and PostgreSQL's COPY take it as is; most item lists are empty.
        def dump(v: object) -> str:
            if v == []:
                return "[]"
            try:
                return orjson.dumps(v).decode()  # the raw order is most of a row: six times json's speed
            except TypeError:  # a type orjson does not know: the field's own encoder
                return json.dumps(v, cls=field.encoder)

        return dump
    if connection.vendor == "postgresql":
        return None
    if isinstance(field, models.DateTimeField):
        if settings.USE_TZ:
            # What Django's adapter stores (naive UTC, str()), without its per-value checks.
            def stamp(v: object) -> object:
                if isinstance(v, dt.datetime) and v.tzinfo is not None:
                    return str(v.astimezone(dt.UTC).replace(tzinfo=None))
                return ops.adapt_datetimefield_value(v)

            return stamp
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return None


def _insert(model: type[models.Model], names: list[str], rows: list[list[object]]) -> None:
    """A plain multi-row INSERT. The first sync writes thousands of rows, and bulk_create's per-value
    field machinery costs more than the database itself; values go through the backend's adapters."""
    if not rows:
        return
    # Local columns the Market knows nothing of (packing state) start at their model defaults.
    extra = [f for f in model._meta.concrete_fields
             if not f.primary_key and (f.has_default() or not f.null) and f.name not in names
             and f.attname not in names]
    if extra:
        defaults = [f.get_default() for f in extra]
        names = [*names, *(f.name for f in extra)]
        rows = [[*row, *defaults] for row in rows]
    fields = [model._meta.get_field(n) for n in names]
    # Only the few columns that need it are converted (a call per value is most of the cost).
    convert = [(n, a) for n, a in enumerate(_adapter(f) for f in fields) if a is not None]

    def adapt(row: list[object]) -> list[object]:
        for n, a in convert:
            row[n] = a(row[n])  # the rows are built for this insert alone
        return row

    qn = connection.ops.quote_name
    # Table and column names come from the model and are quoted; values are parameters. One
    # statement per chunk: a round trip per row costs more than the rows themselves.
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        # COPY on a server-binding cursor: Django's client-side binding re-parses big statements.
        with psycopg.Cursor(connection.connection) as cur, cur.copy(
                f"COPY {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(adapt(row))
        return
    # SQLite: executemany on the driver's cursor, a C loop over one prepared statement (Django's
    # wrapper would rewrite every placeholder of a big statement with a regular expression).
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(head + f"({', '.join(['?'] * len(fields))})",
                           (adapt(row) for row in rows))
    finally:
        cursor.close()


def _order_ids(campaign_pks: list[int], market_ids: list[int]) -> dict[tuple[int, int], int]:
    """(campaign pk, order number) → pk of the orders here; plain SQL, as the ORM's compilation of a
    long IN list costs more than the query (most pages of a first sync find nothing)."""
    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT id, campaign_id, market_id FROM {table} "  # noqa: S608 - model's table
                           "WHERE campaign_id = ANY(%s) AND market_id = ANY(%s)", [campaign_pks, market_ids])
        else:
            marks = ", ".join(["%s"] * len(market_ids))
            cursor.execute(f"SELECT id, campaign_id, market_id FROM {table} "  # noqa: S608 - model's table
                           f"WHERE campaign_id IN ({', '.join(['%s'] * len(campaign_pks))}) AND market_id IN ({marks})",
                           [*campaign_pks, *market_ids])
        return {(c, m): pk for pk, c, m in cursor.fetchall()}


def apply_page(campaigns: dict[int, Campaign], remote: Sequence[mt.Order]) -> tuple[int, int, list[Order]]:
    """Upsert one page of orders in one transaction. Returns (created, updated, newly flagged)."""
    now = timezone.now()
    remote = [o for o in remote if o.campaign_id in campaigns]
    if not remote:
        return 0, 0, []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Each page is re-fetchable from the Market, so its commit need not wait for the disk; the
            # watermark is committed normally later, and WAL order makes every earlier page durable first.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        campaign_pks = [campaigns[cid].pk for cid in {o.campaign_id for o in remote}]
        # One IN query (a long OR of pairs costs more to build than to run); pairs are matched here.
        known = _order_ids(campaign_pks, [o.id for o in remote])
        existing = {(x.campaign_id, x.market_id): x for x in Order.objects.select_for_update().filter(
            campaign__in=campaign_pks, market_id__in=[m for _c, m in known])} if known else {}
        new: list[mt.Order] = []
        changed: list[tuple[Order, mt.Order]] = []
        for o in remote:
            local = existing.get((campaigns[o.campaign_id].pk, o.id))
            if local is None:
                new.append(o)
            elif local.raw != o.raw:
                # Compared by content: updateDate has one-second precision, two changes may share it.
                changed.append((local, o))
        if new:
            order_values = [f for f in ORDER_FIELDS if f not in ("synced_at", "flag_reason")]
            order_rows = []
            for o in new:
                values = _order_fields(o)
                order_rows.append([campaigns[o.campaign_id].pk, o.id, now, "", 0, *(values[k] for k in order_values)])
            _insert(Order, ["campaign", "market_id", "synced_at", "flag_reason", "version", *order_values], order_rows)
            ids = _order_ids(campaign_pks, [o.id for o in new])
            item_rows = []
            for o in new:
                order_pk = ids[(campaigns[o.campaign_id].pk, o.id)]
                for i in o.items:
                    values = _item_fields(i)
                    item_rows.append([order_pk, i.id, *(values[k] for k in ITEM_FIELDS)])
            _insert(OrderItem, ["order", "market_item_id", *ITEM_FIELDS], item_rows)
            for o in new:
                if o.boxes_layout:
                    _adopt_market_layout(Order.objects.get(pk=ids[(campaigns[o.campaign_id].pk, o.id)]), o, None)
        flags = _apply_changes(changed, now)
    for order, reason in flags:
        log.warning("order %s flagged: %s", order.market_id, reason)
    return len(new), len(changed), [o for o, _ in flags]


def _apply_changes(changed: list[tuple[Order, mt.Order]], now: dt.datetime) -> list[tuple[Order, str]]:
    flags: list[tuple[Order, str]] = []
    if not changed:
        return flags
    orders = [local for local, _ in changed]
    items_by_order: dict[int, dict[int, OrderItem]] = {o.pk: {} for o in orders}
    for item in OrderItem.objects.filter(order__in=orders):
        items_by_order[item.order_id][item.market_item_id] = item
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
        for key, value in _order_fields(o).items():
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
            _flag(local, "Заказ отменён, пока его собирали / cancelled while packing", flags)
        if (was_active and local.substatus == "READY_TO_SHIP" and local.pk not in ready_sent):
            _flag(local, "Заказ переведён в READY_TO_SHIP не из этой системы / moved to READY_TO_SHIP elsewhere",
                  flags)
        current = items_by_order[local.pk]
        seen = set()
        for i in o.items:
            seen.add(i.id)
            item = current.get(i.id)
            if item is None:
                to_create_items.append(OrderItem(order=local, market_item_id=i.id, **_item_fields(i)))
                continue
            if i.count < packed[local.pk].get(i.id, 0):
                _flag(local, f"Товар {i.offer_id}: количество уменьшено до {i.count} / item reduced", flags)
            for key, value in _item_fields(i).items():
                setattr(item, key, value)
            to_update_items.append(item)
        for market_item_id, item in current.items():
            if market_item_id not in seen:
                if packed[local.pk].get(market_item_id) or in_progress:
                    _flag(local, f"Товар {item.offer_id} удалён из заказа / item removed", flags)
                to_delete.append(item.pk)
    Order.objects.bulk_update(orders, ORDER_FIELDS)
    OrderItem.objects.bulk_update(to_update_items, ITEM_FIELDS)
    OrderItem.objects.bulk_create(to_create_items)
    if to_delete:
        OrderItem.objects.filter(pk__in=to_delete).delete()
    for local, o in changed:
        if o.boxes_layout:
            _adopt_market_layout(local, o, None)
    AuditEvent.objects.bulk_create([
        AuditEvent(order=order, action="flagged", payload={"reason": reason}) for order, reason in flags
    ])
    return flags


def _adopt_market_layout(order: Order, remote: mt.Order, items: dict[int, OrderItem] | None) -> None:
    """Keep the Market's box ids and barcodes; build local boxes from its layout when we have none."""
    boxes = list(order.boxes.order_by("number")) if order.pk else []
    if boxes:
        if len(boxes) == len(remote.boxes_layout):
            for box, rb in zip(boxes, remote.boxes_layout, strict=True):
                if box.market_box_id != rb.box_id or (rb.barcode and box.barcode != rb.barcode):
                    box.market_box_id = rb.box_id
                    box.barcode = rb.barcode or box.barcode
                    box.save(update_fields=["market_box_id", "barcode"])
        return
    if items is None:
        items = {i.market_item_id: i for i in order.items.all()}
    unit_counter: dict[int, int] = {}
    for n, rb in enumerate(remote.boxes_layout, start=1):
        box = Box.objects.create(order=order, number=n, market_box_id=rb.box_id, barcode=rb.barcode)
        for line in rb.lines:
            item = items.get(line.item_id)
            if item is None:
                continue
            if line.full_count is not None:
                BoxLine.objects.create(box=box, item=item, full_count=line.full_count)
            elif line.partial is not None:
                if line.partial.current == 1:
                    unit_counter[item.pk] = unit_counter.get(item.pk, 0) + 1
                unit = max(1, unit_counter.get(item.pk, 1))
                BoxLine.objects.create(box=box, item=item, unit=unit, part_current=line.partial.current,
                                       part_total=line.partial.total)


# --- passes ---
PAGE_ATTEMPTS = 6


def _stream(client: MarketClient, business_market_id: int, filters: mt.OrdersFilter) -> Iterable[mt.OrdersPage]:
    """Follow the pages; a page that fails for a transient reason is asked again (with backoff, and
    as long as the Market asks to wait) instead of restarting the whole pass."""
    token: str | None = None
    while True:
        page = wait_and_retry(lambda t=token: client.get_business_orders(business_market_id, filters, t),
                              attempts=PAGE_ATTEMPTS, max_wait=30.0)
        yield page
        if not page.next_page_token or not page.orders:
            return
        token = page.next_page_token


def _prefetched(pages: Iterable[mt.OrdersPage], depth: int = 2) -> Iterable[mt.OrdersPage]:
    """Fetch the next pages in a thread while this one is written: the Market's latency and our
    writes overlap, and at most ``depth`` pages wait in memory."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        q.put(page, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=60)


def _pages(client: MarketClient, business: Business, campaign_ids: tuple[int, ...], has_dbs: bool
           ) -> Iterable[mt.OrdersPage]:
    if business.sync_watermark:
        yield from _stream(client, business.market_id,
                           mt.OrdersFilter(campaign_ids=campaign_ids, updated_from=business.sync_watermark - OVERLAP))
        return
    # First run: creation windows of at most 30 days back to the horizon, then the DBS orders waiting
    # for a cancellation decision, which may be older.
    end = timezone.localdate() + dt.timedelta(days=1)  # creationDateTo is exclusive
    horizon = end - dt.timedelta(days=BACKFILL_DAYS)
    while end > horizon:
        start = max(horizon, end - dt.timedelta(days=MAX_DATE_RANGE_DAYS))
        yield from _stream(client, business.market_id,
                           mt.OrdersFilter(campaign_ids=campaign_ids, creation_from=start, creation_to=end))
        end = start
    if has_dbs:
        # A cancellation request is at most 48 hours old and updated its order, so an update-date
        # filter finds every such order however long ago it was created.
        yield from _stream(client, business.market_id,
                           mt.OrdersFilter(campaign_ids=campaign_ids, waiting_for_cancellation_approve=True,
                                           updated_from=timezone.now() - dt.timedelta(hours=49)))


def sync_business(business_id: int, client: MarketClient | None = None) -> SyncResult:
    """One complete pass over a business. Single-flight across processes and machines: a second
    sync of the same business started meanwhile returns at once with ``ran=False``."""
    business = Business.objects.get(pk=business_id)
    result = SyncResult(business_id)
    if not business.is_active or business.credentials_error:
        result.ran = False
        result.error = business.credentials_error or "inactive"
        return result
    with try_lock(f"sync-business:{business.pk}") as got:
        if not got:
            result.ran = False
            return result
        _mark_running(business)
        client = client or client_for(business)
        try:
            _pass(business, client, result)
        finally:
            result.calls = client.calls
    return result


def _pass(business: Business, client: MarketClient, result: SyncResult) -> None:
    campaigns = {c.market_id: c for c in business.campaigns.filter(is_active=True)}
    newest = business.sync_watermark
    try:
        has_dbs = any(c.placement_model == "DBS" for c in campaigns.values())
        for page in _prefetched(_pages(client, business, tuple(sorted(campaigns)), has_dbs)):
            result.pages += 1
            result.orders += len(page.orders)
            created, updated, flagged = apply_page(campaigns, page.orders)
            result.created += created
            result.updated += updated
            result.flagged += len(flagged)
            result.flagged_ids += [o.market_id for o in flagged]
            for o in page.orders:
                if o.updated_at and (newest is None or o.updated_at > newest):
                    newest = o.updated_at
    except MarketCredentialsError as exc:
        message = "; ".join(exc.messages)
        _finish(business, credentials_error=message, last_sync_error=message, last_sync_error_at=timezone.now())
        Campaign.objects.filter(business=business).update(credentials_error=message)
        result.error = message
        return
    except MarketError as exc:
        result.error = "; ".join(exc.messages)
        _finish(business, last_sync_error=result.error, last_sync_error_at=timezone.now())
        raise
    except BaseException as exc:
        _finish(business, last_sync_error=repr(exc)[:2000], last_sync_error_at=timezone.now())
        raise
    now = timezone.now()
    _finish(business, sync_watermark=newest or now, last_sync_success_at=now, last_sync_error="",
            last_sync_orders=result.orders)
    Campaign.objects.filter(market_id__in=campaigns).update(last_sync_success_at=now, last_sync_error="",
                                                            last_sync_orders=0)


def sync_campaign_v2(campaign_id: int, client: MarketClient | None = None) -> SyncResult:
    """Fallback for a campaign whose business id is unknown: the deprecated GET v2 campaign listing
    (retired 2027-04-12). Same upsert and watermark rules."""
    campaign = Campaign.objects.select_related("business").get(pk=campaign_id)
    client = client or client_for(campaign.business)
    result = SyncResult(campaign.business_id)
    newest = campaign.sync_watermark
    page_token = None
    while True:
        page = client.get_orders(campaign.market_id, page_token=page_token,
                                 updated_from=(campaign.sync_watermark - OVERLAP) if campaign.sync_watermark else None)
        result.pages += 1
        result.orders += len(page.orders)
        created, updated, flagged = apply_page({campaign.market_id: campaign}, page.orders)
        result.created += created
        result.updated += updated
        result.flagged += len(flagged)
        for o in page.orders:
            if o.updated_at and (newest is None or o.updated_at > newest):
                newest = o.updated_at
        page_token = page.next_page_token
        if not page_token or not page.orders:
            break
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(sync_watermark=newest or now, last_sync_success_at=now,
                                                   last_sync_error="", last_sync_orders=result.orders)
    result.calls = client.calls
    return result


def refresh_order(order: Order, client: MarketClient | None = None) -> Order:
    """Fetch one order again (staff's "refresh"), through the business method."""
    business = order.campaign.business
    client = client or client_for(business)
    page = client.get_business_orders(business.market_id, mt.OrdersFilter(order_ids=(order.market_id,)))
    apply_page({order.campaign.market_id: order.campaign}, page.orders)
    order.refresh_from_db()
    return order
