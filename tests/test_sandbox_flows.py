"""The sandbox behaves like the Market beyond layouts: auth, listing, statuses, checks, DBS, labels."""

import datetime as dt

import pytest
import requests

from fulfilment.market.errors import (
    MarketBadRequest,
    MarketCredentialsError,
    MarketNotFound,
    MarketRateLimited,
    MarketUnavailable,
)
from fulfilment.market.types import (
    BoxLine,
    CancellationReason,
    DigitalItem,
    Instance,
    OrdersFilter,
    PageFormat,
)
from fulfilment.sandbox import seed
from fulfilment.sandbox.clock import now_utc

B = seed.DEMO_BUSINESS_ID
FBS, DBS = seed.FBS_CAMPAIGN_ID, seed.DBS_CAMPAIGN_ID


def ids(order):
    return [i["id"] for i in order["items"]]


# --- auth ---------------------------------------------------------------------------------------
def test_no_key_is_401_in_the_markets_error_shape(sandbox):
    resp = requests.get(f"{sandbox.url}/v2/campaigns", timeout=5)
    assert resp.status_code == 401
    assert resp.json()["status"] == "ERROR"
    assert resp.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_a_wrong_key_is_a_credential_error(sandbox):
    with pytest.raises(MarketCredentialsError) as exc:
        sandbox.client("not-a-key").get_campaigns()
    assert exc.value.status == 403


def test_a_campaign_of_another_business_is_403(sandbox):
    sandbox.store.add_business(99, "Other", "other-key")
    sandbox.store.add_campaign(77, 99, "other.example", "FBS")
    with pytest.raises(MarketCredentialsError):
        sandbox.client().get_campaign(77)
    with pytest.raises(MarketCredentialsError):
        sandbox.client().get_business_orders(99)


def test_oauth_bearer_works_too(sandbox):
    from fulfilment.market.client import Credentials, MarketClient

    client = MarketClient(Credentials(seed.DEMO_API_KEY, "OAUTH"), sandbox.url)
    assert {c.id for c in client.get_campaigns()} == {FBS, seed.EXPRESS_CAMPAIGN_ID, DBS, seed.LAAS_CAMPAIGN_ID}


# --- listing ------------------------------------------------------------------------------------
def test_pages_of_at_most_50_follow_the_token_to_the_end(sandbox):
    sandbox.seeder.load(120)
    client = sandbox.client()
    pages = list(client.iter_business_orders(B, limit=500))
    assert [len(p.orders) for p in pages] == [50, 50, 20]
    assert len({o.id for p in pages for o in p.orders}) == 120
    assert client.calls == 3


def test_filters_by_status_campaign_ids_and_fake(sandbox):
    sandbox.place([("MUG-001", 1)])
    sandbox.place([("MUG-001", 1)], status="CANCELLED", substatus="USER_CHANGED_MIND")
    sandbox.place([("MUG-001", 1)], campaign_id=DBS, program="DBS", fake=True)
    client = sandbox.client()

    def count(**kw):
        return sum(len(p.orders) for p in client.iter_business_orders(B, OrdersFilter(**kw)))

    assert count() == 3
    assert count(statuses=("PROCESSING",)) == 2
    assert count(substatuses=("USER_CHANGED_MIND",)) == 1
    assert count(campaign_ids=(DBS,)) == 1
    assert count(fake=True) == 1


def test_updated_since_returns_only_later_changes(sandbox):
    old = sandbox.place([("MUG-001", 1)], created_ago=dt.timedelta(days=2))
    mark = now_utc()
    sandbox.client().set_order_box_layout(FBS, old["orderId"], [[BoxLine(ids(old)[0], full_count=1)]])
    page = sandbox.client().get_business_orders(B, OrdersFilter(updated_from=mark))
    assert [o.id for o in page.orders] == [old["orderId"]]
    assert page.orders[0].boxes_layout[0].barcode


def test_a_date_range_over_30_days_is_refused(sandbox):
    with pytest.raises(MarketBadRequest, match="30 days"):
        sandbox.client().get_business_orders(B, OrdersFilter(creation_from=dt.date(2026, 1, 1),
                                                             creation_to=dt.date(2026, 3, 1)))


def test_without_dates_only_the_last_30_days_are_listed(sandbox):
    sandbox.place([("MUG-001", 1)], created_ago=dt.timedelta(days=40))
    recent = sandbox.place([("MUG-001", 1)])
    assert [o.id for o in sandbox.client().get_business_orders(B).orders] == [recent["orderId"]]


