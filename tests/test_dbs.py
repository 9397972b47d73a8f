"""DBS work beyond boxes, against the sandbox Market over HTTP: digital keys within 30 minutes,
recipient and delivery-interval changes with the Market's operation ids, and the order report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.orders import outbox
from fulfilment.orders.catalogue import sync_catalogue
from fulfilment.orders.models import Business, Campaign, Order, OutboxAction
from fulfilment.orders.sync import sync_business
from fulfilment.sandbox import seed

pytestmark = pytest.mark.django_db
Kind = OutboxAction.Kind
State = OutboxAction.State
DBS = {"campaign_id": seed.DBS_CAMPAIGN_ID, "program": "DBS"}
LAAS = {"campaign_id": seed.LAAS_CAMPAIGN_ID, "program": "LAAS"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _login(client, user):
    """Logged in with English chosen (pages and messages are checked in English here)."""
    client.force_login(user)
    client.post(reverse("language"), {"language": "en"})


def _sync(market):
    sync_business(market.business.pk, client=market.client())
    sync_catalogue(market.business.pk, client=market.client())  # as the worker does after each sync


def _deliver_all(market):
    for action in OutboxAction.objects.filter(state=State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())


# --- digital goods -------------------------------------------------------------------------------
def _keys_form(order, keys, slip="Steam → Activate a product", till=None):
    item = order.items.get()
    return {f"codes-{item.pk}": "\n".join(keys), f"slip-{item.pk}": slip,
            f"till-{item.pk}": (till or timezone.localdate() + dt.timedelta(days=365)).isoformat()}


def test_digital_keys_are_checked_sent_once_and_reach_the_market(market, packer, client):
    placed = market.place([("GAME-KEY", 2)], delivery_type="DIGITAL", created_ago=dt.timedelta(minutes=5), **DBS)
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    assert order.processing_at is not None
    _login(client, packer)
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    deadline = order.processing_at + dt.timedelta(minutes=30)
    assert f'data-deadline="{timezone.localtime(deadline).isoformat()}"' in page
    assert 'name="codes-' in page and 'id="scan"' not in page  # keys, not boxes

    url = reverse("order-digital-keys", args=[order.pk])
    # One key for two units, and a date in the past: refused with reasons, what was typed kept.
    bad = client.post(url, _keys_form(order, ["AAAA-1111"], till=timezone.localdate() - dt.timedelta(days=1)))
    html = bad.content.decode()
    assert bad.status_code == 400 and "2 keys are needed, 1 entered" in html and "AAAA-1111" in html
    assert "The activation date has passed" in html
    twice = client.post(url, _keys_form(order, ["AAAA-1111", "AAAA-1111"]))
    assert twice.status_code == 400 and "entered twice" in twice.content.decode()
    assert not OutboxAction.objects.exists()

    ok = client.post(url, _keys_form(order, ["AAAA-1111", " BBBB-2222 "]))
    assert ok.status_code == 302
    again = client.post(url, _keys_form(order, ["CCCC-3333", "DDDD-4444"]))
    assert again.status_code == 400 and "already sent" in again.content.decode()
    assert OutboxAction.objects.filter(kind=Kind.DIGITAL_CODES).count() == 1
    _deliver_all(market)
    body = json.loads(market.store.received("provideOrderDigitalCodes")[-1]["body"])
    item = order.items.get()
    assert body == {"items": [{"id": item.market_item_id, "codes": ["AAAA-1111", "BBBB-2222"],
                               "slip": "Steam → Activate a product",
                               "activate_till": (timezone.localdate() + dt.timedelta(days=365)).isoformat()}]}
    assert market.stored(placed["orderId"])["status"] == "DELIVERED"
    event = order.audit_events.get(action="digital.codes")
    assert event.user == packer and "AAAA-1111" not in json.dumps(event.payload)  # no keys in the audit
    assert event.payload["items"][0]["keys"] == 2


def test_keys_sent_late_are_tried_and_the_markets_refusal_is_shown(market, packer, client):
    placed = market.place([("GAME-KEY", 1)], delivery_type="DIGITAL", created_ago=dt.timedelta(minutes=45), **DBS)
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    _login(client, packer)
    resp = client.post(reverse("order-digital-keys", args=[order.pk]), _keys_form(order, ["LATE-0001"]), follow=True)
    assert "later than 30 minutes" in resp.content.decode()
    _deliver_all(market)
    action = OutboxAction.objects.get(kind=Kind.DIGITAL_CODES)
    assert action.state == State.FAILED and "30 minutes" in action.market_errors[0]["message"]
    page = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "30 minutes" in page and 'name="codes-' in page  # shown as received; can be corrected and resent


def test_processing_time_is_when_the_sync_saw_the_order_change_into_it(market):
    placed = market.place([("GAME-KEY", 1)], delivery_type="DIGITAL", status="UNPAID", substatus="WAITING_USER_INPUT",
                          created_ago=dt.timedelta(hours=3), **DBS)
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    assert order.processing_at is None
    seen_before = order.synced_at
    stored = market.stored(placed["orderId"])
    stored.update(status="PROCESSING", substatus="STARTED")
    market.app._touch(stored)
    market.store.save_order(stored)
    _sync(market)
    order.refresh_from_db()
    # Not the creation three hours ago: the change happened after the previous sighting.
    assert order.processing_at == seen_before


# --- recipient and delivery interval -------------------------------------------------------------
def test_recipient_and_interval_changes_are_checked_and_the_operations_shown(market, supervisor, client):
    """updateOrder is the LaaS model's (issue 13.14): offered and sent only there."""
    courier = market.place([("MUG-001", 1)], delivery_type="DELIVERY", **LAAS)
    pickup = market.place([("MUG-001", 1)], delivery_type="PICKUP", **LAAS)
    fbs = market.place([("MUG-001", 1)], delivery_type="DELIVERY")
    dbs = market.place([("MUG-001", 1)], delivery_type="DELIVERY", **DBS)
    _sync(market)
    order, at_pickup, fbs_order, dbs_order = (Order.objects.get(market_id=p["orderId"])
                                              for p in (courier, pickup, fbs, dbs))
    _login(client, supervisor)
    page = client.get(reverse("supervisor-order", args=[order.pk])).content.decode()
    assert 'name="phone"' in page and 'name="from_date"' in page
    assert courier["delivery"]["dates"]["fromDate"] in page  # the current interval, to start from
    assert 'name="phone"' not in client.get(reverse("supervisor-order", args=[fbs_order.pk])).content.decode()
    assert 'name="phone"' not in client.get(reverse("supervisor-order", args=[dbs_order.pk])).content.decode()
    dbs_refused = client.post(reverse("supervisor-update-order", args=[dbs_order.pk]),
                              {"last_name": "Орлова", "first_name": "Мария", "phone": "+79990001122"}, follow=True)
    assert "Only a LaaS order" in dbs_refused.content.decode()
    pickup_page = client.get(reverse("supervisor-order", args=[at_pickup.pk])).content.decode()
    assert 'name="phone"' in pickup_page and 'name="from_date"' not in pickup_page

    url = reverse("supervisor-update-order", args=[order.pk])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    cases = [
        ({}, "Fill in the new recipient"),
        ({"last_name": "Орлова", "first_name": "Мария", "phone": "8 999 000-11-22"}, "country code"),
        ({"last_name": "Орлова", "phone": "+79990001122"}, "Needed for a new recipient"),
        ({"from_date": tomorrow.isoformat(), "to_date": tomorrow.isoformat(), "from_time": "18:00",
          "to_time": "10:00"}, "ends before it starts"),
        ({"from_date": "2020-01-01", "to_date": "2020-01-02", "from_time": "10:00", "to_time": "18:00"},
         "The date has passed"),
    ]
    for data, words in cases:
        resp = client.post(url, data)
        assert resp.status_code == 400 and words in resp.content.decode(), (data, words)
        assert (data.get("last_name") or "") in resp.content.decode()  # what was typed stays
    pickup_interval = client.post(reverse("supervisor-update-order", args=[at_pickup.pk]), {
        "from_date": tomorrow.isoformat(), "to_date": tomorrow.isoformat(), "from_time": "10:00", "to_time": "18:00"})
    assert pickup_interval.status_code == 400 and "courier" in pickup_interval.content.decode()
    refused = client.post(reverse("supervisor-update-order", args=[fbs_order.pk]),
                          {"last_name": "Орлова", "first_name": "Мария", "phone": "+79990001122"}, follow=True)
    assert "Only a LaaS order" in refused.content.decode()
    assert not OutboxAction.objects.filter(kind=Kind.UPDATE_ORDER).exists()

    ok = client.post(url, {"last_name": "Орлова", "first_name": "Мария", "middle_name": "", "phone": "+7 999 000-11-22",
                           "from_date": tomorrow.isoformat(), "to_date": (tomorrow + dt.timedelta(days=1)).isoformat(),
                           "from_time": "10:00", "to_time": "14:00"})
    assert ok.status_code == 302
    _deliver_all(market)
    body = json.loads(market.store.received("updateOrder")[-1]["body"])
    assert body == {"order": {"id": order.market_id,
                              "customer": {"firstName": "Мария", "lastName": "Орлова", "phone": "+79990001122"},
                              "deliveryInterval": {
                                  "deliveryDateInterval": {"fromDate": tomorrow.isoformat(),
                                                           "toDate": (tomorrow + dt.timedelta(days=1)).isoformat()},
                                  "deliveryTimeInterval": {"fromTime": "10:00", "toTime": "14:00"}}}}
    action = OutboxAction.objects.get(kind=Kind.UPDATE_ORDER)
    ops = action.result["operations"]
    assert {o["type"] for o in ops} == {"ORDER_RECIPIENT_UPDATE", "ORDER_DELIVERY_INTERVAL_UPDATE"}
    page = client.get(reverse("supervisor-order", args=[order.pk])).content.decode()
    assert all(o["id"] in page for o in ops)
    assert market.stored(courier["orderId"])["delivery"]["dates"]["fromTime"] == "10:00"
    event = order.audit_events.get(action="order.update")
    assert event.user == supervisor and "+79990001122" not in json.dumps(event.payload)


