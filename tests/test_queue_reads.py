"""The queue's compiled reads (packing/queue_reads.py) find what the ORM's queryset of the same filters
finds, in the same order, with the same counts by date and the same items counted per row."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.utils import timezone

from fulfilment.orders.models import OrderItem
from fulfilment.packing.queue_reads import Selection

from .builders import make_campaign, make_order


def _orders() -> tuple[object, object]:
    today = timezone.localdate()
    shop, other = make_campaign(), make_campaign()
    for i in range(14):
        order = make_order(campaign=shop if i % 3 else other, items=tuple((f"S{i}-{k}", k + 1) for k in range(i % 3)),
                           shipment_date=today + dt.timedelta(days=i % 4) if i % 5 else None,
                           substatus=("STARTED", "PACKAGING", "READY_TO_SHIP")[i % 3],
                           buyer_type="BUSINESS" if i % 4 == 0 else "PERSON", flag_reason="x" if i % 6 == 0 else "")
        OrderItem.objects.filter(order=order, offer_id__endswith="-1").update(
            required_instance_types=["CIS"] if i % 2 else ["UIN"])
    return shop, other


@override_settings(QUEUE_PAGE_SIZE=4)
def test_every_filter_reads_what_the_orm_reads(client, supervisor):
    shop, _other = _orders()
    client.force_login(supervisor)
    today = timezone.localdate().isoformat()
    for params in ({}, {"campaign": shop.pk}, {"status": "PROCESSING/READY_TO_SHIP"}, {"status": "PROCESSING"},
                   {"buyer": "BUSINESS"}, {"codes": "1"}, {"flagged": "1"}, {"date": today}, {"q": "S1-"},
                   {"q": "nothing"}, {"codes": "1", "buyer": "PERSON", "campaign": shop.pk}, {"page": "2"},
                   {"page": "3", "status": "PROCESSING"}, {"status": "/STARTED"}):
        for _kept in range(2):  # compiled at the first request, run again at the second
            resp = client.get("/queue/", params)
            assert resp.status_code == 200, params
            chosen = Selection(**_selection(params, shop))
            orm = chosen.orders().order_by("shipment_date", "market_id")
            page = int(params.get("page", 1))
            expected = list(orm.values_list("pk", flat=True)[(page - 1) * 4:page * 4])
            rows = resp.context["page"].object_list
            assert [r.pk for r in rows] == expected, params
            by_date = {g["shipment_date"]: g["n"] for g in resp.context["groups"]}
            assert sum(by_date.values()) == orm.count() == resp.context["total"], params
            for row in rows:
                items = list(OrderItem.objects.filter(order_id=row.pk).values_list("count", flat=True))
                assert (row.lines, row.units) == (len(items), sum(items) if items else None), params


def _selection(params: dict, shop) -> dict:
    chosen: dict = {}
    if "status" in params:
        chosen["status"], _sep, chosen["substatus"] = params["status"].partition("/")
    if "campaign" in params:
        chosen["campaign"] = shop.pk
    if "buyer" in params:
        chosen["buyer"] = params["buyer"]
    chosen["codes"] = params.get("codes") == "1"
    chosen["flagged"] = params.get("flagged") == "1"
    if "date" in params:
        chosen["date"] = dt.date.fromisoformat(params["date"])
    if "q" in params:
        base = Selection(**chosen).orders()
        chosen["ids"] = list(base.filter(items__offer_id__icontains=params["q"]).values_list("pk", flat=True)
                             .distinct())
    return chosen
