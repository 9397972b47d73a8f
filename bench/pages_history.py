"""A big seller's history in PostgreSQL, written with COPY (psycopg 3), for the pages benchmark.

``build(total, work, shops)`` empties the dashboard's tables and writes ``total`` orders: ``work``
of them in PROCESSING as today's work (the newest ids, shipment today to the day after tomorrow),
before them ``work`` orders of the last ten days still travelling (DELIVERY, PICKUP: the buyers'
cancellation requests are among them, so as many at every size), the rest spread over the two
years before, mostly DELIVERED or CANCELLED, with what packing left behind: items, boxes and their
lines, marking codes, actions for the Market and the audit trail
(one event per scan, finish, ready, labels, deliveries). Indexes and unique constraints are dropped
for the load and built again after it, foreign-key triggers are off (the rows are consistent by
construction), and the tables are VACUUM ANALYZEd as autovacuum would leave them.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

SHOP_SKUS = 500
PACKERS = 30
# History by age: (status, substatus, share). Recent orders are still travelling.
OLD = [("DELIVERED", "", 0.80), ("CANCELLED", "USER_CHANGED_MIND", 0.07), ("CANCELLED", "SHOP_FAILED", 0.02),
       ("CANCELLED", "PROCESSING_EXPIRED", 0.03), ("RETURNED", "", 0.05), ("PARTIALLY_RETURNED", "", 0.03)]
RECENT = [("DELIVERY", "", 0.55), ("PICKUP", "", 0.15), ("DELIVERED", "", 0.20),
          ("CANCELLED", "USER_CHANGED_MIND", 0.10)]
WORK = [("STARTED", 0.70), ("READY_TO_SHIP", 0.20), ("SHIPPED", 0.10)]
PACKED = {"DELIVERED", "RETURNED", "PARTIALLY_RETURNED", "DELIVERY", "PICKUP", "READY_TO_SHIP", "SHIPPED"}


def _escaped(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _json(value: Any) -> str:
    return _escaped(orjson.dumps(value).decode())


# COPY's text format per Python type; the builder's hot loop (millions of values), hence by exact type.
_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _escaped, int: str, float: repr, Decimal: str, uuid.UUID: str, bool: lambda v: "t" if v else "f",
    type(None): lambda v: r"\N", dict: _json, list: _json, dt.datetime: dt.datetime.isoformat,
    dt.date: dt.date.isoformat,
}


def _text(value: Any) -> str:
    """One value in COPY's text format (a subclass, such as a choices enum, as its base type)."""
    fmt = _FORMATS.get(type(value))
    if fmt is not None:
        return fmt(value)
    base = next(t for t in (bool, int, str, Decimal, dt.datetime, dt.date, dict, list) if isinstance(value, t))
    return _FORMATS[base](base(value) if base in (int, str) else value)


class Table:
    """COPY rows into a model's table: the given columns per row, every other column its default."""

    def __init__(self, model: type, columns: list[str]) -> None:
        self.name = model._meta.db_table
        self.columns = columns
        # Columns not given take the model's default; an id not given, the table's identity.
        rest = [f for f in model._meta.concrete_fields if f.column not in columns and not f.primary_key]
        self.all = columns + [f.column for f in rest]
        self.suffix = "".join("\t" + _text(f.get_default()) for f in rest)
        self.rows: list[str] = []
        self.count = 0

    def add(self, *values: Any) -> None:
        self.rows.append("\t".join([_FORMATS[type(v)](v) for v in values]) + self.suffix + "\n")

    def flush(self, cursor: Any, force: bool = False) -> None:
        if self.rows and (force or len(self.rows) >= 20_000):
            with cursor.copy(f"COPY {self.name} ({', '.join(self.all)}) FROM STDIN") as copy:
                copy.write("".join(self.rows))
            self.count += len(self.rows)
            self.rows.clear()