# --- the order report ----------------------------------------------------------------------------
def test_the_report_sums_the_markets_statistics_and_exports_every_line(market, supervisor, client):
    placed = [market.place([("MUG-001", 2), ("TEA-GREEN-100", 1)], created_ago=dt.timedelta(days=1)),
              market.place([("MUG-001", 1)], created_ago=dt.timedelta(days=2)),
              market.place([("SOCKS-3P", 3)], status="CANCELLED", substatus="USER_CHANGED_MIND",
                           created_ago=dt.timedelta(days=1)),
              market.place([("MUG-001", 5)], created_ago=dt.timedelta(days=40))]  # outside the period
    dbs = market.place([("NOTEBOOK-A5", 2)], created_ago=dt.timedelta(days=1), **DBS)
    fbs = Campaign.objects.get(market_id=seed.FBS_CAMPAIGN_ID)
    _login(client, supervisor)
    today = timezone.localdate()
    period = {"date_from": (today - dt.timedelta(days=7)).isoformat(), "date_to": today.isoformat()}
    mug = seed.CATALOG["MUG-001"].price

    page = client.get(reverse("supervisor-report"), {**period, "campaign": fbs.pk})
    html = page.content.decode()
    assert page.status_code == 200
    # Three orders in the period on the FBS shop: 7 units; MUG-001 leads with 3.
    assert '<th>Orders</th><td>3</td>' in html and '<th>Units</th><td>7</td>' in html
    assert ">Cancelled while processing<" in html and "<td>MUG-001</td>" in html
    assert f"<td>{3 * mug}" in html

    resp = client.get(reverse("supervisor-report-csv"), {**period, "campaign": fbs.pk})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    text = b"".join(resp.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))  # English: commas and decimal points
    assert {int(r["Order"]) for r in rows} == {p["orderId"] for p in placed[:3]}
    assert sum(int(r["Units"]) for r in rows) == 7
    mugs = [r for r in rows if r["SKU"] == "MUG-001"]
    assert sorted(float(r["Buyer paid"]) for r in mugs) == sorted([float(mug), float(2 * mug)])

    everything = client.get(reverse("supervisor-report-csv"), period)
    all_rows = list(csv.DictReader(io.StringIO(b"".join(everything.streaming_content).decode()[1:])))
    assert dbs["orderId"] in {int(r["Order"]) for r in all_rows}

    # In Russian, what a Russian spreadsheet expects: semicolons and decimal commas.
    client.post(reverse("language"), {"language": "ru"})
    ru = b"".join(client.get(reverse("supervisor-report-csv"), {**period, "campaign": fbs.pk})
                  .streaming_content).decode()
    ru_rows = list(csv.reader(io.StringIO(ru[1:]), delimiter=";"))
    assert ru_rows[0][1] == "Заказ" and len(ru_rows) == len(rows) + 1
    commissions = {row[10] for row in ru_rows[1:]} - {"0"}
    assert commissions and all("," in c and "." not in c for c in commissions), commissions