def test_waiting_for_cancellation_approval_filter(sandbox):
    sandbox.place([("MUG-001", 1)], campaign_id=DBS, program="DBS", status="DELIVERY",
                  substatus="DELIVERY_SERVICE_RECEIVED", cancel_requested=True)
    sandbox.place([("MUG-001", 1)], campaign_id=DBS, program="DBS")
    page = sandbox.client().get_business_orders(B, OrdersFilter(waiting_for_cancellation_approve=True))
    assert len(page.orders) == 1 and page.orders[0].cancel_requested


def test_the_deprecated_v2_listing_returns_the_same_orders(sandbox):
    order = sandbox.place([("SHOES-RUN-42", 1)], buyer_type="BUSINESS")
    v2 = sandbox.client().get_orders(FBS)
    assert [o.id for o in v2.orders] == [order["orderId"]]
    one = sandbox.client().get_order(FBS, order["orderId"])
    assert one.items[0].required_instance_types == ("CIS",)
    assert one.buyer_type == "BUSINESS"
    assert one.created_at.utcoffset() == dt.timedelta(hours=3)


def test_an_unknown_order_is_404(sandbox):
    with pytest.raises(MarketNotFound):
        sandbox.client().get_order(FBS, 1)


# --- statuses and checks ------------------------------------------------------------------------
def test_ready_to_ship_needs_a_layout(sandbox):
    order = sandbox.place([("MUG-001", 1)])
    with pytest.raises(MarketBadRequest, match="box layout"):
        sandbox.client().update_order_status(FBS, order["orderId"], "PROCESSING", "READY_TO_SHIP")


def test_identifier_checks_finish_asynchronously_and_gate_ready_to_ship(sandbox):
    sandbox.store.set_setting("check_delay", 0.6)
    order = sandbox.place([("RING-585", 1)])
    client = sandbox.client()
    client.set_order_box_layout(FBS, order["orderId"], [[BoxLine(ids(order)[0], full_count=1,
                                                                 instances=(Instance(uin="1234567890123456"),))]])
    assert [s.status for s in client.get_order_identifiers_status(FBS, order["orderId"])] == ["IN_PROGRESS"]
    with pytest.raises(MarketBadRequest, match="being checked"):
        client.update_order_status(FBS, order["orderId"], "PROCESSING", "READY_TO_SHIP")
    import time

    time.sleep(0.7)
    assert [s.status for s in client.get_order_identifiers_status(FBS, order["orderId"])] == ["OK"]
    assert client.update_order_status(FBS, order["orderId"], "PROCESSING", "READY_TO_SHIP").substatus == "READY_TO_SHIP"


def test_a_configured_failing_code_is_rejected(sandbox):
    sandbox.store.set_setting("failing_codes", ["6666666666666666"])
    order = sandbox.place([("RING-585", 1)])
    client = sandbox.client()
    client.set_order_box_layout(FBS, order["orderId"], [[BoxLine(ids(order)[0], full_count=1,
                                                                 instances=(Instance(uin="6666666666666666"),))]])
    (status,) = client.get_order_identifiers_status(FBS, order["orderId"])
    assert (status.status, status.substatus) == ("FAILED", "UIN_NO_DATA")
    with pytest.raises(MarketBadRequest, match="did not pass"):
        client.update_order_status(FBS, order["orderId"], "PROCESSING", "READY_TO_SHIP")


def test_the_shop_cancels_with_shop_failed_only(sandbox):
    order = sandbox.place([("MUG-001", 1)])
    client = sandbox.client()
    with pytest.raises(MarketBadRequest, match="SHOP_FAILED"):
        client.update_order_status(FBS, order["orderId"], "CANCELLED", "USER_CHANGED_MIND")
    assert client.update_order_status(FBS, order["orderId"], "CANCELLED", "SHOP_FAILED").status == "CANCELLED"


def test_bulk_status_reports_each_order_and_allows_30_at_most(sandbox):
    good = sandbox.place([("MUG-001", 1)])
    bad = sandbox.place([("MUG-001", 1)])
    client = sandbox.client()
    client.set_order_box_layout(FBS, good["orderId"], [[BoxLine(ids(good)[0], full_count=1)]])
    results = client.update_order_statuses(FBS, [(good["orderId"], "PROCESSING", "READY_TO_SHIP"),
                                                 (bad["orderId"], "PROCESSING", "READY_TO_SHIP")])
    assert [(r.order_id, r.ok) for r in results] == [(good["orderId"], True), (bad["orderId"], False)]
    assert "box layout" in results[1].error
    with pytest.raises(ValueError):
        client.update_order_statuses(FBS, [(i, "PROCESSING", "READY_TO_SHIP") for i in range(31)])
    resp = requests.post(f"{sandbox.url}/v2/campaigns/{FBS}/orders/status-update", timeout=5,
                         headers={"Api-Key": seed.DEMO_API_KEY},
                         json={"orders": [{"id": i, "status": "PROCESSING"} for i in range(31)]})
    assert resp.status_code == 400


