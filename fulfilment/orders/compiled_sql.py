"""A ``values_list`` queryset's SQL compiled by the ORM once per database, then run with new arguments.

Some reads run on every scan with the same shape (issue 20: compiling the barcode facts' union was
up to a tenth of a scan's CPU). The queryset is built once with stand-in values for its arguments
(``placeholders``, values no row has); each compiled parameter is then either one of them (replaced
by the caller's argument) or a constant of the query, kept as compiled. When the parameters do not
hold each placeholder exactly once, the shape is not one this knows: ``rows`` runs the ORM's query.
The rows are the database driver's: no ORM converters (a JSON column may come as text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


def same(param: Any, value: Any) -> bool:
    """A compiled parameter is this placeholder (a UUID becomes hex text on SQLite)."""
    return param == value or (isinstance(param, str) and hasattr(value, "hex") and param == value.hex)


class CompiledParams:
    def __init__(self, params: Sequence[Any], placeholders: Sequence[Any]) -> None:
        self.params: list[tuple[int | None, bool, Any]] = []
        for p in params:
            i = next((i for i, value in enumerate(placeholders) if same(p, value)), None)
            self.params.append((i, i is not None and isinstance(p, str) and not isinstance(placeholders[i], str), p))
        self.ok = sorted(i for i, _hex, _p in self.params if i is not None) == list(range(len(placeholders)))

    def bind(self, args: Sequence[Any]) -> list[Any]:
        return [p if i is None else args[i].hex if hex_ else args[i] for i, hex_, p in self.params]


_SQL: dict[tuple[str, str], tuple[str, CompiledParams]] = {}


def statement(key: str, build: Callable[..., QuerySet], placeholders: Sequence[Any], args: Sequence[Any],
              alias: str = DEFAULT_DB_ALIAS) -> tuple[str, list[Any]] | None:
    """The SQL and parameters of ``build(*args)``, compiled once per database from ``build(*placeholders)``;
    None when the compiled shape is not one this knows (then only the ORM runs it)."""
    conn = connections[alias]
    cache_key = (alias + conn.vendor, key)
    found = _SQL.get(cache_key)
    if found is None:
        sql, params = build(*placeholders).query.sql_with_params()
        found = _SQL[cache_key] = (sql, CompiledParams(params, placeholders))
    sql, compiled = found
    return (sql, compiled.bind(args)) if compiled.ok else None


def rows(key: str, build: Callable[..., QuerySet], placeholders: Sequence[Any], args: Sequence[Any],
         alias: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
    """The rows of ``build(*args)``, its SQL compiled once per database from ``build(*placeholders)``."""
    found = statement(key, build, placeholders, args, alias)
    if found is None:
        return [tuple(row) for row in build(*args)]
    with connections[alias].cursor() as cursor:
        cursor.execute(*found)
        return cursor.fetchall()
