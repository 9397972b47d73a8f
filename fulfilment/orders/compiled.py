"""A queryset's SQL compiled by the ORM once per database, then run with new parameters.

The scan's locked read of its order (``kernel.locked``) has the same shape every time: only the
order's id and the request id change. Compiling it (its ``select_related``, ``FOR UPDATE OF`` and the
``Exists`` of the request id) was a fifth of a scan's CPU (issue 20). ``Compiled`` keeps what
Django's ``ModelIterable`` computes before its first row (the SQL, the columns, the converters, the
related objects' populators) and builds the same model instances from each row. When the compiled
parameters do not hold each placeholder's value exactly once (a shape this does not know), it says so and the
caller uses the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from .compiled_sql import CompiledParams


class Compiled:
    """What one queryset compiles to, for one database connection's vendor."""

    def __init__(self, queryset: QuerySet, placeholders: Sequence[Any], alias: str = DEFAULT_DB_ALIAS) -> None:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        self.bound = CompiledParams(params, placeholders)
        self.ok = self.bound.ok
        self.sql, self.alias = sql, alias
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.model = klass_info["model"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, alias)
        self.annotations = dict(compiler.annotation_col_map)
        self.converters = list(compiler.get_converters([s[0] for s in select]).items())

    def get(self, *args: Any) -> Model | None:
        """The one instance the query finds with these arguments (in the placeholders' order), or None."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self.bound.bind(args))
            row = cursor.fetchone()
        return None if row is None else self.instance(row)

    def instance(self, row: Sequence[Any]) -> Model:
        """The model instance (with its related objects and annotations) one row of ``sql`` makes."""
        conn = connections[self.alias]
        row = list(row)
        for pos, (convs, expression) in self.converters:
            for converter in convs:
                row[pos] = converter(row[pos], expression, conn)
        obj = self.model.from_db(self.alias, self.init_list, row[self.start:self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        for name, pos in self.annotations.items():
            setattr(obj, name, row[pos])
        return obj


_CACHE: dict[tuple[str, str], Compiled] = {}


def compiled(key: str, build: Callable[[], QuerySet], placeholders: Sequence[Any],
             alias: str = DEFAULT_DB_ALIAS) -> Compiled:
    """The queryset ``build()`` makes, compiled once per database for ``key``."""
    conn = connections[alias]
    cache_key = (alias + conn.vendor, key)
    found = _CACHE.get(cache_key)
    if found is None:
        found = _CACHE[cache_key] = Compiled(build(), placeholders, alias)
    return found
