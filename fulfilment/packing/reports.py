"""The order report: the Market's order statistics (seed 002, getOrdersStats) for a period, summed
by status and by SKU on the page, and every order line in a CSV file.

Read from the Market on request and streamed page by page (200 orders each), so a long period
never sits in memory; the Market's statistics lag behind by up to 40 minutes, as the page says.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language, gettext as _, gettext_lazy

from fulfilment.market.stats import StatsOrder
from fulfilment.orders.clients import client_for
from fulfilment.orders.models import Campaign

from .widgets import DateInput

MAX_DAYS = 92


class ReportForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Shop"), required=False, empty_label=gettext_lazy("All shops"),
        queryset=Campaign.objects.filter(is_active=True, business__is_active=True).select_related("business")
        .order_by("name"))
    date_from = forms.DateField(label=gettext_lazy("Orders created from"),
                                widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("to"), widget=DateInput())

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        a, b = d.get("date_from"), d.get("date_to")
        if a and b:
            if b < a:
                self.add_error("date_to", _("The period ends before it starts."))
            elif (b - a).days >= MAX_DAYS:
                self.add_error("date_to", _("Choose at most %(n)s days at a time.") % {"n": MAX_DAYS})
            if b > timezone.localdate():
                self.add_error("date_to", _("The period cannot end in the future."))
        return d

    def campaigns(self) -> list[Campaign]:
        chosen = self.cleaned_data.get("campaign")
        return [chosen] if chosen else list(self.fields["campaign"].queryset)  # type: ignore[attr-defined]


def initial_period() -> dict[str, dt.date]:
    today = timezone.localdate()
    return {"date_from": today - dt.timedelta(days=6), "date_to": today}


def orders(campaigns: Iterable[Campaign], date_from: dt.date, date_to: dt.date
           ) -> Iterator[tuple[Campaign, StatsOrder]]:
    for campaign in campaigns:
        client = client_for(campaign.business)
        for order in client.iter_orders_stats(campaign.market_id, date_from, date_to):
            yield campaign, order


def _commission(order: StatsOrder) -> Decimal:
    return sum((Decimal(str(c.get("actual") or 0)) for c in order.raw.get("commissions") or ()), Decimal(0))


@dataclass
class Line:
    count: int = 0
    units: int = 0
    total: Decimal = Decimal(0)


@dataclass
class Summary:
    orders: int = 0
    units: int = 0
    total: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    by_status: dict[str, Line] = field(default_factory=dict)
    by_sku: dict[str, Line] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, order: StatsOrder) -> None:
        units = sum(i.count for i in order.items)
        total = sum((i.total for i in order.items), Decimal(0))
        self.orders += 1
        self.units += units
        self.total += total
        self.commission += _commission(order)
        s = self.by_status.setdefault(order.status, Line())
        s.count, s.units, s.total = s.count + 1, s.units + units, s.total + total
        for i in order.items:
            k = self.by_sku.setdefault(i.shop_sku, Line())
            k.count, k.units, k.total = k.count + 1, k.units + i.count, k.total + i.total
            self.names.setdefault(i.shop_sku, i.offer_name)

    def statuses(self) -> list[tuple[str, Line]]:
        return sorted(self.by_status.items(), key=lambda kv: -kv[1].count)

    def top_skus(self, n: int = 20) -> list[tuple[str, str, Line]]:
        top = sorted(self.by_sku.items(), key=lambda kv: (-kv[1].units, kv[0]))[:n]
        return [(sku, self.names.get(sku, ""), line) for sku, line in top]


def summarise(rows: Iterable[tuple[Campaign, StatsOrder]]) -> Summary:
    summary = Summary()
    for _campaign, order in rows:
        summary.add(order)
    return summary


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_dialect() -> tuple[str, str]:
    """(delimiter, decimal mark): a Russian spreadsheet expects ';' and ',', an English one ',' and '.'."""
    return (";", ",") if (get_language() or "ru").startswith("ru") else (",", ".")


def csv_rows(rows: Iterable[tuple[Campaign, StatsOrder]]) -> Iterator[str]:
    """The CSV, line by line: one row per order line (an order without lines gets one row), with a
    byte-order mark first so spreadsheets read the Cyrillic. The header and the number format are
    fixed here, in the request's language, before the response streams."""
    delimiter, mark = csv_dialect()
    writer = csv.writer(_Echo(), delimiter=delimiter)
    header = "\ufeff" + writer.writerow([
        _("Shop"), _("Order"), _("Created"), _("Status"), _("Status changed"), _("Payment"), _("SKU"), _("Name"),
        _("Units"), _("Buyer paid"), _("Commission"), _("Currency")])

    def num(value: Decimal) -> str:
        return format(value, "f").replace(".", mark)

    def lines() -> Iterator[str]:
        yield header
        for campaign, order in rows:
            common = [campaign.name, order.id, order.created.isoformat() if order.created else "", order.status,
                      order.raw.get("statusUpdateDate", ""), order.raw.get("paymentType", "")]
            commission = num(_commission(order))
            currency = order.raw.get("currency", "")
            if not order.items:
                yield writer.writerow([*common, "", "", 0, num(Decimal(0)), commission, currency])
            for n, item in enumerate(order.items):
                # The order's commission on its first line only, so a column sum is the true total.
                yield writer.writerow([*common, item.shop_sku, item.offer_name, item.count, num(item.total),
                                       commission if n == 0 else num(Decimal(0)), currency])

    return lines()
