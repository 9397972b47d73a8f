"""Migration 0010: payloads still to be sent, stored in the old shapes, become the changes of
``market.changes`` (a removal its own kind); finished ones keep theirs; reverse gives the old back."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from fulfilment.market import changes as ch
from fulfilment.market.types import BoxLine, DigitalItem, Instance, PartialCount
from fulfilment.orders import outbox
from fulfilment.orders.models import OutboxAction

from .builders import make_order

GS = "\x1d"
CIS = "0104601234567893215Abc.d" + GS + "91EE10" + GS + "92" + "x" * 44
BEFORE, AFTER = [("orders", "0010_heartbeat")], [("orders", "0011_outbox_typed_changes")]


def old_rows(order_market_id: int) -> list[tuple[str, str, dict, str, ch.Change | None]]:
    """(kind, state, old payload, kind after, change after) as the outbox stored them before 0010."""
    return [
        ("LAYOUT", "PENDING", {"boxes": [[{"id": 11, "fullCount": 2, "instances": [{"cis": CIS}]}],
                                         [{"id": 12, "partialCount": {"current": 1, "total": 2}}]]},
         "LAYOUT", ch.BoxLayout(((BoxLine(11, 2, instances=(Instance(cis=CIS),)),),
                                 (BoxLine(12, partial=PartialCount(1, 2)),)))),
        ("LAYOUT", "FAILED", {"boxes": [[{"id": 11, "fullCount": 1}]], "allowRemove": True,
                              "removal": {"item": 12, "count": 0}},
         "REMOVAL", ch.ItemRemoval(ch.BoxLayout(((BoxLine(11, 1),),), allow_remove=True), 12, 0)),
        ("ITEMS", "PENDING", {"counts": {"11": 1, "12": 2}, "removal": {"item": 11, "count": 1}},
         "REMOVAL", ch.ItemRemoval(ch.ItemCounts((ch.ItemCount(11, 1), ch.ItemCount(12, 2))), 11, 1)),
        ("STATUS", "SENDING", {"status": "PROCESSING", "substatus": "READY_TO_SHIP"},
         "STATUS", ch.StatusChange("PROCESSING", "READY_TO_SHIP")),
        ("BULK_STATUS", "PENDING", {"orders": [{"id": 5, "status": "PROCESSING", "substatus": "READY_TO_SHIP"}]},
         "BULK_STATUS", ch.StatusChanges((ch.OrderStatusChange(5, "PROCESSING", "READY_TO_SHIP"),))),
        ("IDENTIFIERS", "FAILED", {"items": {"11": [{"cis": CIS}], "12": [{"gtd": "10702030/010127/0001234",
                                                                          "countryCode": "CN"}]}},
         "IDENTIFIERS", ch.Identifiers((ch.ItemInstances(11, (Instance(cis=CIS),)),
                                        ch.ItemInstances(12, (Instance(gtd="10702030/010127/0001234",
                                                                       country_code="CN"),))))),
        ("CARGO_PLACES", "PENDING", {"shipmentId": 99, "places": 3}, "CARGO_PLACES", ch.CargoPlaces(99, 3)),
        ("CANCELLATION", "PENDING", {"accepted": False, "reason": "ORDER_DELIVERED"},
         "CANCELLATION", ch.CancellationDecision(False, "ORDER_DELIVERED")),
        ("DIGITAL_CODES", "PENDING", {"items": [{"id": 11, "codes": ["K-1", "K-2"], "slip": "Activate",
                                                "activate_till": "2027-01-02"}]},
         "DIGITAL_CODES", ch.DigitalCodes((DigitalItem(11, ("K-1", "K-2"), "Activate", dt.date(2027, 1, 2)),))),
        ("UPDATE_ORDER", "PENDING", {"customer": {"firstName": "Anna", "lastName": "Petrova", "phone": "+79990001122"},
                                     "deliveryDates": ["2027-01-02", "2027-01-03"],
                                     "deliveryTimes": ["10:00", "14:00"]},
         "UPDATE_ORDER", ch.OrderUpdate(order_market_id, ch.Recipient("Anna", "Petrova", "+79990001122").fields(),
                                        (dt.date(2027, 1, 2), dt.date(2027, 1, 3)), ("10:00", "14:00"))),
        # Finished: kept as it was sent.
        ("STATUS", "DELIVERED", {"status": "CANCELLED", "substatus": "SHOP_FAILED"}, "STATUS", None),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_old_payloads_into_changes_and_back():
    order = make_order()
    rows = old_rows(order.market_id)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old_action = executor.loader.project_state(BEFORE).apps.get_model("orders", "OutboxAction")
        ids = [old_action.objects.create(campaign_id=order.campaign_id, order_id=order.pk, kind=kind, state=state,
                                         payload=payload).pk for kind, state, payload, _, _ in rows]
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        for pk, (_, _, payload, kind, change) in zip(ids, rows, strict=True):
            action = OutboxAction.objects.get(pk=pk)
            assert action.kind == kind
            if change is None:
                assert action.payload == payload  # history is not rewritten
                assert outbox.sent_change(action) is None
            else:
                assert outbox.change_of(action) == change
                assert action.payload == change.to_json()
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        for pk, (kind, _, payload, _, _) in zip(ids, rows, strict=True):
            assert OutboxAction.objects.filter(pk=pk).values_list("kind", "payload").get() == (kind, payload)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
