"""Outbox payloads become ``market.changes`` changes, encoded by them; a removal becomes its own kind.

The actions still to be sent (PENDING, SENDING, FAILED) are converted from the shapes the outbox
stored before (see ``outbox._send`` before this migration) to the changes' JSON, and back on
reverse. Finished actions keep the shape they were sent in. The old shapes are read here; the
Market's parts of them (box lines, codes) are read and written by ``market/``, as everywhere else.
"""

import datetime as dt

from django.db import migrations, models

from fulfilment.market import changes as ch
from fulfilment.market.types import BoxLine, DigitalItem, Instance

OPEN_STATES = ("PENDING", "SENDING", "FAILED")


def _layout(p):
    return ch.BoxLayout(tuple(tuple(BoxLine.from_json(line) for line in box) for box in p["boxes"]),
                        bool(p.get("allowRemove")))


def _counts(p):
    return ch.ItemCounts(tuple(ch.ItemCount(int(k), int(v)) for k, v in p["counts"].items()))


def _old_to_change(kind, p, order_market_id):
    """(kind, change) for a payload of the old shape; None when it is already a change's JSON."""
    if kind == "LAYOUT":
        if p.get("boxes") and not isinstance(p["boxes"][0], list):
            return None
        layout = _layout(p)
        if p.get("removal"):
            removal = p["removal"]
            return "REMOVAL", ch.ItemRemoval(layout, int(removal["item"]), int(removal["count"]))
        return kind, layout
    if kind == "ITEMS":
        if "counts" not in p:
            return None
        if p.get("removal"):
            removal = p["removal"]
            return "REMOVAL", ch.ItemRemoval(_counts(p), int(removal["item"]), int(removal["count"]))
        return kind, _counts(p)
    if kind == "STATUS":
        return None if "order" in p else (kind, ch.StatusChange(p["status"], p.get("substatus") or None))
    if kind == "BULK_STATUS":
        return kind, ch.StatusChanges.from_json(p)  # the same shape: stored again as the change writes it
    if kind == "IDENTIFIERS":
        if isinstance(p["items"], list):
            return None
        return kind, ch.Identifiers(tuple(ch.ItemInstances(int(k), tuple(Instance.from_json(i) for i in v))
                                          for k, v in p["items"].items()))
    if kind == "CARGO_PLACES":
        return None if "boxes" in p else (kind, ch.CargoPlaces(int(p["shipmentId"]), int(p["places"])))
    if kind == "CANCELLATION":
        return kind, ch.CancellationDecision(bool(p["accepted"]), p.get("reason") or None)
    if kind == "DIGITAL_CODES":
        return kind, ch.DigitalCodes(tuple(
            DigitalItem(int(i["id"]), tuple(i["codes"]), i["slip"], dt.date.fromisoformat(i["activate_till"]))
            for i in p["items"]))
    if kind == "UPDATE_ORDER":
        if "order" in p:
            return None
        dates, times = p.get("deliveryDates"), p.get("deliveryTimes")
        return kind, ch.OrderUpdate(
            order_market_id, tuple(sorted((p.get("customer") or {}).items())),
            (dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[1])) if dates else None,
            (times[0], times[1]) if times else None)
    return None


def _change_to_old(kind, p):
    """(kind, payload) in the old shape for a change's JSON; None when it is of the old shape already."""
    cls = {"LAYOUT": ch.BoxLayout, "STATUS": ch.StatusChange, "BULK_STATUS": ch.StatusChanges,
           "IDENTIFIERS": ch.Identifiers, "ITEMS": ch.ItemCounts, "CARGO_PLACES": ch.CargoPlaces,
           "CANCELLATION": ch.CancellationDecision, "DIGITAL_CODES": ch.DigitalCodes,
           "UPDATE_ORDER": ch.OrderUpdate, "REMOVAL": ch.ItemRemoval}[kind]
    try:
        change = cls.from_json(p)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    removal = None
    if isinstance(change, ch.ItemRemoval):
        removal = {"item": change.item_id, "count": change.count}
        change = change.change
    if isinstance(change, ch.BoxLayout):
        body = change.body()
        out = {"boxes": [box["items"] for box in body["boxes"]]}
        if change.allow_remove:
            out["allowRemove"] = True
        if removal:
            out["removal"] = removal
        return "LAYOUT", out
    if isinstance(change, ch.ItemCounts):
        out = {"counts": {str(i.item_id): i.count for i in change.items}}
        if removal:
            out["removal"] = removal
        return "ITEMS", out
    if isinstance(change, ch.StatusChange):
        return kind, change.body()["order"]
    if isinstance(change, ch.Identifiers):
        return kind, {"items": {str(i["id"]): i["instances"] for i in change.body()["items"]}}
    if isinstance(change, ch.CargoPlaces):
        return kind, {"shipmentId": change.shipment_id, "places": change.places}
    if isinstance(change, ch.OrderUpdate):
        out = {}
        if change.customer:
            out["customer"] = dict(change.customer)
        if change.delivery_dates and change.delivery_times:
            out["deliveryDates"] = [d.isoformat() for d in change.delivery_dates]
            out["deliveryTimes"] = list(change.delivery_times)
        return kind, out
    return kind, change.to_json()  # bulk status, cancellation and digital keys kept their shape


def forwards(apps, schema_editor):
    OutboxAction = apps.get_model("orders", "OutboxAction")
    for action in OutboxAction.objects.filter(state__in=OPEN_STATES).select_related("order").iterator():
        converted = _old_to_change(action.kind, action.payload, action.order.market_id if action.order else 0)
        if converted is not None:
            action.kind, action.payload = converted[0], converted[1].to_json()
            action.save(update_fields=["kind", "payload"])


def backwards(apps, schema_editor):
    OutboxAction = apps.get_model("orders", "OutboxAction")
    for action in OutboxAction.objects.filter(state__in=OPEN_STATES).iterator():
        converted = _change_to_old(action.kind, action.payload)
        if converted is not None:
            action.kind, action.payload = converted
            action.save(update_fields=["kind", "payload"])


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0010_heartbeat'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxaction',
            name='kind',
            field=models.CharField(choices=[('LAYOUT', 'box layout'), ('STATUS', 'status change'), ('BULK_STATUS', 'status change of several orders'), ('IDENTIFIERS', 'marking codes (DBS)'), ('CANCELLATION', 'cancellation decision'), ('ITEMS', 'item quantities (DBS)'), ('CARGO_PLACES', 'cargo places (DBS)'), ('DIGITAL_CODES', 'digital goods keys'), ('UPDATE_ORDER', 'recipient or delivery interval'), ('REMOVAL', 'item removed or reduced')], max_length=16, verbose_name='kind'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
