"""The sync's raw bulk writer: many rows in one statement, below the ORM, for SQLite and PostgreSQL.

A first sync writes thousands of orders; ``bulk_create``'s per-value field machinery costs more
than the database itself, so rows go in by the driver's own bulk paths with only the values that
need it converted as Django's backend would. On PostgreSQL a page's rows are one JSON document
(encoded by orjson) that one ``INSERT … SELECT … FROM jsonb_populate_recordset`` writes, returning
the new ids: each round trip to the server costs more than the rows (on a busy machine a wait for
the scheduler each time), and COPY takes two, plus one more to read the ids back. On SQLite,
``executemany``. What it writes is checked column by column against what the ORM writes
(tests/test_bulk.py): change this module only with that test.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal

import orjson
import psycopg
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from .models import Order


def begin_page(campaign_pks: Sequence[int], market_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """``order_pks`` as the first statement of a sync page's transaction. On PostgreSQL the
    transaction also stops waiting for the disk at its commit (the page can be fetched again from
    the Market; the next normal commit, the watermark's, is ordered after it in the WAL, so every
    earlier page is durable by then), and BEGIN, that setting and the lookup go in one round trip."""
    if connection.vendor != "postgresql":
        return order_pks(campaign_pks, market_ids)
    if not connection.in_atomic_block:
        raise RuntimeError("begin_page() starts a page's transaction: call it inside transaction.atomic()")
    connection.ensure_connection()
    pg = connection.connection
    with pg.pipeline():  # sent together, read together at the end of the block
        pg.execute("SET LOCAL synchronous_commit = off")
        cur = pg.execute(_lookup_sql(), [list(campaign_pks), list(market_ids)])
    return {(c, m): pk for pk, c, m in cur.fetchall()}


def _adapter(field: models.Field) -> Callable[[object], object] | None:
    """How SQLite's ``executemany`` is given a value of ``field``, or None when the driver takes it
    as it is (str, int, bool, Decimal)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        # JSON text, as SQLite stores it; most item lists are empty.
        def dump(v: object) -> str:
            if v == []:
                return "[]"
            try:
                return orjson.dumps(v).decode()  # the raw order is most of a row: six times json's speed
            except TypeError:  # a type orjson does not know: the field's own encoder
                return json.dumps(v, cls=field.encoder)

        return dump
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


def insert(model: type[models.Model], names: Sequence[str], rows: list[list[object]],
           key: Sequence[str] = ()) -> dict[tuple[object, ...], int]:
    """Insert ``rows`` (values in the order of the field ``names``) into ``model``'s table. Columns
    not named start at their model defaults, as the ORM would write them. With ``key`` (fields among
    ``names`` that are unique together), returns the new rows' pks by their key values. The lists
    in ``rows`` may be converted in place: build them for this call alone."""
    if not rows:
        return {}
    names = list(names)
    # Local columns the Market knows nothing of (packing state) start at their model defaults.
    extra = [f for f in model._meta.concrete_fields
             if not f.primary_key and (f.has_default() or not f.null) and f.name not in names
             and f.attname not in names]
    if extra:
        defaults = [f.get_default() for f in extra]
        names = [*names, *(f.name for f in extra)]
        rows = [[*row, *defaults] for row in rows]
    fields = [model._meta.get_field(n) for n in names]
    key_fields = [model._meta.get_field(n) for n in key]
    qn = connection.ops.quote_name
    # Table and column names come from the model and are quoted; values are parameters.
    table, columns = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
    returning = ", ".join(qn(f.column) for f in [model._meta.pk, *key_fields])
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        # A server-binding cursor: Django's client-side binding would quote the whole document again.
        with psycopg.Cursor(connection.connection) as cur:
            cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 - the model's names
                        f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
                        + (f" RETURNING {returning}" if key else ""),
                        [_document([f.column for f in fields], rows)])
            return {tuple(r[1:]): r[0] for r in cur.fetchall()} if key else {}
    # Only the few columns that need it are converted (a call per value is most of the cost).
    convert = [(n, a) for n, a in enumerate(_adapter(f) for f in fields) if a is not None]

    def adapt(row: list[object]) -> list[object]:
        for n, a in convert:
            row[n] = a(row[n])
        return row

    # SQLite: executemany on the driver's cursor, a C loop over one prepared statement (Django's
    # wrapper would rewrite every placeholder of a big statement with a regular expression).
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['?'] * len(fields))})",  # noqa: S608
                           (adapt(row) for row in rows))
        if not key:
            return {}
        # The new rows' pks by their key: one IN per key column, the pairs matched here.
        at = [names.index(f.name) for f in key_fields]
        wanted = {tuple(row[n] for n in at) for row in rows}
        where = " AND ".join(f"{qn(f.column)} IN ({', '.join(['?'] * len(wanted))})" for f in key_fields)
        cursor.execute(f"SELECT {returning} FROM {table} WHERE {where}",  # noqa: S608 - the model's names
                       [v[n] for n in range(len(key_fields)) for v in wanted])
        return {k: r[0] for r in cursor.fetchall() if (k := tuple(r[1:])) in wanted}
    finally:
        cursor.close()


