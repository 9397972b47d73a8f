"""An operation's writes that need no answer, sent together with the order's version bump.

Under the order's lock every round trip costs CPU in the driver and the ORM, and time the other
packers of the order wait (issue 20). A scan's audit event, the unit added to its box line and the
version bump need nothing back, so they wait (``Writes.later``) and go in one round trip when the
operation ends. Nothing reads past them: before any other statement of the connection runs, what
waits is sent first (``Writes`` is the connection's execute wrapper while the operation runs), so
every read and write sees the database as if each had been sent at once. Statements are sent
together on PostgreSQL (psycopg's client-side binding); elsewhere one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import Model, QuerySet
from django.db.models.sql import InsertQuery, UpdateQuery

from fulfilment.orders.compiled_sql import CompiledParams

Statement = tuple[str, Sequence[Any]]


def together(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether statements can be sent in one round trip (PostgreSQL with psycopg's client-side binding)."""
    conn = connections[alias]
    return conn.vendor == "postgresql" and is_psycopg3 and conn.settings_dict.get(
        "OPTIONS", {}).get("server_side_binding") is not True


class Writes:
    """Statements waiting to be sent; the connection's execute wrapper (sends them before anything else)."""

    def __init__(self, alias: str = DEFAULT_DB_ALIAS) -> None:
        self.alias = alias
        self.pending: list[Statement] = []

    def later(self, statement: Statement) -> None:
        self.pending.append(statement)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if self.pending:
            self.send()
        return execute(sql, params, many, context)

    def send(self, *last: Statement) -> None:
        """What waits, then ``last``, in one round trip where the database allows it."""
        statements, self.pending = [*self.pending, *last], []
        if not statements:
            return
        with connections[self.alias].cursor() as cursor:
            if together(self.alias):
                cursor.execute(";\n".join(sql for sql, _params in statements),
                               [p for _sql, params in statements for p in params])
            else:
                for sql, params in statements:
                    cursor.execute(sql, params)


_INSERTS: dict[tuple[str, type[Model], bool], tuple[str, list[Any]] | None] = {}


def insert(obj: Model, alias: str = DEFAULT_DB_ALIAS, returning: bool = False) -> Statement:
    """The INSERT of a new instance, its SQL compiled once per database and model; ``returning``:
    with the primary key back (``RETURNING``, where ``can_return_columns_from_insert``)."""
    meta = obj._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    conn = connections[alias]
    key = (alias + conn.vendor, type(obj), returning)
    if key not in _INSERTS:
        [(sql, _params)] = _insert_sql(obj, fields, alias, returning)
        plain = all(getattr(f, "get_placeholder", None) is None for f in fields)
        _INSERTS[key] = (sql, fields) if plain else None
    found = _INSERTS[key]
    if found is None:  # a field that builds its own placeholder: compiled each time
        [statement] = _insert_sql(obj, fields, alias, returning)
        return statement
    sql, fields = found
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection=conn) for f in fields]


def _insert_sql(obj: Model, fields: list[Any], alias: str, returning: bool) -> list[Statement]:
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=alias)
    if returning:
        compiler.returning_fields = [obj._meta.pk]
    return compiler.as_sql()


_UPDATES: dict[tuple[str, str], tuple[str, CompiledParams]] = {}


def update(key: str, build: Callable[..., tuple[QuerySet, dict[str, Any]]], placeholders: Sequence[Any],
           args: Sequence[Any], alias: str = DEFAULT_DB_ALIAS) -> Statement:
    """The UPDATE ``build(*args)`` describes (a queryset and its ``update()`` values), its SQL compiled
    once per database from ``build(*placeholders)`` (as ``compiled_sql.rows`` does for reads)."""
    conn = connections[alias]
    cache_key = (alias + conn.vendor, key)
    found = _UPDATES.get(cache_key)
    if found is None:
        sql, params = _update_sql(*build(*placeholders), alias)
        found = _UPDATES[cache_key] = (sql, CompiledParams(params, placeholders))
    sql, bound = found
    if not bound.ok:  # a shape the stand-ins do not mark: compiled each time
        return _update_sql(*build(*args), alias)
    return sql, bound.bind(args)


def _update_sql(queryset: QuerySet, values: dict[str, Any], alias: str) -> Statement:
    """What ``queryset.update(**values)`` would send."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(using=alias).as_sql()
