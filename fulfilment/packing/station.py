"""The pack station's command barcodes beyond the boxes and finishing: print the labels, open the next
order, undo the last scan, split the unit just scanned, report a problem; and the one line that says
what the packer is expected to do next.

Every step can be done by scan (Odoo Barcode and ShipStation stations work so): the commands are
printed on the scanner sheet and do what the screen's buttons do.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from fulfilment.orders.models import AuditEvent, Box, BoxLine, Instance, OutboxAction, Problem

from . import boxes, finishing
from .kernel import Feedback, Operation, OrderStateRefused, Refused
from .state import PackState

# What is scanned to change nothing on the order: never the "last scan" an undo takes back.
PASSIVE_COMMANDS = frozenset({"CMD-LABELS", "CMD-NEXT", "CMD-UNDO"})
# Audit actions that change boxes, units or codes: an undo looks back through these only.
LAYOUT_ACTIONS = ("scan", "scan.item_chosen", "item.removed")
UNDO_LOOKBACK = 200


def labels_problem(order: Any, state: PackState) -> str | None:
    """Why the Market's box labels cannot be printed now, or None when they can."""
    if state.is_dbs:
        return _("This order has no box labels from the Market.")
    if order.layout_sent_version is None:
        return _("The labels come once the Market has the boxes: finish packing first.")
    if order.layout_sent_version != order.layout_version:
        return _("The boxes changed after they were sent: finish again, then print the labels.")
    action = (OutboxAction.objects.filter(order=order, kind__in=(
        OutboxAction.Kind.LAYOUT, OutboxAction.Kind.REMOVAL, OutboxAction.Kind.CARGO_PLACES)).order_by("-id").first())
    if action is None or action.state != OutboxAction.State.DELIVERED:
        return _("The Market has not accepted the boxes yet: the labels print as soon as it does.")
    return None


def print_labels(op: Operation) -> Feedback:
    """CMD-LABELS: the station prints the labels again (the browser loads the PDF and prints it)."""
    problem = labels_problem(op.order, op.state)
    if problem:
        raise OrderStateRefused(problem)
    fb = op.ok(_("Printing the labels."))
    fb.print_labels = True
    return fb


def open_next(op: Operation) -> Feedback:
    """CMD-NEXT: open the next order to pack (earliest shipment first, not taken by another packer)."""
    nxt = finishing.next_order(op.order, op.user)
    if nxt is None:
        raise Refused(_("No more orders to pack."))
    return Feedback(True, _("Opening order %(n)s.") % {"n": nxt.market_id}, redirect=reverse("order", args=[nxt.pk]))


# How many boxes one unit may travel in: the commands, the sheet and the order screen's choice.
SPLIT_PARTS = range(2, 7)


def split_last(parts: int):
    """CMD-SPLIT-n: the unit just scanned (the last line of the current box) travels in ``n`` boxes."""

    def command(op: Operation) -> Feedback:
        op.check_open()
        cur = op.state.current
        whole = [line for line in (cur.lines if cur else []) if line.full_count]
        if not whole:
            raise Refused(_("Scan the unit to split first: the split applies to the unit just scanned."))
        return boxes.split(op, item=max(whole, key=lambda line: line.pk).item_id, parts=parts)

    return command


def report(problem: str):
    """CMD-PROBLEM-<kind>: the order goes to the supervisor with that problem."""

    def command(op: Operation) -> Feedback:
        return finishing.report_problem(op, problem, note=_("Reported by scanning a command barcode."))

    return command


PROBLEM_COMMANDS = {f"CMD-PROBLEM-{p.value}": report(p.value) for p in Problem}


def effect(op: Operation, boxes_before: set[int]) -> dict[str, list[int]] | None:
    """What a scan put in (unit lines, codes, boxes it opened), kept in its audit record for an undo."""
    lines = [pk for _number, pk, _new in op.lines]
    opened = [op.state.boxes[n].box.pk for n in sorted(set(op.state.boxes) - boxes_before)]
    if not lines and not op.codes:
        return None
    return {"lines": lines, "codes": list(op.codes), "boxes": opened}


def _last_scan(op: Operation) -> AuditEvent:
    undone: set[int] = set()
    events = (AuditEvent.objects.filter(order=op.order)
              .filter(Q(action__in=LAYOUT_ACTIONS) | Q(action__startswith="pack.")).order_by("-id")[:UNDO_LOOKBACK])
    for event in events:
        payload = event.payload or {}
        if payload.get("undid"):
            undone.add(payload["undid"])
        if event.pk in undone:
            continue
        code = str(payload.get("code", "")).strip().upper()
        if event.action == "scan" and (code in PASSIVE_COMMANDS or payload.get("prompt")):
            continue
        if payload.get("undo"):
            return event
        break
    raise Refused(_("Nothing to undo: the last change was not a scan of a unit or a code."))


def undo_last(op: Operation) -> Feedback:
    """CMD-UNDO: take back the last scan that put a unit or a code in (as long as nothing else
    changed the boxes since); a box that scan opened goes too when it is left empty and last."""
    op.check_open()
    event = _last_scan(op)
    done = event.payload["undo"]
    removed = Instance.objects.filter(order=op.order, pk__in=done.get("codes", [])).delete()[0]
    units = 0
    for line in BoxLine.objects.filter(box__order=op.order, pk__in=done.get("lines", [])):
        if (line.full_count or 0) <= 1:
            line.delete()
        else:
            BoxLine.objects.filter(pk=line.pk).update(full_count=line.full_count - 1)
        units += 1
    for box in Box.objects.filter(order=op.order, pk__in=done.get("boxes", [])).order_by("-number"):
        last = Box.objects.filter(order=op.order).order_by("-number").values_list("number", flat=True).first()
        if box.number == last and not box.lines.exists() and not box.instances.exists():
            box.delete()
            op.order.current_box = max(box.number - 1, 1)
    op.layout_changed = op.structure = True
    op.undid = event.pk
    return op.ok(_("Undone: %(what)s") % {"what": event.payload.get("result", "")} if units or removed
                 else _("Undone."))


def next_step(ctx: dict[str, Any]) -> str:
    """The one thing the packer is expected to do next, from the panel's context (shown with every answer)."""
    order = ctx["order"]
    if ctx["done"]:
        if ctx["next_order"] is not None:
            return _("Done. Scan the next order or press Enter: %(n)s.") % {"n": ctx["next_order"].market_id}
        return _("Done. No more orders to pack.")
    if ctx["blockers"]:
        return str(ctx["blockers"][0])
    if ctx["prompt"]:
        return _("Choose the item above.")
    if ctx["problems"]:
        return str(ctx["problems"][0])
    if order.layout_sent_version is None or not ctx["sent_current"]:
        return _("Everything is scanned: scan «Finish packing».")
    if ctx["waiting"] and not ctx["boxes_sent"]:
        return _("Wait: the Market is receiving the boxes.")
    ready = ctx["ready_action"]
    if ready is not None and ready.state in (OutboxAction.State.PENDING, OutboxAction.State.SENDING):
        # Sent, not yet accepted: the labels step is behind the packer, not ahead.
        return _("Wait: the Market is marking the order ready to ship.")
    if not ctx["ready_problems"]:
        return _("Stick the labels on the boxes, then scan «Ready to ship».")
    return str(ctx["ready_problems"][0])
