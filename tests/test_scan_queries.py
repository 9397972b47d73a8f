"""What one scan (or a button of the order screen) asks the database: the order once, under its lock
(no read of its own before), and no session; an order that does not exist is still a 404 whatever
the request holds."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.models import AuditEvent, ProductBarcode
from fulfilment.sandbox.seed import CATALOG

from .builders import make_linked_order

pytestmark = pytest.mark.django_db
MUG = CATALOG["MUG-001"].ean13


def post_scan(client, order_id: int, code: str, version: int | None = None):
    body = json.dumps({"scans": [{"id": str(uuid.uuid4()), "code": code}], "version": version})
    return client.post(f"/orders/{order_id}/scan/", body, content_type="application/json", HTTP_HX_REQUEST="true")


def test_a_scan_reads_the_order_once_under_its_lock_and_no_session(client, packer, cached_sessions):
    order = make_linked_order(items=(("SKU-1", 1), ("MUG-001", 5)))
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    client.force_login(packer)
    client.get(f"/orders/{order.pk}/")
    first = post_scan(client, order.pk, MUG)
    version = int(re.search(rb'data-version="(\d+)"', first.content).group(1))
    with CaptureQueriesContext(connection) as ctx:
        response = post_scan(client, order.pk, MUG, version)
    assert response.status_code == 200 and response["X-Pack-Update"] == "partial"
    sql = [q["sql"] for q in ctx.captured_queries]
    order_reads = [q for q in sql if q.startswith("SELECT") and 'FROM "orders_order"' in q]
    # SQLite has no row locks (a write takes the database): Django sends no FOR UPDATE there.
    assert len(order_reads) == 1 and ("FOR UPDATE" in order_reads[0] or connection.vendor == "sqlite")
    assert not [q for q in sql if "django_session" in q]
    # Under the order's lock (the scan's own transaction, a savepoint here): two round trips, the
    # locked read with the state and the barcode's facts, then the writes (was eight).
    begin = next(i for i, q in enumerate(sql) if q.startswith("SAVEPOINT"))
    end = next(i for i, q in enumerate(sql) if q.startswith("RELEASE SAVEPOINT"))
    if connection.vendor == "postgresql":
        assert end - begin - 1 == 2, sql[begin:end]
        assert "orders_productbarcode" in sql[begin + 1] and "orders_auditevent" in sql[begin + 2]


@pytest.mark.parametrize("send", [
    lambda client, pk: post_scan(client, pk, MUG),
    lambda client, pk: post_scan(client, pk, "bad\x00code"),  # refused before the lock, recorded otherwise
    lambda client, pk: client.post(f"/orders/{pk}/scan/", "not json", content_type="application/json"),
    lambda client, pk: client.post(f"/orders/{pk}/scan/", {"id": str(uuid.uuid4()), "code": MUG}),
    lambda client, pk: client.post(f"/orders/{pk}/scan/", {"id": "not a uuid", "code": MUG}),
], ids=["scan", "bad text", "bad batch", "form", "form without its id"])
def test_a_scan_of_an_order_that_does_not_exist_is_404_and_records_nothing(client, packer, send):
    client.force_login(packer)
    assert send(client, 999999).status_code == 404
    assert not AuditEvent.objects.exists()


def test_a_button_reads_the_order_under_its_lock_then_for_the_answer_only(client, packer, cached_sessions):
    order = make_linked_order(items=(("MUG-001", 2),))
    client.force_login(packer)
    client.get(f"/orders/{order.pk}/")
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(reverse("order-new-box", args=[order.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    order_reads = [q["sql"] for q in ctx.captured_queries
                   if q["sql"].startswith("SELECT") and 'FROM "orders_order"' in q["sql"]]
    assert len(order_reads) == 2 and ("FOR UPDATE" in order_reads[0] or connection.vendor == "sqlite"), order_reads


@pytest.mark.parametrize("name,data", [("order-new-box", {}), ("order-finish", {}), ("order-ready", {}),
                                       ("order-set-current-box", {"box": "x"})])
def test_a_button_on_an_order_that_does_not_exist_is_404_and_records_nothing(client, packer, name, data):
    client.force_login(packer)
    assert client.post(reverse(name, args=[999999]), data, HTTP_HX_REQUEST="true").status_code == 404
    assert not AuditEvent.objects.exists()


def test_the_compiled_locked_read_gives_what_the_orm_gives(packer):
    from django.db import transaction
    from django.forms.models import model_to_dict

    from fulfilment.packing import kernel

    order = make_linked_order(items=(("MUG-001", 2),))
    seen = uuid.uuid4()
    AuditEvent.objects.create(order=order, user=packer, action="pack.scan", payload={}, request_id=seen)
    with transaction.atomic():
        for request_id, was_seen in ((None, None), (uuid.uuid4(), False), (seen, True)):
            fast = kernel._locked_order(order.pk, request_id)
            orm = kernel._orders(order.pk, request_id).get()
            assert model_to_dict(fast) == model_to_dict(orm) and fast._state.adding is False
            assert getattr(fast, "seen", None) == was_seen
            with CaptureQueriesContext(connection) as ctx:
                assert model_to_dict(fast.campaign) == model_to_dict(orm.campaign)
            assert not ctx.captured_queries  # the shop came in the same read
        with pytest.raises(kernel.Order.DoesNotExist):
            kernel._locked_order(999999, uuid.uuid4())
    from fulfilment.orders.compiled import _CACHE

    locked_reads = [c for (_db, key), c in _CACHE.items() if key.startswith("locked-order:")]
    assert len(locked_reads) == 2 and all(c.ok for c in locked_reads)  # compiled, not the ORM's fallback


def test_the_barcode_facts_are_read_with_their_sql_compiled_once(packer):
    from fulfilment.orders.catalogue import barcode_facts
    from fulfilment.orders.compiled_sql import _SQL
    from fulfilment.orders.models import CatalogueOffer

    order = make_linked_order(items=(("MUG-001", 2),))
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    CatalogueOffer.objects.create(business=order.campaign.business, offer_id="MUG-002", in_catalogue=True,
                                  barcodes=[MUG], fetched_at=timezone.now())
    facts = barcode_facts(order.campaign_id, order.campaign.business_id, "0" + MUG)
    assert facts.linked and facts.offer_id == "MUG-001" and facts.listed == {"MUG-002"}
    assert all(c.ok for (_db, key), (_sql, c) in _SQL.items() if key == "barcode-facts") and _SQL


def test_writes_waiting_for_the_bump_are_sent_before_anything_else_reads(packer):
    """A unit added to an existing line waits to go with the version bump; a read in between sees it."""
    from django.db import transaction

    from fulfilment.orders.models import BoxLine
    from fulfilment.packing import boxes, kernel

    order = make_linked_order(items=(("MUG-001", 3),))
    with kernel.locked(order.pk, packer) as op:
        boxes.place_unit(op, next(iter(op.state.items.values())))
    with kernel.locked(order.pk, packer) as op:
        boxes.place_unit(op, next(iter(op.state.items.values())))
        if connection.vendor == "postgresql":
            assert op.writes.pending  # not sent yet
        assert BoxLine.objects.get(box__order=order).full_count == 2  # sent before this read
        assert not op.writes.pending
    order.refresh_from_db()
    assert order.version == 2 and order.layout_version == 2
    # An audit event whose request id is taken fails the whole operation, version and unit with it.
    taken = uuid.uuid4()
    AuditEvent.objects.create(order=order, action="scan", payload={}, request_id=taken)
    with pytest.raises(IntegrityError), transaction.atomic(), kernel.locked(order.pk, packer) as op:
        boxes.place_unit(op, next(iter(op.state.items.values())))
        kernel.audit(op, "scan", {}, taken)
    order.refresh_from_db()
    assert order.version == 2 and BoxLine.objects.get(box__order=order).full_count == 2


def test_the_facts_read_with_the_lock_are_what_barcode_facts_gives(packer):
    """The scan's facts come with its locked read, for the order's shop; and the catalogue rows read
    are only those whose barcodes can be the GTIN, which still finds it however the catalogue wrote it."""
    from fulfilment.orders.catalogue import barcode_facts
    from fulfilment.orders.models import CatalogueOffer
    from fulfilment.packing import kernel

    order = make_linked_order(items=(("MUG-001", 2),))
    business = order.campaign.business
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    for sku, codes in (("EAN", [MUG]), ("GTIN14", ["0" + MUG]), ("SPACED", [f" {MUG} "]), ("MORE", ["X1", MUG]),
                       ("OTHER", ["4607086560011"]), ("LONGER", [MUG + "5"])):
        CatalogueOffer.objects.create(business=business, offer_id=sku, barcodes=codes, fetched_at=timezone.now())
    facts = barcode_facts(order.campaign_id, business.pk, "0" + MUG)
    assert facts.listed == {"EAN", "GTIN14", "SPACED", "MORE"} and facts.offer_id == "MUG-001"
    with kernel.locked(order.pk, packer, gtin="0" + MUG) as op:
        if connection.vendor == "postgresql":
            assert op.facts == {"0" + MUG: facts}


def test_finish_and_ready_ask_four_statements_under_the_lock(client, packer, cached_sessions):
    """The locked read, the outbox's check, the action's INSERT (its id is needed), then the rest with
    the version bump (finish was eight, ready five); the SQL compiled once; the outbox and the audit
    trail as before."""
    from fulfilment.orders.compiled_sql import _SQL
    from fulfilment.orders.models import OutboxAction
    from fulfilment.packing.writes import _UPDATES

    order = make_linked_order(items=(("MUG-001", 2),))
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    older = OutboxAction.objects.create(campaign=order.campaign, order=order, kind=OutboxAction.Kind.LAYOUT,
                                        payload={"boxes": []})
    client.force_login(packer)
    client.get(f"/orders/{order.pk}/")
    for _ in range(2):
        post_scan(client, order.pk, MUG)
    for name in ("order-finish", "order-ready"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(reverse(name, args=[order.pk]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and b'data-state="ok"' in response.content
        sql = [q["sql"] for q in ctx.captured_queries]
        begin = next(i for i, q in enumerate(sql) if q.startswith("SAVEPOINT"))
        end = next(i for i, q in enumerate(sql) if q.startswith("RELEASE SAVEPOINT"))
        if connection.vendor == "postgresql":
            assert end - begin - 1 == 4, sql[begin:end]
    order.refresh_from_db()
    assert order.layout_sent_version == order.layout_version
    older.refresh_from_db()
    assert older.state == OutboxAction.State.SUPERSEDED
    layout, status = OutboxAction.objects.filter(order=order).exclude(pk=older.pk).order_by("id")
    assert (layout.kind, layout.state, layout.created_by) == (OutboxAction.Kind.LAYOUT, "PENDING", packer)
    assert status.kind == OutboxAction.Kind.STATUS and status.payload["order"]["substatus"] == "READY_TO_SHIP"
    trail = list(AuditEvent.objects.filter(order=order, action__in=(
        "outbox.layout", "pack.finish", "outbox.status", "pack.ready")).order_by("id").values_list("action", "payload"))
    assert [a for a, _p in trail] == ["outbox.layout", "pack.finish", "outbox.status", "pack.ready"]
    assert trail[0][1] == {"action": layout.pk} and trail[2][1] == {"action": status.pk}
    compiled = [c for (_db, key), (_sql, c) in (_SQL | _UPDATES).items()
                if key.startswith(("outbox-supersede", "outbox-removal-pending", "outbox-open:", "finish-"))]
    assert len(compiled) == 5 and all(c.ok for c in compiled)