# --- DBS ----------------------------------------------------------------------------------------
def dbs_in_delivery(sandbox, asked_hours_ago=3):
    order = sandbox.place([("MUG-001", 1), ("TEA-GREEN-100", 1)], campaign_id=DBS, program="DBS",
                          status="DELIVERY", substatus="DELIVERY_SERVICE_RECEIVED", cancel_requested=True)
    order["_sandbox"]["cancelRequestedAt"] = (now_utc() - dt.timedelta(hours=asked_hours_ago)).isoformat()
    sandbox.store.save_orders([order])
    return order


def test_accepting_a_cancellation_cancels_the_order(sandbox):
    order = dbs_in_delivery(sandbox)
    sandbox.client().accept_order_cancellation(DBS, order["orderId"], True)
    assert sandbox.stored(order["orderId"])["status"] == "CANCELLED"


def test_rejecting_needs_a_reason(sandbox):
    order = dbs_in_delivery(sandbox)
    resp = requests.put(f"{sandbox.url}/v2/campaigns/{DBS}/orders/{order['orderId']}/cancellation/accept",
                        json={"accepted": False}, headers={"Api-Key": seed.DEMO_API_KEY}, timeout=5)
    assert resp.status_code == 400
    sandbox.client().accept_order_cancellation(DBS, order["orderId"], False, CancellationReason.ORDER_IN_DELIVERY)
    stored = sandbox.stored(order["orderId"])
    assert stored["status"] == "DELIVERY" and stored["cancelRequested"] is False


def test_after_48_hours_the_order_cancels_by_itself(sandbox):
    order = dbs_in_delivery(sandbox, asked_hours_ago=49)
    with pytest.raises(MarketBadRequest, match="48 hours"):
        sandbox.client().accept_order_cancellation(DBS, order["orderId"], True)
    assert sandbox.stored(order["orderId"])["status"] == "CANCELLED"


def test_dbs_codes_go_through_put_identifiers(sandbox):
    order = sandbox.place([("TSHIRT-M", 1)], campaign_id=DBS, program="DBS")
    code = seed.make_cis(seed.CATALOG["TSHIRT-M"], __import__("random").Random(3))
    sandbox.client().provide_order_item_identifiers(DBS, order["orderId"], {ids(order)[0]: [Instance(cis=code)]})
    assert sandbox.stored(order["orderId"])["items"][0]["instances"][0]["cisFull"] == code
    fbs = sandbox.place([("TSHIRT-M", 1)])
    with pytest.raises(MarketBadRequest, match="DBS"):
        sandbox.client().provide_order_item_identifiers(FBS, fbs["orderId"], {ids(fbs)[0]: [Instance(cis=code)]})


def test_dbs_items_are_reduced_through_put_items_and_never_increased(sandbox):
    order = sandbox.place([("MUG-001", 3), ("TEA-GREEN-100", 1)], campaign_id=DBS, program="DBS")
    a, b = ids(order)
    client = sandbox.client()
    with pytest.raises(MarketBadRequest, match="increased"):
        client.update_order_items(DBS, order["orderId"], {a: 4, b: 1})
    client.update_order_items(DBS, order["orderId"], {a: 2, b: 1})
    assert [i["count"] for i in sandbox.stored(order["orderId"])["items"]] == [2, 1]
    with pytest.raises(MarketBadRequest, match="lose all its items"):
        client.update_order_items(DBS, order["orderId"], {a: 0, b: 0})


def test_cargo_places_are_the_length_of_the_boxes_array(sandbox):
    order = sandbox.place([("MUG-001", 1)], campaign_id=DBS, program="DBS")
    shipment = order["delivery"]["shipment"]["id"]
    boxes = sandbox.client().set_order_shipment_boxes(DBS, order["orderId"], shipment, 3)
    assert len(boxes) == 3
    assert sandbox.store.received("setOrderShipmentBoxes")[-1]["body"] == '{"boxes": [{}, {}, {}]}'