def test_the_report_says_what_is_wrong_and_changes_nothing(market, supervisor, client):
    _login(client, supervisor)
    today = timezone.localdate()
    backwards = client.get(reverse("supervisor-report"), {"date_from": today.isoformat(),
                                                          "date_to": (today - dt.timedelta(days=3)).isoformat()})
    assert backwards.status_code == 400 and "ends before it starts" in backwards.content.decode()
    too_long = client.get(reverse("supervisor-report-csv"), {"date_from": (today - dt.timedelta(days=200)).isoformat(),
                                                             "date_to": today.isoformat()})
    assert too_long.status_code == 400 and "92 days" in too_long.content.decode()
    Business.objects.filter(pk=market.business.pk).update(api_token="wrong-token")
    period = {"date_from": (today - dt.timedelta(days=3)).isoformat(), "date_to": today.isoformat()}
    page = client.get(reverse("supervisor-report"), period)
    assert page.status_code == 200 and "The Market did not give the statistics" in page.content.decode()
    csv_resp = client.get(reverse("supervisor-report-csv"), period)
    assert csv_resp.status_code == 502 and "did not give" in csv_resp.content.decode()


# --- packing a DBS order, and the audit trail of it ----------------------------------------------
def test_a_dbs_order_sends_codes_and_cargo_places_never_a_layout_and_every_step_is_audited(
        market, packer, admin_user, client):
    import random

    from fulfilment.packing import boxes, finishing, scanning
    from fulfilment.packing.kernel import attempt

    placed = market.place([("TSHIRT-M", 1), ("MUG-001", 1)], delivery_type="DELIVERY", **DBS)
    _sync(market)
    order = Order.objects.get(market_id=placed["orderId"])
    shirt, mug = seed.CATALOG["TSHIRT-M"], seed.CATALOG["MUG-001"]
    cis = seed.make_cis(shirt, random.Random(11))
    assert scanning.scan(order.pk, packer, cis).ok
    assert attempt(order.pk, packer, "new_box", boxes.new_box).ok
    assert scanning.scan(order.pk, packer, mug.ean13).ok
    line = order.boxes.get(number=2).lines.get()
    assert attempt(order.pk, packer, "remove_unit", boxes.remove_unit, line=line.pk).ok  # unscanned…
    assert scanning.scan(order.pk, packer, mug.ean13).ok  # …and scanned again
    assert attempt(order.pk, packer, "finish", finishing.finish).ok
    kinds = list(OutboxAction.objects.filter(order=order).order_by("id").values_list("kind", flat=True))
    assert kinds == [Kind.IDENTIFIERS, Kind.CARGO_PLACES]
    _deliver_all(market)
    assert attempt(order.pk, packer, "ready", finishing.ready).ok
    _deliver_all(market)

    assert not market.store.received("setOrderBoxLayout")
    body = json.loads(market.store.received("provideOrderItemIdentifiers")[-1]["body"])
    assert body == {"items": [{"id": order.items.get(offer_id="TSHIRT-M").market_item_id,
                               "instances": [{"cis": cis}]}]}
    assert market.store.received("setOrderShipmentBoxes")[-1]["body"] == '{"boxes": [{}, {}]}'
    assert market.stored(placed["orderId"])["substatus"] == "READY_TO_SHIP"

    events = list(order.audit_events.select_related("user").order_by("id"))
    by_packer = {e.action for e in events if e.user == packer}
    assert {"scan", "pack.new_box", "pack.remove_unit", "pack.finish", "pack.ready", "outbox.identifiers",
            "outbox.cargo_places", "outbox.status"} <= by_packer, by_packer
    assert all(e.at is not None and isinstance(e.payload, dict) for e in events)
    assert {e.payload.get("kind") for e in events if e.action == "outbox.delivered"} >= {
        Kind.IDENTIFIERS, Kind.CARGO_PLACES, Kind.STATUS}
    # Shown per order, and filterable in the admin.
    _login(client, packer)
    history = client.get(reverse("order", args=[order.pk])).content.decode()
    assert "Finished packing" in history and "pavel" in history and "pack.finish" not in history
    client.force_login(admin_user)
    filtered = client.get("/admin/orders/auditevent/", {"action": "pack.finish"}).content.decode()
    start = filtered.index('id="result_list"')
    results = filtered[start:filtered.index("</table>", start)]
    assert results.count('field-action">pack.finish<') == 1 and 'field-action">scan<' not in results


