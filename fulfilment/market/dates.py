"""Date formats of the Partner API.

The v2 campaign methods send ``DD-MM-YYYY`` and ``DD-MM-YYYY HH:MM:SS`` (Moscow time); the v1
business methods send ISO 8601 (``YYYY-MM-DD``, or date-time with an offset). Filters take ISO 8601
with an offset. See the ``DateDdMmYyyy`` / ``DateDdMmYyyyHhMmSs`` schemas of the spec.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

MARKET_TZ = ZoneInfo("Europe/Moscow")

_DMY = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
_DMY_HMS = re.compile(r"^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$")


# The delivery interval's times: the descriptions (and TimeIntervalDTO's pattern) say 24-hour HH:MM;
# the schema's ``format: time`` would be RFC 3339's HH:MM:SS. The Market returns what it is sent, HH:MM.
_HM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


class MarketDateError(ValueError):
    """A date string in none of the formats the Market documents."""


def parse_date(value: str | None) -> dt.date | None:
    """``23-09-2022`` or ``2022-09-23`` → date; empty → None."""
    if not value:
        return None
    m = _DMY.match(value)
    try:
        if m:
            day, month, year = (int(g) for g in m.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise MarketDateError(f"not a Market date: {value!r}") from exc


def parse_datetime(value: str | None, tz: dt.tzinfo = MARKET_TZ) -> dt.datetime | None:
    """``23-09-2022 09:12:41`` (Moscow time), ISO 8601 with an offset, or a bare date → aware datetime."""
    if not value:
        return None
    m = _DMY_HMS.match(value)
    try:
        if m:
            day, month, year, hh, mm, ss = (int(g) for g in m.groups())
            return dt.datetime(year, month, day, hh, mm, ss, tzinfo=tz)
        if _DMY.match(value):
            d = parse_date(value)
            assert d is not None
            return dt.datetime(d.year, d.month, d.day, tzinfo=tz)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MarketDateError(f"not a Market date-time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def parse_time(value: str | None) -> dt.time | None:
    """``10:00`` (as documented; ``10:00:00`` is read too, should the Market ever add seconds) → time."""
    if not value:
        return None
    m = _HM.match(value)
    if not m:
        raise MarketDateError(f"not a Market time (HH:MM): {value!r}")
    return dt.time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def format_time(value: dt.time) -> str:
    """time → ``HH:MM``, as the delivery interval is written."""
    return value.strftime("%H:%M")


def format_date(value: dt.date) -> str:
    """date → ``DD-MM-YYYY`` (the v2 payload format)."""
    return value.strftime("%d-%m-%Y")


def format_datetime(value: dt.datetime) -> str:
    """aware datetime → ``DD-MM-YYYY HH:MM:SS`` in Moscow time (the v2 payload format)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: the Market needs a time zone")
    return value.astimezone(MARKET_TZ).strftime("%d-%m-%Y %H:%M:%S")


def format_filter_datetime(value: dt.datetime) -> str:
    """aware datetime → ISO 8601 with offset, as filters (``updatedAtFrom``…) expect."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: the Market needs a time zone")
    return value.isoformat(timespec="seconds")
