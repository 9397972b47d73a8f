"""Issue 17: the Shipments screen counts in the database what a shipment's board counts in Python
(the screen read the day's 5 000 orders and their boxes as objects only to count them)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfilment.orders.models import AuditEvent, Box, HandoverScan, Shipment
from fulfilment.packing.shipment_board import board, day_counts

from .builders import make_campaign, make_order

pytestmark = pytest.mark.django_db

FIELDS = ("planned", "packed", "ready", "labelled", "not_ready")


def market_layout(*barcodes: str | None) -> dict:
    return {"delivery": {"boxesLayout": [{"boxId": n, "barcode": b} if b is not None else {"boxId": n}
                                         for n, b in enumerate(barcodes, start=1)]}}


def every_case(user) -> Shipment:
    """A shipment with an order of every kind the counts tell apart, and one not in the dashboard."""
    shop = make_campaign()
    at_market = make_order(campaign=shop, substatus="READY_TO_SHIP", raw=market_layout("M-1", "", None, "M-2"))
    packed_here = make_order(campaign=shop, substatus="READY_TO_SHIP", layout_sent_version=1)
    Box.objects.create(order=packed_here, number=1, barcode="P-1")
    Box.objects.create(order=packed_here, number=2, barcode="")
    no_labels = make_order(campaign=shop, substatus="SHIPPED", raw=market_layout(""))
    on_its_way = make_order(campaign=shop, status="DELIVERY", substatus="", layout_version=2,
                            labels_printed_version=2, raw=market_layout("D-1"))
    sent = make_order(campaign=shop, substatus="STARTED", layout_sent_version=1, layout_version=1,
                      labels_printed_version=1)
    stale_labels = make_order(campaign=shop, substatus="STARTED", layout_version=3, labels_printed_version=2)
    waiting = make_order(campaign=shop, status="UNPAID", substatus="")
    cancelled = make_order(campaign=shop, status="CANCELLED", substatus="", layout_version=1,
                           labels_printed_version=1, raw=market_layout("C-1"))
    delivered = make_order(campaign=shop, status="DELIVERED", substatus="DELIVERED_USER_RECEIVED",
                           raw=market_layout("X-1"))  # with the buyer already: nothing to hand over
    elsewhere = make_order(campaign=make_campaign(), substatus="READY_TO_SHIP")  # same id, another shop
    orders = [at_market, packed_here, no_labels, on_its_way, sent, stale_labels, waiting, cancelled, delivered]
    shipment = Shipment.objects.create(campaign=shop, market_id=80_000_000 + at_market.market_id,
                                       shipment_date=timezone.localdate(), status="OUTBOUND_CREATED",
                                       order_ids=[o.market_id for o in orders] + [99_999_999, elsewhere.market_id + 1])
    for order, code in ((at_market, "M-1"), (packed_here, "P-1"), (cancelled, "C-1"), (None, "LOOSE-1")):
        HandoverScan.objects.create(shipment=shipment, order=order, barcode=code, user=user)
    return shipment


def test_the_screen_counts_what_the_board_counts(supervisor):
    shipment = every_case(supervisor)
    empty = Shipment.objects.create(campaign=shipment.campaign, market_id=1, shipment_date=timezone.localdate(),
                                    status="OUTBOUND_CREATED", order_ids=[])
    counts = {c.shipment.pk: c for c in day_counts(timezone.localdate())}
    for s in (shipment, empty):
        b = board(s)
        c = counts[s.pk]
        assert [getattr(c, f) for f in FIELDS] == [getattr(b, f) for f in FIELDS]
        assert (c.box_count, c.scanned_count) == (len(b.boxes), len(b.scanned))
    c = counts[shipment.pk]
    # The SHIPPED order without a labelled box holds the shipment up: nothing of it to scan.
    assert (c.planned, c.packed, c.ready, c.labelled, c.not_ready) == (9, 5, 4, 2, 6)
    assert (c.box_count, c.scanned_count) == (4, 3)


def test_the_screen_reads_no_order_of_the_day(client, supervisor):
    """The counts come counted: no order row, no box of an order, is read into Python for the screen."""
    every_case(supervisor)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/shipments/").content.decode()
    assert '">3 / 4</td>' in page
    read = [q["sql"] for q in captured.captured_queries
            if q["sql"].startswith('SELECT "orders_order"') or q["sql"].startswith('SELECT "orders_box"')]
    assert read == []


def test_a_confirmed_shipment_counts_the_orders_of_its_act_as_its_board_does(supervisor):
    shipment = every_case(supervisor)
    in_act = shipment.order_ids[:3]
    Shipment.objects.filter(pk=shipment.pk).update(status="OUTBOUND_CONFIRMED")
    AuditEvent.objects.create(action="shipment.confirm", payload={"shipment": shipment.market_id, "orders": in_act})
    shipment.refresh_from_db()
    b = board(shipment)
    c = {c.shipment.pk: c for c in day_counts(timezone.localdate())}[shipment.pk]
    assert [getattr(c, f) for f in FIELDS] == [getattr(b, f) for f in FIELDS]
    assert (c.box_count, c.scanned_count) == (len(b.boxes), len(b.scanned)) and c.planned == 3