def test_the_delivery_interval_is_hh_mm_both_ways(market):
    """Issue 13.16: the schema says ``format: time`` but the descriptions and TimeIntervalDTO's pattern
    say HH:MM: the Market takes and returns ``10:00``; the client reads it in both order shapes, and
    the sandbox refuses what the pattern refuses."""
    from fulfilment.market.errors import MarketBadRequest
    from fulfilment.market.types import OrdersFilter

    p = market.place([("MUG-001", 1)], delivery_type="DELIVERY", **LAAS)
    client = market.client()
    day = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(MarketBadRequest):
        client.update_order(seed.LAAS_CAMPAIGN_ID, p["orderId"], delivery_dates=(day, day),
                            delivery_times=("10:00:00", "14:00:00"))
    client.update_order(seed.LAAS_CAMPAIGN_ID, p["orderId"], delivery_dates=(day, day),
                        delivery_times=("10:00", "14:00"))
    assert market.stored(p["orderId"])["delivery"]["dates"]["fromTime"] == "10:00"
    business = client.get_business_orders(seed.DEMO_BUSINESS_ID, OrdersFilter(order_ids=(p["orderId"],))).orders[0]
    v2 = client.get_order(seed.LAAS_CAMPAIGN_ID, p["orderId"])
    for order in (business, v2):
        dates = order.delivery_dates
        assert (dates.from_date, dates.to_date, dates.from_time, dates.to_time) == (
            day, day, dt.time(10, 0), dt.time(14, 0))


def test_the_sandbox_refuses_update_order_outside_laas_as_the_market_does(market):
    """updateOrder is tagged laas only: for a DBS (or FBS) order the Market answers 400 in its orders'
    error shape, and nothing changes."""
    from fulfilment.market.errors import MarketBadRequest

    p = market.place([("MUG-001", 1)], delivery_type="DELIVERY", **DBS)
    with pytest.raises(MarketBadRequest) as refused:
        market.client().update_order(seed.DBS_CAMPAIGN_ID, p["orderId"], customer={
            "firstName": "Анна", "lastName": "Петрова", "phone": "+79990001122"})
    assert refused.value.errors[0].code == "METHOD_NOT_ALLOWED_FOR_PLACEMENT"
    assert "buyer" not in market.stored(p["orderId"])["_sandbox"] or market.stored(p["orderId"])["_sandbox"][
        "buyer"].get("lastName") != "Петрова"
