"""The supervisor's shift view: orders packed per hour per packer against the day's shipment
cutoffs, scans refused by reason, orders still waiting; as numbers (for the CSV) and as bar charts
drawn here as plain SVG geometry (the page's policy allows no scripts or styles from elsewhere).

Everything comes from the audit trail, read only within the shift's bounds through the
``(action, at)`` index, so a seller with years of history reads one day's rows; the waiting orders
come from the queue's own index.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Min
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fulfilment.orders.models import AuditEvent, Order

from .reports import csv_dialect

# An order counts as packed by whoever first sent its boxes (FBS/Express) or its codes or cargo
# places (DBS) to the Market in the shift: the outbox records each with the sender.
PACKED_ACTIONS = ("outbox.layout", "outbox.identifiers", "outbox.cargo_places")
REFUSED_ACTION = "scan.refused"
FIRST_HOUR, LAST_HOUR = 8, 20  # the hours always shown (8:00 to 20:00), so a quiet morning still reads as a day
COLOURS = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#db2777")
TOP_REASONS = 8
_VARIABLE = re.compile(r"[^\s:;,]*\d[^\s:;,]*?(?=[.)]*(?:[\s:;,]|$))")  # codes, numbers inside a refusal
_HHMM = re.compile(r"^(\d{1,2}):(\d\d)")


def bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The shift: the local day, midnight to midnight."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def reason_of(message: str) -> str:
    """A refusal's reason without its values (the code, the box number), so equal reasons add up."""
    return _VARIABLE.sub("…", message).strip()


def _top(reasons: Counter[str]) -> list[tuple[str, int]]:
    top = reasons.most_common(TOP_REASONS)
    rest = sum(reasons.values()) - sum(n for _r, n in top)
    return top + ([(_("other reasons"), rest)] if rest else [])


def _waiting_group(date: dt.date | None, time: str, day: dt.date) -> tuple[int, str, str]:
    """(order, sort key, words) of the shift view's group for a waiting order's shipment."""
    if date is None:
        return 4, "", _("no shipment date")
    if date < day:
        return 0, "", _("overdue (earlier days)")
    if date == day:
        return 1, time, (_("today at %(time)s") % {"time": time}) if time else _("today, no time given")
    if date == day + dt.timedelta(days=1):
        return 2, "", _("tomorrow")
    return 3, date.isoformat(), _("later: %(date)s") % {"date": date_format(date, "j E")}


def _cutoff_hour(value: str) -> float | None:
    m = _HHMM.match(value or "")
    return int(m.group(1)) + int(m.group(2)) / 60 if m and int(m.group(1)) < 24 else None


@dataclass
class Shift:
    day: dt.date
    hours: list[int] = field(default_factory=list)
    packed: dict[str, Counter[int]] = field(default_factory=dict)  # packer -> hour -> orders
    refused: list[tuple[str, int]] = field(default_factory=list)  # reason, scans; the most first
    not_mistakes: list[tuple[str, int]] = field(default_factory=list)  # refused for the order's state
    waiting: list[tuple[str, int]] = field(default_factory=list)  # shipment, orders waiting
    cutoffs: dict[str, int] = field(default_factory=dict)  # "HH:MM" -> the day's orders shipped then

    def total_packed(self) -> int:
        return sum(sum(c.values()) for c in self.packed.values())

    def per_packer(self) -> list[tuple[str, int, Decimal]]:
        """(packer, orders, orders per hour worked): an hour counts when the packer packed in it."""
        rows = []
        for name, counts in self.packed.items():
            total, hours = sum(counts.values()), len([h for h, n in counts.items() if n])
            rate = (Decimal(total) / hours).quantize(Decimal("0.1"), ROUND_HALF_UP) if hours else Decimal(0)
            rows.append((name, total, rate))
        return sorted(rows, key=lambda r: (-r[1], r[0]))