def _pick(rng: random.Random, choices: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    x, acc = rng.random(), 0.0
    for choice in choices:
        acc += choice[-1]
        if x < acc:
            return choice
    return choices[-1]


def _indexes(cursor: Any, tables: list[str]) -> list[tuple[str, str]]:
    """(drop, create) statements for every index but the primary keys of ``tables``."""
    cursor.execute("""
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid), con.conname, pg_get_constraintdef(con.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.oid AND con.contype IN ('u', 'x')
        WHERE c.relname = ANY(%s) AND NOT x.indisprimary ORDER BY c.relname, i.relname""", (tables,))
    out = []
    for table, index, indexdef, constraint, constraintdef in cursor.fetchall():
        if constraint:
            out.append((f"ALTER TABLE {table} DROP CONSTRAINT {constraint}",
                        f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {constraintdef}"))
        else:
            out.append((f"DROP INDEX {index}", indexdef))
    return out


def build(total: int, work: int, shops: int, seed: int = 17, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Empty the tables and write the history; returns the ids the benchmark's pages use."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from fulfilment.orders.models import (
        AuditEvent,
        Box,
        BoxLine,
        Business,
        Campaign,
        Instance,
        Order,
        OrderItem,
        OutboxAction,
        ProductBarcode,
        Shipment,
    )

    rng = random.Random(seed)
    t0 = time.perf_counter()
    models = [Business, Campaign, Order, OrderItem, Box, BoxLine, Instance, AuditEvent, OutboxAction, ProductBarcode,
              Shipment]
    tables = [m._meta.db_table for m in models]
    connection.ensure_connection()
    pg = connection.connection
    with pg.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)}, auth_user, django_session RESTART IDENTITY CASCADE")
    user = User.objects.create_superuser("bench", password=uuid.uuid4().hex)
    user.groups.add(*Group.objects.all())
    packers = [User.objects.create_user(f"packer{n:02d}") for n in range(PACKERS)]
    packer_group = Group.objects.get(name="packer")
    for p in packers:
        p.groups.add(packer_group)
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate()
    for n in range(4):
        Business.objects.create(market_id=7000 + n, name=f"Продавец {n + 1}", api_token=uuid.uuid4().hex)
    business_ids = list(Business.objects.order_by("id").values_list("id", flat=True))
    for n in range(shops):
        Campaign.objects.create(market_id=21_000_000 + n, business_id=business_ids[n % len(business_ids)],
                                name=f"Магазин {n + 1:02d}", placement_model="DBS" if n in (3, 11) else "FBS",
                                last_sync_success_at=now, sync_watermark=now)
    campaign_ids = list(Campaign.objects.order_by("id").values_list("id", flat=True))

    orders = Table(Order, ["id", "campaign_id", "market_id", "status", "substatus", "created_at_market",
                           "updated_at_market", "processing_at", "shipment_date", "shipment_id", "delivery_type",
                           "delivery_service_name", "buyer_type", "payment_type", "payment_method", "items_total",
                           "delivery_total", "cancel_requested", "cancel_requested_at", "flag_reason", "problem",
                           "problem_at", "problem_by_id", "synced_at", "layout_version", "layout_sent_version",
                           "labels_printed_version", "raw"])
    items = Table(OrderItem, ["id", "order_id", "market_item_id", "offer_id", "name", "count", "price", "buyer_price",
                              "payment_total", "vat", "required_instance_types"])
    boxes = Table(Box, ["id", "order_id", "number", "market_box_id", "barcode"])
    lines = Table(BoxLine, ["id", "box_id", "item_id", "full_count"])
    codes = Table(Instance, ["id", "order_id", "item_id", "unit", "kind", "value", "identity", "box_id",
                             "scanned_by_id", "scanned_at", "verification"])
    events = Table(AuditEvent, ["order_id", "user_id", "action", "at", "request_id", "payload"])
    outbox = Table(OutboxAction, ["campaign_id", "order_id", "kind", "payload", "state", "attempts", "created_by_id",
                                  "created_at", "delivered_at"])
    barcodes = Table(ProductBarcode, ["campaign_id", "gtin", "offer_id", "learnt_at", "updated_at"])
    all_tables = [orders, items, boxes, lines, codes, events, outbox, barcodes]
    item_id = box_id = line_id = code_id = 0
    history = total - work
    # The orders still travelling (and the buyers' cancellation requests among them) belong to the
    # day's work: a fixed number, the newest of the history, not a share of it that grows with it.
    recent = min(history, work)
    old = history - recent
    recent_span = dt.timedelta(days=10)
    span = dt.timedelta(days=730)
    picked: dict[str, Any] = {"user": user}
    with pg.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no foreign-key triggers while loading
        cur.execute("SET maintenance_work_mem = '512MB'")
        dropped = _indexes(cur, tables)
        assert len(dropped) > len(tables), "the tables have lost their indexes: run with a fresh database"
        for drop, _create in dropped:
            cur.execute(drop)
        try:
            for s, campaign in enumerate(campaign_ids):
                for k in range(SHOP_SKUS):
                    barcodes.add(campaign, f"04{s:05d}{k:07d}", f"SKU-{s:02d}-{k:04d}", now, now)
            for n in range(1, total + 1):
                if n == old + 1:  # the day's work drawn alike at every size, whatever came before
                    rng = random.Random(seed + 1)
                s = rng.randrange(shops)
                campaign = campaign_ids[s]
                if n <= old:
                    created = now - span + (span - recent_span) * (n / old) - dt.timedelta(days=2)
                    status, substatus, _share = _pick(rng, OLD)
                    shipment = created.date() + dt.timedelta(days=1)
                elif n <= history:  # still travelling: as many at every size (the same day's work)
                    created = now - recent_span + recent_span * ((n - old) / recent) - dt.timedelta(days=2)
                    status, substatus, _share = _pick(rng, RECENT)
                    shipment = created.date() + dt.timedelta(days=1)
                else:
                    created = now - dt.timedelta(hours=rng.uniform(1, 30))
                    status = "PROCESSING"
                    substatus = _pick(rng, WORK)[0]
                    shipment = today + dt.timedelta(days=rng.choice((0, 0, 0, 1, 1, 2)))
                packed = status in PACKED or substatus in PACKED
                market_id = 40_000_000 + n * 3
                lines_n = rng.choices((1, 2, 3, 5), (60, 25, 10, 5))[0]
                order_items = []
                for _ in range(lines_n):
                    item_id += 1
                    k = rng.randrange(SHOP_SKUS)
                    order_items.append((item_id, f"SKU-{s:02d}-{k:04d}", rng.choice((1, 1, 1, 2)), k % 5 == 0,
                                        Decimal(100 + (k * 37) % 4900)))
                total_price = sum(c * p for _i, _o, c, _cis, p in order_items)
                problem = "MISSING" if n > history and rng.random() < 0.01 else ""
                raw = {"id": market_id, "status": status, "substatus": substatus or None, "creationDate": created,
                       "updatedAt": created + dt.timedelta(hours=2), "currency": "RUR",
                       "itemsTotal": float(total_price),
                       "deliveryTotal": 0, "paymentType": "PREPAID", "paymentMethod": "YANDEX", "fake": False,
                       "taxSystem": "OSN", "programType": "FBS",
                       "items": [{"id": i + 100_000_000, "offerId": o, "offerName": f"Товар {o}", "price": float(p),
                                  "buyerPrice": float(p), "count": c, "vat": "VAT_20",
                                  "requiredInstanceTypes": ["CIS"] if cis else []} for i, o, c, cis, p in order_items],
                       "delivery": {"type": "DELIVERY", "serviceName": "Доставка Маркета", "deliveryPartnerType":
                                    "YANDEX_MARKET", "region": {"id": 213, "name": "Москва", "type": "CITY"},
                                    "dates": {"fromDate": shipment + dt.timedelta(days=1),
                                              "toDate": shipment + dt.timedelta(days=3)},
                                    "shipments": [{"id": market_id + 1, "shipmentDate": shipment}]},
                       "buyer": {"type": "PERSON"}}
                orders.add(n, campaign, market_id, status, substatus, created, created + dt.timedelta(hours=2),
                           created + dt.timedelta(minutes=5), shipment, market_id + 1, "DELIVERY", "Доставка Маркета",
                           "BUSINESS" if rng.random() < 0.1 else "PERSON", "PREPAID", "YANDEX", total_price, 0,
                           status == "DELIVERY" and rng.random() < 0.02, created + dt.timedelta(days=1)
                           if status == "DELIVERY" else None,
                           "Покупатель просил позвонить" if n > history and rng.random() < 0.01 else "", problem,
                           created + dt.timedelta(minutes=30) if problem else None,
                           rng.choice(packers).pk if problem else None, now, 2 if packed else 0, 2 if packed else None,
                           2 if packed else None, raw)
                packer = rng.choice(packers).pk
                at = created + dt.timedelta(minutes=10)
                if packed:
                    box_id += 1
                    boxes.add(box_id, n, 1, market_id * 10, f"{market_id}-1")
                for i, offer, count, cis, price in order_items:
                    items.add(i, n, i + 100_000_000, offer, f"Товар {offer}", count, price, price, price * count,
                              "VAT_20", ["CIS"] if cis else [])
                    if not packed:
                        continue
                    line_id += 1
                    lines.add(line_id, box_id, i, count)
                    for unit in range(1, count + 1):
                        at += dt.timedelta(seconds=20)
                        code = f"0104{i:012d}21{unit:06d}"
                        if cis:
                            code_id += 1
                            codes.add(code_id, n, i, unit, "CIS", code + "\x1d91EE07\x1d92abc", code, box_id, packer,
                                      at, "OK")
                        events.add(n, packer, "scan", at, uuid.uuid4(), {"code": code if cis else offer,
                                                                          "result": "Товар в коробке 1"})
                if packed:
                    for action in ("pack.finish", "pack.ready", "labels.printed"):
                        at += dt.timedelta(seconds=30)
                        events.add(n, packer, action, at, None, {})
                    for kind, payload in (("LAYOUT", {"boxes": [{"items": [{"id": i + 100_000_000, "fullCount": c}
                                                                           for i, _o, c, _cis, _p in order_items]}]}),
                                          ("STATUS", {"status": "PROCESSING", "substatus": "READY_TO_SHIP"})):
                        failed = n > history and kind == "STATUS" and rng.random() < 0.005
                        outbox.add(campaign, n, kind, payload, "FAILED" if failed else "DELIVERED", 1, packer, at,
                                   None if failed else at + dt.timedelta(seconds=3))
                        events.add(n, None, "outbox.failed" if failed else "outbox.delivered",
                                   at + dt.timedelta(seconds=3), None, {"kind": kind})
                if n > history and "order" not in picked and substatus == "STARTED" and lines_n >= 3 and not problem:
                    picked.update(order=n, market_id=market_id, sku=order_items[0][1])
                for t in all_tables:
                    t.flush(cur)
            for t in all_tables:
                t.flush(cur, force=True)
            loaded = time.perf_counter()
        finally:  # an interrupted load must not leave the tables without their indexes
            for _drop, create in dropped:
                cur.execute(create)
        indexed = time.perf_counter()
        cur.execute("SET session_replication_role = DEFAULT")
        for table in tables:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - our table names
    with pg.cursor() as cur:  # VACUUM runs outside a transaction; Django's connection is in autocommit
        cur.execute(f"VACUUM ANALYZE {', '.join(tables)}")
    done = time.perf_counter()
    rows = {t.name.removeprefix("orders_"): t.count for t in all_tables}
    say(f"built {total:,} orders in {done - t0:.0f} s (COPY {loaded - t0:.0f} s, indexes {indexed - loaded:.0f} s, "
        f"VACUUM ANALYZE {done - indexed:.0f} s): " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        say(f"database size {cur.fetchone()[0]}")
    picked["shipment"] = shipments(today)
    picked["campaign"] = campaign_ids[0]
    picked["today"] = today
    picked["rows"] = rows
    picked["build_s"] = done - t0
    return picked


def shipments(today: dt.date) -> int:
    """Each shop's shipments of today and the next two days, holding the day's work: the shipments
    page's boards. Returns today's biggest."""
    from django.utils import timezone

    from fulfilment.orders.models import Order, Shipment

    if not Shipment.objects.exists():  # a history built before shipments were
        orders: dict[tuple[int, dt.date], list[int]] = {}
        for campaign, day, market_id in (Order.objects.filter(status="PROCESSING").order_by("market_id")
                                         .values_list("campaign_id", "shipment_date", "market_id")):
            orders.setdefault((campaign, day), []).append(market_id)
        Shipment.objects.bulk_create(
            Shipment(campaign_id=campaign, market_id=90_000_000 + n, shipment_date=day, status="OUTBOUND_CREATED",
                     shipment_type="IMPORT", draft_count=len(ids), planned_count=len(ids), order_ids=ids,
                     available_actions=["DOWNLOAD_ACT"], synced_at=timezone.now())
            for n, ((campaign, day), ids) in enumerate(sorted(orders.items())))
    return max(Shipment.objects.filter(shipment_date=today), key=lambda s: len(s.order_ids)).pk


def built() -> dict[str, Any]:
    """The ids ``build`` returned, read back from the history it left."""
    from django.contrib.auth.models import User
    from django.db.models import Count
    from django.utils import timezone

    from fulfilment.orders.models import Business, Campaign, Order

    # The last run's encryption key went with its temporary folder: the tokens again, with this run's.
    for business in Business.objects.only("pk"):
        Business.objects.filter(pk=business.pk).update(api_token=uuid.uuid4().hex)
    order = (Order.objects.filter(status="PROCESSING", substatus="STARTED", problem="").annotate(n=Count("items"))
             .filter(n__gte=3).order_by("id").first())
    return {"user": User.objects.get(username="bench"), "order": order.pk,
            "shipment": shipments(timezone.localdate()), "market_id": order.market_id,
            "sku": order.items.order_by("id").first().offer_id, "campaign": Campaign.objects.order_by("id")[0].pk,
            "today": timezone.localdate()}
