"""The queue's page of rows: read as plain values, each row rendered once per everything it shows.

A page of 50 rows through the template cost a packer ~30 ms of CPU (issue 20): 50 model instances
with their shops, and per row a ``{% cache %}`` tag resolving its thirteen key parts in the template
language. Here a row is a small object of the values it shows, kept rendered under those values in
this process's memory; only the rows not kept are rendered (``packing/_queue_row.html``). The key
is all a row shows: nothing to invalidate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from fulfilment.orders import flags

ROW_TEMPLATE = "packing/_queue_row.html"
# The rows kept rendered, in this process's memory by what they show: a page reads 50 of them, which
# through the "fragments" cache (a key hashed and checked, a value unpickled, a lock) cost a millisecond.
MAX_KEPT = 20_000
_KEPT: dict[tuple[Any, ...], SafeString] = {}
# What a row shows besides its counts, read with the page's ids (no payload, no shop instance).
FIELDS = ("pk", "market_id", "campaign__name", "shipment_date", "status", "substatus", "buyer_type",
          "flag_reason")


class QueueRow:
    """One order of the queue's page, as the row shows it."""

    __slots__ = (
        "buyer_type",
        "campaign_name",
        "flag_reason",
        "lines",
        "market_id",
        "needs_codes",
        "pk",
        "shipment_date",
        "status",
        "substatus",
        "units",
    )

    def __init__(self, values: Sequence[Any], lines: int, units: int | None, needs_codes: str) -> None:
        (self.pk, self.market_id, self.campaign_name, self.shipment_date, self.status, self.substatus,
         self.buyer_type, self.flag_reason) = values
        self.lines, self.units, self.needs_codes = lines, units, needs_codes

    @property
    def flag_text(self) -> str:
        return flags.text(self.flag_reason)

    def shown(self, supervisor: bool, language: str) -> tuple[Any, ...]:
        """Everything the row shows: its key among the kept rows."""
        return (self.pk, self.market_id, self.campaign_name, self.shipment_date, self.status, self.substatus,
                self.lines, self.units, self.needs_codes, self.buyer_type, self.flag_reason, supervisor, language)


def rendered(rows: Sequence[QueueRow], supervisor: bool) -> list[SafeString]:
    """Each row's HTML, as kept or rendered now (and kept)."""
    language = get_language()
    html = []
    for row in rows:
        key = row.shown(supervisor, language)
        found = _KEPT.get(key)
        if found is None:
            if len(_KEPT) >= MAX_KEPT:  # a day's queue is a few thousand rows: start again past that
                _KEPT.clear()
            found = _KEPT[key] = get_template(ROW_TEMPLATE).render({"o": row, "is_supervisor": supervisor})
        html.append(found)
    return html


def by_date(rows: Iterable[QueueRow], html: Iterable[SafeString]) -> list[tuple[str, SafeString]]:
    """The page's rows in groups of one shipment date (the rows come sorted by it): (the date as the
    group's heading says it, "" for none; the rows' HTML)."""
    groups = groupby(zip(rows, html, strict=True), key=lambda pair: pair[0].shipment_date)
    return [(day_text(day), mark_safe("".join(h for _row, h in pairs)))  # noqa: S308 (rendered rows)
            for day, pairs in groups]


def day_text(day: dt.date | None) -> str:
    """A shipment date as the queue writes it (the template's ``|date:"d.m.Y"``), "" for none."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}" if day else ""