def read(day: dt.date) -> Shift:
    """The shift's numbers, in three bounded queries and one for the packers' names."""
    start, end = bounds(day)
    shift = Shift(day)
    first: dict[int, tuple[dt.datetime, int | None]] = {}
    for row in (AuditEvent.objects.filter(action__in=PACKED_ACTIONS, at__gte=start, at__lt=end, order__isnull=False)
                .values("order_id", "user_id").annotate(first=Min("at")).order_by()):
        seen = first.get(row["order_id"])
        if seen is None or row["first"] < seen[0]:
            first[row["order_id"]] = (row["first"], row["user_id"])
    User = get_user_model()
    names = {u.pk: u.get_full_name() or u.get_username()
             for u in User.objects.filter(pk__in={u for _at, u in first.values() if u is not None})}
    packed: dict[str, Counter[int]] = defaultdict(Counter)
    for at, user_id in first.values():
        name = names.get(user_id, _("unknown")) if user_id is not None else _("unknown")
        packed[name][timezone.localtime(at).hour] += 1
    shift.packed = dict(sorted(packed.items()))

    # Refusals for the order's state (a cancelled or delivered order, labels before Finish) are
    # no packing mistake: counted apart (recorded with "mistake": false since they are told apart).
    reasons: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    for row in (AuditEvent.objects.filter(action=REFUSED_ACTION, at__gte=start, at__lt=end)
                .values(message=KT("payload__result"), mistake=KT("payload__mistake"))
                .annotate(n=Count("id")).order_by()):
        reasons[row["mistake"] != "false"][reason_of(row["message"] or "")] += row["n"]
    shift.refused, shift.not_mistakes = _top(reasons[True]), _top(reasons[False])

    # Every order the queue holds, in words by its shipment (the queue's total is their sum).
    waiting: Counter[tuple[int, str, str]] = Counter()
    for row in (Order.objects.to_pack().values("shipment_date", "shipment_time").annotate(n=Count("id"))
                .order_by()):
        waiting[_waiting_group(row["shipment_date"], row["shipment_time"], day)] += row["n"]
    shift.waiting = [(label, n) for (_k, _sort, label), n in sorted(waiting.items())]

    for row in (Order.objects.filter(shipment_date=day).exclude(shipment_time="")
                .values("shipment_time").annotate(n=Count("id")).order_by("shipment_time")):
        if _cutoff_hour(row["shipment_time"]) is not None:
            shift.cutoffs[row["shipment_time"]] = row["n"]

    active = [h for c in packed.values() for h in c]
    active += [min(int(h), 23) for t in shift.cutoffs if (h := _cutoff_hour(t)) is not None]
    shift.hours = list(range(min([FIRST_HOUR, *active]), max([LAST_HOUR - 1, *active]) + 1))
    return shift


# Charts: geometry only; the template draws it.
W, H, LEFT, BOTTOM, TOP = 720, 260, 36, 24, 12


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    colour: str
    title: str


def packed_chart(shift: Shift) -> dict[str, object]:
    """Stacked bars, one per hour, one colour per packer; dashed lines at the shipment cutoffs."""
    hours = shift.hours or [FIRST_HOUR]
    per_hour = {h: sum(c.get(h, 0) for c in shift.packed.values()) for h in hours}
    top = max([*per_hour.values(), 1])
    plot_w, plot_h = W - LEFT - 8, H - BOTTOM - TOP
    step = plot_w / len(hours)
    colours = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(shift.packed)}
    bars, labels = [], []
    for i, h in enumerate(hours):
        y = TOP + plot_h
        for name, counts in shift.packed.items():
            n = counts.get(h, 0)
            if n:
                bh = plot_h * n / top
                y -= bh
                bars.append(Bar(LEFT + i * step + 2, y, step - 4, bh, colours[name],
                                f"{h:02d}:00 {name}: {n}"))
        labels.append((LEFT + i * step + step / 2, f"{h:02d}"))
    cutoffs = []
    for t, n in shift.cutoffs.items():
        pos = _cutoff_hour(t)
        if pos is not None and hours[0] <= pos <= hours[-1] + 1:
            cutoffs.append((LEFT + (pos - hours[0]) * step, t, n))
    ticks = sorted({0, (top + 1) // 2, top})
    return {"w": W, "h": H, "bars": bars, "labels": labels, "cutoffs": cutoffs, "base": TOP + plot_h,
            "left": LEFT, "right": W - 8, "label_y": H - 6, "top_y": TOP,
            "ticks": [(TOP + plot_h - plot_h * t / top, t) for t in ticks],
            "legend": list(colours.items())}


def hbar_chart(rows: list[tuple[str, int]], colour: str) -> dict[str, object]:
    """Horizontal bars, one table row each: the label is HTML text that wraps (an SVG label was cut
    short), the bar an SVG rect of 0..100 units wide (no inline styles under the CSP)."""
    top = max([n for _l, n in rows] + [1])
    return {"colour": colour, "rows": [(label, n, max(100 * n / top, 0.5)) for label, n in rows]}


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(shift: Shift) -> Iterator[str]:
    """The same numbers as the page: each section its own rows, with a byte-order mark first and the
    request language's separators (as the order report's CSV)."""
    delimiter, mark = csv_dialect()
    writer = csv.writer(_Echo(), delimiter=delimiter)
    yield "\ufeff" + writer.writerow([_("Section"), _("Hour or reason"), _("Packer"), _("Count"),
                                      _("Orders per hour")])
    for h in shift.hours:
        for name, counts in shift.packed.items():
            if counts.get(h):
                yield writer.writerow([_("Packed"), f"{h:02d}:00", name, counts[h], ""])
    for name, total, rate in shift.per_packer():
        yield writer.writerow([_("Packed in the shift"), "", name, total, format(rate, "f").replace(".", mark)])
    for t, n in shift.cutoffs.items():
        yield writer.writerow([_("Shipment cutoff"), t, "", n, ""])
    for reason, n in shift.refused:
        yield writer.writerow([_("Scans refused"), reason, "", n, ""])
    for reason, n in shift.not_mistakes:
        yield writer.writerow([_("Scans refused, not packing mistakes"), reason, "", n, ""])
    for label, n in shift.waiting:
        yield writer.writerow([_("Orders waiting"), label, "", n, ""])