def update(model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """Write the fields ``names`` of ``objs`` (rows already there, by pk) as ``bulk_update`` would, in one
    statement: ``bulk_update`` builds a CASE of one WHEN per row for every field, most of a changed
    page's CPU (bench/worker_bench.py). On PostgreSQL the rows are one JSON document, as ``insert``'s;
    on SQLite, ``executemany`` of one prepared statement. Values are taken as they are (no ``pre_save``,
    as ``bulk_update``)."""
    if not objs:
        return
    pk = model._meta.pk
    fields = [model._meta.get_field(n) for n in names]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    rows = [[getattr(o, f.attname) for f in (pk, *fields)] for o in objs]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        sets = ", ".join(f"{qn(f.column)} = d.{qn(f.column)}" for f in fields)
        with psycopg.Cursor(connection.connection) as cur:
            cur.execute(f"UPDATE {table} AS t SET {sets} "  # noqa: S608 - the model's names
                        f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) AS d "
                        f"WHERE t.{qn(pk.column)} = d.{qn(pk.column)}",
                        [_document([f.column for f in (pk, *fields)], rows)])
        return
    convert = [(n, a) for n, a in enumerate((_adapter(f) for f in fields), start=1) if a is not None]

    def adapt(row: list[object]) -> list[object]:
        for n, a in convert:
            row[n] = a(row[n])
        return [*row[1:], row[0]]

    cursor = connection.connection.cursor()
    try:
        cursor.executemany(f"UPDATE {table} SET {', '.join(f'{qn(f.column)} = ?' for f in fields)} "  # noqa: S608
                           f"WHERE {qn(pk.column)} = ?", (adapt(row) for row in rows))
    finally:
        cursor.close()


def _plain(value: object) -> object:
    """What orjson cannot encode by itself, as PostgreSQL reads it back from JSON text."""
    if isinstance(value, Decimal):
        return str(value)  # exact: a JSON number could pass through a float
    raise TypeError(type(value).__name__)


def _document(columns: list[str], rows: list[list[object]]) -> str:
    """The rows as one JSON array of objects keyed by column (JSON columns nested as they are)."""
    docs = [dict(zip(columns, row, strict=True)) for row in rows]
    try:
        return orjson.dumps(docs, default=_plain).decode()
    except TypeError:  # a value orjson refuses (an integer past 64 bits): Django's own encoder
        return json.dumps(docs, cls=DjangoJSONEncoder)


def _lookup_sql() -> str:
    table = connection.ops.quote_name(Order._meta.db_table)
    return (f"SELECT id, campaign_id, market_id FROM {table} "  # noqa: S608 - the model's table
            "WHERE campaign_id = ANY(%s) AND market_id = ANY(%s)")


def order_pks(campaign_pks: Sequence[int], market_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """(campaign pk, order number) → pk of the orders here; plain SQL, as the ORM's compilation of a
    long IN list costs more than the query (most pages of a first sync find nothing). One IN per
    column (a long OR of pairs costs more to build than to run): the caller matches the pairs."""
    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_lookup_sql(), [list(campaign_pks), list(market_ids)])
        else:
            campaigns, orders = ", ".join(["%s"] * len(campaign_pks)), ", ".join(["%s"] * len(market_ids))
            cursor.execute(f"SELECT id, campaign_id, market_id FROM {table} "  # noqa: S608 - model's table
                           f"WHERE campaign_id IN ({campaigns}) AND market_id IN ({orders})",
                           [*campaign_pks, *market_ids])
        return {(c, m): pk for pk, c, m in cursor.fetchall()}
