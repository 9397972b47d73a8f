"""The order screen's and its panel's reads, compiled by the ORM once per database (``compiled.py``).

Each has the same shape on every request, the order's id its only argument. Compiling them through the
ORM cost more than the database's answer: the order with its shop and business (eighty columns) was
2.4 ms of CPU, the database's part 0.4 ms (issue 20). The instances are the ORM's, built from the rows
as Django's ``ModelIterable`` builds them; a shape the compiled read does not know runs the ORM's query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.http import Http404

from fulfilment.orders.compiled import Compiled
from fulfilment.orders.models import AuditEvent, Order, OutboxAction, PackingPhoto

_ORDER_ID = -918_273_650  # the stand-in they are compiled with: no order has it
ACTIONS_SHOWN = 20  # the panel's list of actions for the Market: the newest
EVENTS_SHOWN = 30  # the screen's history: the newest


class CompiledList(Compiled):
    """A compiled read of any number of rows."""

    def all(self, *args: Any) -> list[Model]:
        conn = connections[self.alias]
        with conn.cursor() as cursor:
            cursor.execute(self.sql, self.bound.bind(args))
            rows = cursor.fetchall()
        return [self.instance(found) for found in rows]


_CACHE: dict[tuple[str, str], CompiledList] = {}


def _read(key: str, build: Callable[[int], QuerySet], order_id: int) -> list[Any]:
    conn = connections[DEFAULT_DB_ALIAS]
    cache_key = (conn.alias + conn.vendor, key)
    query = _CACHE.get(cache_key)
    if query is None:
        query = _CACHE[cache_key] = CompiledList(build(_ORDER_ID), (_ORDER_ID,))
    if not query.ok:  # a shape the compiled read does not know: the ORM's
        return list(build(order_id))
    return query.all(order_id)


def _screen_order(order_id: int) -> QuerySet[Order]:
    return Order.objects.select_related("campaign__business").filter(pk=order_id)


def screen_order(order_id: int) -> Order:
    """The order with its shop and the shop's business; 404 when there is none."""
    found = _read("screen-order", _screen_order, order_id)
    if not found:
        raise Http404("No Order matches the given query.")
    return found[0]


def _with_order(objects: list[Any], order: Order) -> list[Any]:
    # As the order's related manager gives them: each knows its order without a query.
    for obj in objects:
        obj.order = order
    return objects


def recent_actions(order: Order) -> list[OutboxAction]:
    """The order's newest actions for the Market, newest first."""
    return _with_order(_read("panel-actions", lambda pk: OutboxAction.objects.filter(order_id=pk)
                             .order_by("-id")[:ACTIONS_SHOWN], order.pk), order)


def history(order: Order) -> list[AuditEvent]:
    """The order's newest events, newest first, with who did them."""
    return _with_order(_read("screen-history", lambda pk: AuditEvent.objects.filter(order_id=pk)
                             .select_related("user")[:EVENTS_SHOWN], order.pk), order)


def photos(order: Order) -> list[PackingPhoto]:
    """The order's packing photos, oldest first, with who took them."""
    return _with_order(_read("screen-photos", lambda pk: PackingPhoto.objects.filter(order_id=pk)
                             .select_related("taken_by"), order.pk), order)


def refused_actions(order: Order) -> list[OutboxAction]:
    """The order's actions the Market refused, oldest first."""
    return _with_order(_read("refused-actions", lambda pk: OutboxAction.objects.filter(
        order_id=pk, state=OutboxAction.State.FAILED).order_by("pk"), order.pk), order)
