"""The queue's page of rows: read as plain values, each row rendered once per everything it shows.

A page of 50 rows through the template cost a packer ~30 ms of CPU (issue 20): 50 model instances
with their shops, and per row a ``{% cache %}`` tag resolving its thirteen key parts in the template
language. Here a row is a small object of the values it shows, its key is made in Python, the page's
kept rows are read from the "fragments" cache at once, and only the rows not kept are rendered
(``packing/_queue_row.html``). The key is all a row shows: nothing to invalidate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from django.core.cache import caches
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from fulfilment.orders import flags

ROW_TEMPLATE = "packing/_queue_row.html"
KEPT_SECONDS = 300
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

    def key(self, supervisor: bool, language: str) -> str:
        shown = (self.pk, self.market_id, self.campaign_name, self.shipment_date, self.status, self.substatus,
                 self.lines, self.units, self.needs_codes, self.buyer_type, self.flag_reason, supervisor, language)
        return "queue-row:" + hashlib.md5(repr(shown).encode(), usedforsecurity=False).hexdigest()


def rendered(rows: Sequence[QueueRow], supervisor: bool) -> list[SafeString]:
    """Each row's HTML, from the "fragments" cache or rendered now (and kept)."""
    language = get_language()
    keys = [row.key(supervisor, language) for row in rows]
    cache = caches["fragments"]
    kept = cache.get_many(keys)
    new: dict[str, SafeString] = {}
    html = []
    for row, key in zip(rows, keys, strict=True):
        found = kept.get(key)
        if found is None:
            found = new[key] = get_template(ROW_TEMPLATE).render({"o": row, "is_supervisor": supervisor})
        html.append(found)
    if new:
        cache.set_many(new, KEPT_SECONDS)
    return html


def by_date(rows: Iterable[QueueRow], html: Iterable[SafeString]) -> list[tuple[dt.date | None, SafeString]]:
    """The page's rows in groups of one shipment date (the rows come sorted by it): (date, the rows' HTML)."""
    groups = groupby(zip(rows, html, strict=True), key=lambda pair: pair[0].shipment_date)
    return [(day, mark_safe("".join(h for _row, h in pairs))) for day, pairs in groups]  # noqa: S308 (rendered)
