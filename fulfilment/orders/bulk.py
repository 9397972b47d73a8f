"""The sync's raw bulk writer: many rows in one statement, below the ORM, for SQLite and PostgreSQL.

A first sync writes thousands of orders; ``bulk_create``'s per-value field machinery costs more
than the database itself, so rows go in by the driver's own bulk paths (PostgreSQL's COPY, SQLite's
``executemany``) with only the values that need it converted as Django's backend would. What it
writes is checked column by column against what the ORM writes (tests/test_bulk.py): change this
module only with that test.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence

import orjson
import psycopg
from django.conf import settings
from django.db import connection, models

from .models import Order


def relax_durability() -> None:
    """Inside a transaction whose writes can be made again (a sync page, re-fetchable from the
    Market): PostgreSQL need not wait for the disk at its commit. The next normal commit (the
    watermark) is ordered after it in the WAL, so every earlier page is durable by then."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


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


def insert(model: type[models.Model], names: Sequence[str], rows: list[list[object]]) -> None:
    """Insert ``rows`` (values in the order of the field ``names``) into ``model``'s table. Columns
    not named start at their model defaults, as the ORM would write them. The lists in ``rows``
    are converted in place: build them for this call alone."""
    if not rows:
        return
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
    # Only the few columns that need it are converted (a call per value is most of the cost).
    convert = [(n, a) for n, a in enumerate(_adapter(f) for f in fields) if a is not None]

    def adapt(row: list[object]) -> list[object]:
        for n, a in convert:
            row[n] = a(row[n])
        return row

    qn = connection.ops.quote_name
    # Table and column names come from the model and are quoted; values are parameters.
    table, columns = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        # COPY on a server-binding cursor: Django's client-side binding re-parses big statements.
        with psycopg.Cursor(connection.connection) as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(adapt(row))
        return
    # SQLite: executemany on the driver's cursor, a C loop over one prepared statement (Django's
    # wrapper would rewrite every placeholder of a big statement with a regular expression).
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['?'] * len(fields))})",  # noqa: S608
                           (adapt(row) for row in rows))
    finally:
        cursor.close()


def order_pks(campaign_pks: Sequence[int], market_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """(campaign pk, order number) → pk of the orders here; plain SQL, as the ORM's compilation of a
    long IN list costs more than the query (most pages of a first sync find nothing). One IN per
    column (a long OR of pairs costs more to build than to run): the caller matches the pairs."""
    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT id, campaign_id, market_id FROM {table} "  # noqa: S608 - model's table
                           "WHERE campaign_id = ANY(%s) AND market_id = ANY(%s)",
                           [list(campaign_pks), list(market_ids)])
        else:
            campaigns, orders = ", ".join(["%s"] * len(campaign_pks)), ", ".join(["%s"] * len(market_ids))
            cursor.execute(f"SELECT id, campaign_id, market_id FROM {table} "  # noqa: S608 - model's table
                           f"WHERE campaign_id IN ({campaigns}) AND market_id IN ({orders})",
                           [*campaign_pks, *market_ids])
        return {(c, m): pk for pk, c, m in cursor.fetchall()}