def test_digital_keys_within_30_minutes(sandbox):
    order = sandbox.place([("GAME-KEY", 1)], campaign_id=DBS, program="DBS", delivery_type="DIGITAL",
                          created_ago=dt.timedelta(minutes=5))
    item = DigitalItem(ids(order)[0], ("KEY-1234",), "Активируйте в магазине", dt.date(2027, 1, 1))
    sandbox.client().provide_order_digital_codes(DBS, order["orderId"], [item])
    late = sandbox.place([("GAME-KEY", 1)], campaign_id=DBS, program="DBS", delivery_type="DIGITAL",
                         created_ago=dt.timedelta(minutes=31))
    item = DigitalItem(ids(late)[0], ("KEY-1",), "slip", dt.date(2027, 1, 1))
    with pytest.raises(MarketBadRequest, match="30 minutes"):
        sandbox.client().provide_order_digital_codes(DBS, late["orderId"], [item])


def test_update_order_returns_operation_ids(sandbox):
    laas = seed.LAAS_CAMPAIGN_ID  # updateOrder is the LaaS model's
    order = sandbox.place([("MUG-001", 1)], campaign_id=laas, program="LAAS", delivery_type="DELIVERY")
    ops = sandbox.client().update_order(laas, order["orderId"],
                                        customer={"firstName": "Анна", "lastName": "Петрова", "phone": "+79990001122"},
                                        delivery_dates=(dt.date(2026, 12, 1), dt.date(2026, 12, 1)),
                                        delivery_times=("10:00", "14:00"))
    assert [o.type for o in ops] == ["ORDER_RECIPIENT_UPDATE", "ORDER_DELIVERY_INTERVAL_UPDATE"]
    assert all(o.id for o in ops)


# --- labels -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", list(PageFormat))
def test_labels_are_a_pdf_with_one_page_per_box(sandbox, fmt):
    order = sandbox.place([("AC-SPLIT-9", 1), ("MUG-001", 1)])
    ac, mug = ids(order)
    from fulfilment.market.types import PartialCount

    client = sandbox.client()
    boxes = client.set_order_box_layout(FBS, order["orderId"], [
        [BoxLine(ac, partial=PartialCount(1, 2))], [BoxLine(ac, partial=PartialCount(2, 2))],
        [BoxLine(mug, full_count=1)]])
    pdf = client.generate_order_labels(FBS, order["orderId"], fmt)
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) == 3
    one = client.generate_order_label(FBS, order["orderId"], order["delivery"]["shipment"]["id"], boxes[0].box_id, fmt)
    assert _pages(one) == 1
    data = client.get_order_labels_data(FBS, order["orderId"])
    assert [b.place for b in data.boxes] == ["1/3", "2/3", "3/3"]


def _pages(pdf: bytes) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_labels_need_a_layout(sandbox):
    order = sandbox.place([("MUG-001", 1)])
    with pytest.raises(MarketBadRequest, match="box layout"):
        sandbox.client().generate_order_labels(FBS, order["orderId"])


def test_buyer_info(sandbox):
    order = sandbox.place([("MUG-001", 1)], buyer_type="BUSINESS")
    info = sandbox.client().get_order_buyer_info(FBS, order["orderId"])
    assert info.type == "BUSINESS" and info.phone.startswith("+7")


def test_order_stats_stream(sandbox):
    sandbox.seeder.load(5)
    today = dt.date.today()
    stats = list(sandbox.client().iter_orders_stats(FBS, today - dt.timedelta(days=29), today, limit=2))
    assert len(stats) == 5
    assert all(s.items and s.items[0].total > 0 for s in stats)


# --- limits and chaos ---------------------------------------------------------------------------
def test_an_exceeded_limit_answers_420_with_the_rate_limit_headers(sandbox):
    sandbox.store.set_setting("limit:getCampaign", 2)
    client = sandbox.client()
    client.get_campaign(FBS)
    client.get_campaign(FBS)
    resp = requests.get(f"{sandbox.url}/v2/campaigns/{FBS}", headers={"Api-Key": seed.DEMO_API_KEY}, timeout=5)
    assert resp.status_code == 420
    assert resp.headers["X-RateLimit-Resource-Remaining"] == "0"
    assert resp.headers["X-RateLimit-Resource-Until"]
    with pytest.raises(MarketRateLimited) as exc:
        client.get_campaign(FBS)
    assert exc.value.retry_after > 0


def test_chaos_knobs(sandbox):
    sandbox.app.chaos.error_rate = 1.0
    with pytest.raises(MarketUnavailable):
        sandbox.client().get_campaigns()
    sandbox.app.chaos.error_rate = 0.0
    sandbox.app.chaos.burst_after = 1
    sandbox.client().get_campaigns()
    with pytest.raises(MarketRateLimited):
        sandbox.client().get_campaigns()
