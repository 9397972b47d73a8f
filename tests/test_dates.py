import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fulfilment.market.dates import (
    MarketDateError,
    format_date,
    format_datetime,
    format_filter_datetime,
    parse_date,
    parse_datetime,
)

MSK = ZoneInfo("Europe/Moscow")


def test_it_parses_the_v2_date_format():
    assert parse_date("23-09-2022") == dt.date(2022, 9, 23)


def test_it_parses_the_v1_iso_date_format():
    assert parse_date("2022-09-23") == dt.date(2022, 9, 23)


def test_it_parses_v2_date_times_as_moscow_time():
    value = parse_datetime("23-09-2022 09:12:41")
    assert value == dt.datetime(2022, 9, 23, 9, 12, 41, tzinfo=MSK)
    assert value.utcoffset() == dt.timedelta(hours=3)


def test_it_keeps_the_offset_of_iso_date_times():
    value = parse_datetime("2020-02-02T14:30:30+05:00")
    assert value.utcoffset() == dt.timedelta(hours=5)
    assert value.astimezone(dt.UTC) == dt.datetime(2020, 2, 2, 9, 30, 30, tzinfo=dt.UTC)


def test_it_reads_a_bare_date_as_moscow_midnight():
    assert parse_datetime("01-03-2024") == dt.datetime(2024, 3, 1, tzinfo=MSK)


def test_empty_values_are_none():
    assert parse_date("") is None
    assert parse_datetime(None) is None


@pytest.mark.parametrize("bad", ["31-02-2024", "2024/01/01", "23-09-22", "23-09-2022 25:00:00", "yesterday"])
def test_it_refuses_what_the_market_does_not_send(bad):
    with pytest.raises(MarketDateError):
        parse_datetime(bad)


def test_it_formats_back_to_the_market_formats():
    moment = dt.datetime(2022, 9, 23, 6, 12, 41, tzinfo=dt.UTC)
    assert format_date(dt.date(2022, 9, 23)) == "23-09-2022"
    assert format_datetime(moment) == "23-09-2022 09:12:41"
    assert format_filter_datetime(moment.astimezone(MSK)) == "2022-09-23T09:12:41+03:00"


def test_it_refuses_naive_datetimes_for_the_market():
    with pytest.raises(ValueError, match="time zone"):
        format_datetime(dt.datetime(2022, 1, 1))
