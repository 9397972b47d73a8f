"""The queue's reads, their SQL compiled once per shape of filters (issue 20).

The queue asks the same four things at every request: the counts by shipment date, the page's ids,
the page's orders and their items. Building and compiling those querysets was more CPU than running
them. ``Selection`` is the filters a request chose (a search as the ids it matched); for every filter
but a date (its value is not a parameter the compiled SQL can take in turn) each read is compiled
once by ``compiled_sql.rows`` with stand-in values, then run with the request's. Rows come as the database
driver gives them: a date may be ISO text (SQLite) and a JSON column is text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from fulfilment.orders import compiled_sql
from fulfilment.orders.models import Order, OrderItem

from . import queue_rows

# Values no row has, standing for the request's arguments while a read is compiled.
_STANDINS = {"status": "\x00queue-status", "substatus": "\x00queue-substatus", "campaign": -918_273_101}
_ID_STANDINS = tuple(-918_274_000 - i for i in range(1000))
# A search's reads are compiled per number of ids it matched: up to this many (a read per shape of
# filters and count is kept), more go through the ORM.
SEARCH_COMPILED = 100


@dataclass
class Selection:
    """The queue's filters as a request chose them (``queue.queue_orders`` reads them)."""

    status: str | None = None  # as chosen, "" too ("/X" asks for orders without a status)
    substatus: str = ""
    campaign: int | None = None
    date: dt.date | None = None
    buyer: str = ""
    codes: bool = False
    flagged: bool = False
    ids: list[int] | None = field(default=None)  # the orders a search matched

    def _args(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.status is not None:
            args["status"] = self.status
            if self.substatus:
                args["substatus"] = self.substatus
        if self.campaign is not None:
            args["campaign"] = self.campaign
        return args

    def orders(self, **args: Any) -> QuerySet[Order]:
        """The orders chosen, with ``args`` (status, substatus, campaign) in place of this selection's."""
        args = {**self._args(), **args}
        if "status" in args:  # any status the packer picks, problems included
            qs = Order.objects.filter(campaign__is_active=True, status=args["status"])
            if "substatus" in args:
                qs = qs.filter(substatus=args["substatus"])
        else:
            qs = Order.objects.to_pack()
        if "campaign" in args:
            qs = qs.filter(campaign_id=args["campaign"])
        if self.date is not None:
            qs = qs.filter(shipment_date=self.date)
        if self.buyer:
            qs = qs.filter(buyer_type=self.buyer)
        if self.codes:
            needs_codes = OrderItem.objects.filter(order=OuterRef("pk")).exclude(required_instance_types=[])
            qs = qs.filter(Exists(needs_codes))
        if self.flagged:
            qs = qs.exclude(flag_reason="")
        if self.ids is not None:
            qs = qs.filter(pk__in=self.ids)
        return qs

    def rows(self, read: str, shape: Callable[[QuerySet[Order]], QuerySet]) -> list[tuple[Any, ...]]:
        """The rows of ``shape(self.orders())``, by SQL compiled once for this shape of filters."""
        if self.ids is not None and not self.ids:
            return []  # a search that matched nothing: no read (the ORM's empty IN is none either)
        if self.date is not None or (self.ids is not None and len(self.ids) > SEARCH_COMPILED):
            return [tuple(row) for row in shape(self.orders())]
        args = self._args()
        names = sorted(args)
        found = len(self.ids) if self.ids is not None else None
        key = f"queue-{read}:{','.join(names)}:{self.buyer}:{self.codes}:{self.flagged}:{found}"
        standins = [_STANDINS[n] for n in names] + list(_ID_STANDINS[:found or 0])

        def build(*values: Any) -> QuerySet:
            chosen = Selection(**{**self.__dict__, "ids": list(values[len(names):]) if found is not None else None})
            return shape(chosen.orders(**dict(zip(names, values[:len(names)], strict=True))))

        return compiled_sql.rows(key, build, standins, [args[n] for n in names] + (self.ids or []))


def day(value: dt.date | str | None) -> dt.date | None:
    """A date column as the driver gave it: SQLite's is ISO text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def groups(selection: Selection) -> list[dict[str, Any]]:
    """The chosen orders counted by shipment date, earliest first, with the date as ISO text and as said."""
    rows = selection.rows("groups", lambda qs: qs.order_by().values_list("shipment_date")
                          .annotate(n=Count("id")).order_by("shipment_date"))
    groups = [{"shipment_date": day(d), "n": n} for d, n in rows]
    for g in groups:  # as the links write them (the template's date filters were a tenth of the page)
        g["iso"] = g["shipment_date"].isoformat() if g["shipment_date"] else ""
        g["text"] = queue_rows.day_text(g["shipment_date"])
    return groups


def page_ids(selection: Selection, start: int, size: int) -> list[int]:
    """The ids of one page of the chosen orders, by shipment date and number (order_queue_idx, no join)."""
    return [pk for pk, in selection.rows(f"ids:{start}:{size}", lambda qs: qs.order_by("shipment_date", "market_id")
                                         .values_list("pk")[start:start + size])]


def _by_ids(key: str, build: Callable[[Sequence[int]], QuerySet], ids: list[int]) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    if len(ids) > len(_ID_STANDINS):
        return [tuple(row) for row in build(ids)]
    return compiled_sql.rows(f"{key}:{len(ids)}", lambda *values: build(values), _ID_STANDINS[:len(ids)], ids)


def page_orders(ids: list[int], fields: Sequence[str]) -> list[tuple[tuple[Any, ...], list[tuple[int, list[str]]]]]:
    """The page's orders as the values of ``fields`` (``pk`` first), each with its items' (units, required
    code kinds): one read by primary key, the items joined by item_unique_per_order."""
    rows = _by_ids(f"queue-orders:{','.join(fields)}", lambda pks: Order.objects.filter(pk__in=pks)
                   .order_by("shipment_date", "market_id")
                   .values_list(*fields, "items__count", "items__required_instance_types"), ids)
    at = fields.index("shipment_date")
    orders: dict[int, tuple[tuple[Any, ...], list[tuple[int, list[str]]]]] = {}
    for row in rows:
        *values, count, kinds = row
        shown = orders.get(values[0])
        if shown is None:
            values[at] = day(values[at])
            shown = orders[values[0]] = (tuple(values), [])
        if count is not None:  # an order without items has one row of NULLs for them
            shown[1].append((count, json.loads(kinds) if isinstance(kinds, str) else kinds))
    return list(orders.values())
