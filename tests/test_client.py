"""The client: errors sorted by what to do, retry hints, streaming pages, typed values."""

import datetime as dt
import json
import socket

import pytest

from fulfilment.market.client import Credentials, MarketClient, _retry_after
from fulfilment.market.errors import (
    MarketBadRequest,
    MarketCredentialsError,
    MarketRateLimited,
    MarketUnavailable,
)
from fulfilment.market.ratelimit import MemoryBackend, RateLimiter
from fulfilment.market.types import BoxLine, Instance, Order, OrderStatus, PartialCount
from fulfilment.sandbox import seed

GS = "\x1d"


def test_a_400_carries_the_markets_codes_and_messages(sandbox):
    order = sandbox.place([("MUG-001", 2), ("TEA-GREEN-100", 1)])
    with pytest.raises(MarketBadRequest) as exc:
        sandbox.client().set_order_box_layout(
            seed.FBS_CAMPAIGN_ID, order["orderId"], [[BoxLine(order["items"][0]["id"], full_count=1)]]
        )
    assert not exc.value.retryable
    assert exc.value.operation == "setOrderBoxLayout"
    assert {e.code for e in exc.value.errors} == {"INVALID_BOX_LAYOUT"}
    assert any("1 of 2 units" in m for m in exc.value.messages)


def test_credential_errors_are_not_retryable(sandbox):
    with pytest.raises(MarketCredentialsError) as exc:
        sandbox.client("bad").get_campaigns()
    assert not exc.value.retryable


def test_a_5xx_is_retryable(sandbox):
    sandbox.app.chaos.error_rate = 1.0
    with pytest.raises(MarketUnavailable) as exc:
        sandbox.client().get_campaigns()
    assert exc.value.retryable and exc.value.status == 500


def test_a_timeout_is_retryable(sandbox):
    sandbox.app.chaos.latency_ms = 1500
    sandbox.app._rng.uniform = lambda a, b: b  # always the full latency
    client = MarketClient(Credentials(seed.DEMO_API_KEY), sandbox.url, timeout=0.3)
    with pytest.raises(MarketUnavailable, match="did not answer"):
        client.get_campaigns()


def test_a_refused_connection_is_retryable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = MarketClient(Credentials("x"), f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(MarketUnavailable, match="cannot reach"):
        client.get_campaigns()


def test_a_420_names_when_to_retry_and_blocks_every_caller(sandbox):
    sandbox.store.set_setting("limit:getCampaigns", 1)
    limiter = RateLimiter(MemoryBackend())
    client = sandbox.client(limiter=limiter)
    client.get_campaigns()
    with pytest.raises(MarketRateLimited) as exc:
        client.get_campaigns()
    assert 1 <= exc.value.retry_after <= 3600
    sent = client.calls
    # The next call waits locally, without bothering the Market.
    with pytest.raises(MarketRateLimited, match="local limit"):
        sandbox.client(limiter=limiter).get_campaigns()
    assert client.calls == sent


def test_retry_after_reads_http_and_iso_dates():
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)
    assert 80 < _retry_after({"X-RateLimit-Resource-Until": soon.strftime("%a, %d %b %Y %H:%M:%S GMT")}) <= 91
    assert 80 < _retry_after({"X-RateLimit-Resource-Until": soon.isoformat()}) <= 91
    assert _retry_after({}) == 60.0


def test_pages_are_streamed_one_request_each(sandbox):
    sandbox.seeder.load(75)
    client = sandbox.client()
    pages = client.iter_business_orders(seed.DEMO_BUSINESS_ID)
    first = next(pages)
    assert len(first.orders) == 50 and client.calls == 1
    rest = list(pages)
    assert [len(p.orders) for p in rest] == [25] and client.calls == 2


def test_a_page_that_fails_for_a_transient_reason_is_asked_again_in_place(sandbox):
    sandbox.seeder.load(120)
    sandbox.app.chaos.error_rate = 0.5
    sandbox.app._rng.seed(3)
    client = sandbox.client()
    pages = list(client.iter_business_orders(seed.DEMO_BUSINESS_ID, attempts=8, max_wait=0.1))
    assert [len(p.orders) for p in pages] == [50, 50, 20]
    assert client.calls > 3  # some pages were asked again, and the pass went on from where it was
    sandbox.app._rng.seed(3)
    with pytest.raises(MarketUnavailable):  # without attempts, the first failure ends the stream
        list(sandbox.client().iter_business_orders(seed.DEMO_BUSINESS_ID))


def test_the_deprecated_campaign_listing_reads_items_and_counts(sandbox):
    """(Moved from the sync's fallback through this listing, removed: every campaign has a business.)"""
    order = sandbox.place([("MUG-001", 2)])
    page = sandbox.client().get_orders(seed.FBS_CAMPAIGN_ID)
    assert [o.id for o in page.orders] == [order["orderId"]]
    assert [i.count for i in page.orders[0].items] == [2]


def test_unknown_enum_values_are_kept():
    payload = {
        "orderId": 1,
        "campaignId": 2,
        "status": "BRAND_NEW_STATUS",
        "substatus": "SOMETHING_ELSE",
        "creationDate": "2026-01-01T10:00:00+03:00",
        "paymentType": "PREPAID",
        "paymentMethod": "NEW_WAY",
        "fake": False,
        "buyerType": "ROBOT",
        "items": [{"id": 5, "offerId": "A", "offerName": "a", "count": 1, "requiredInstanceTypes": ["NEW_CODE"]}],
        "delivery": {
            "type": "TELEPORT",
            "serviceName": "x",
            "deliveryServiceId": 1,
            "deliveryPartnerType": "SHOP",
            "dates": {"fromDate": "2026-01-02"},
        },
    }
    order = Order.from_business(payload)
    assert order.status == "BRAND_NEW_STATUS" and not isinstance(order.status, OrderStatus)
    assert order.buyer_type == "ROBOT"
    assert order.items[0].required_instance_types == ("NEW_CODE",)
    assert order.raw is payload


def test_known_enum_values_become_members():
    order = Order.from_v2(
        {
            "id": 1,
            "status": "PROCESSING",
            "substatus": "STARTED",
            "creationDate": "23-09-2022 09:12:41",
            "items": [],
            "delivery": {"type": "PICKUP"},
            "buyer": {"type": "PERSON"},
        },
        7,
    )
    assert order.status is OrderStatus.PROCESSING
    assert order.created_at == dt.datetime(2022, 9, 23, 6, 12, 41, tzinfo=dt.UTC)


def test_an_instance_serialises_gs_as_the_json_escape_and_nothing_else():
    code = "0104601234567893215Ek!qZ7w+Ta0r" + GS + "91EE06" + GS + '92a"b\\c'
    line = BoxLine(5, full_count=1, instances=(Instance(cis=code),))
    text = json.dumps(line.to_json(), ensure_ascii=False)
    assert '\\u001d91EE06\\u001d92a\\"b\\\\c' in text
    assert "\\\\u001d" not in text
    assert json.loads(text)["instances"][0]["cis"] == code


def test_an_instance_holds_exactly_one_code():
    with pytest.raises(ValueError):
        Instance(cis="x", uin="1234567890123456").to_json()
    with pytest.raises(ValueError):
        Instance(country_code="CN").to_json()


def test_a_box_line_is_whole_or_a_part():
    with pytest.raises(ValueError):
        BoxLine(1)
    with pytest.raises(ValueError):
        BoxLine(1, full_count=1, partial=PartialCount(1, 2))


def test_the_token_is_not_in_repr():
    client = MarketClient(Credentials("very-secret"), "http://x")
    assert "very-secret" not in repr(client) + repr(client.credentials)
