"""Boxes of an order's layout: opening, numbering, units in and out, moving, splitting a unit.

Each function is one rule over a locked order (``kernel.Operation``): callers run it with
``kernel.attempt`` (the packer's buttons) or from inside another operation (a scan puts a unit in
the current box). The layout rules are seed 001's (PUT .../boxes); ``state.PackState`` lists what
the current layout breaks before finishing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from fulfilment.orders.models import Box, BoxLine, Instance

from .kernel import Feedback, Operation, Refused
from .state import BoxState, ItemState, Line
from .writes import update

MAX_PARTS = 20


def open_box(op: Operation) -> int:
    """A new box after the last one, made current; its number."""
    number = (max(op.state.boxes) if op.state.boxes else 0) + 1
    box = Box.objects.create(order=op.order, number=number)
    op.state.boxes[number] = BoxState(box)
    op.order.current_box = number
    op.layout_changed = op.structure = True
    return number


def place_unit(op: Operation, st: ItemState) -> int:
    """One whole unit into the current box (a new box when there is none or it holds a part)."""
    cur = op.state.current
    if cur is None:
        number = open_box(op)
        if len(op.state.boxes) > 1:
            op.notes.append(_("Opened box %(n)s.") % {"n": number})
    elif cur.part_line is not None:
        old = cur.number
        number = open_box(op)
        op.notes.append(_("Box %(old)s holds a part of an item, so box %(n)s was opened.") % {"old": old, "n": number})
    else:
        number = cur.number
    box = op.state.boxes[number]
    line = st.whole.get(number)
    if line is None:
        row = BoxLine.objects.create(box=box.box, item_id=st.item.pk, full_count=1)
        line = Line(row.pk, box.box.pk, st.item.pk, 1, None, None, None, box_number=number, item_state=st)
        st.whole[number] = line
        box.lines.append(line)
        op.lines.append((number, line.pk, True))
    else:
        # Sent with the operation's version bump (nothing needs its answer first).
        op.writes.later(update("line-unit-in", _one_more, (_LINE,), (line.pk,)))
        line.full_count = (line.full_count or 0) + 1
        op.lines.append((number, line.pk, False))
    op.items.add(st.item.pk)
    op.boxes.add(number)
    # A code scanned for a unit that was later taken out of its box goes back in with the next unit.
    for kind in st.accepted:
        loose = next(iter(st.codes_in(kind, None)), None)
        if loose is not None and st.codes_in_box(kind, number) < line.full_count:
            Instance.objects.filter(pk=loose.pk).update(box=box.box)
            loose.box_id, loose.box_number = box.box.pk, number
    op.layout_changed = True
    return number


_LINE = -918_273_653  # the stand-in line id ``_one_more`` is compiled with


def _one_more(line_id: int) -> tuple[QuerySet[BoxLine], dict[str, Any]]:
    return BoxLine.objects.filter(pk=line_id), {"full_count": F("full_count") + 1}


def _take_unit(line: Line) -> None:
    if (line.full_count or 0) <= 1:
        BoxLine.objects.filter(pk=line.pk).delete()
    else:
        BoxLine.objects.filter(pk=line.pk).update(full_count=F("full_count") - 1)


def _box(op: Operation, number: int) -> BoxState:
    box = op.state.boxes.get(int(number))
    if box is None:
        raise Refused(_("There is no box %(n)s.") % {"n": number})
    return box


def _line(op: Operation, line_id: int) -> Line:
    for box in op.state.boxes.values():
        for line in box.lines:
            if line.pk == int(line_id):
                return line
    raise Refused(_("That line is no longer in this order's boxes; the screen was out of date."))


def new_box(op: Operation) -> Feedback:
    op.check_open()
    cur = op.state.current
    if cur is not None and cur.empty:
        return op.ok(_("Box %(n)s is empty and current: use it.") % {"n": cur.number})
    n = open_box(op)
    return op.ok(_("Box %(n)s opened.") % {"n": n})


def photo(op: Operation) -> Feedback:
    """CMD-PHOTO: nothing changes here; the workstation's camera (evidence.js) photographs the open box."""
    cur = op.state.current
    if cur is None:
        return op.ok(_("Photo command: the camera of this workstation photographs the order."))
    return op.ok(_("Photo command: the camera of this workstation photographs box %(n)s.") % {"n": cur.number})


def set_current(op: Operation, box: int) -> Feedback:
    b = _box(op, box)
    op.order.current_box = b.number
    return op.ok(_("Box %(n)s is current.") % {"n": b.number})


def delete_box(op: Operation, box: int) -> Feedback:
    op.check_open()
    b = _box(op, box)
    if not b.empty:
        raise Refused(_("Box %(n)s is not empty: move or take out its items first.") % {"n": b.number})
    b.box.delete()
    # Boxes are numbered 1..n without gaps: the Market receives them in this order.
    for number in sorted(n for n in op.state.boxes if n > b.number):
        Box.objects.filter(order=op.order, number=number).update(number=number - 1)
    if op.order.current_box >= b.number and op.order.current_box > 1:
        op.order.current_box -= 1
    op.layout_changed = True
    return op.ok(_("Box %(n)s removed.") % {"n": b.number})


def move(op: Operation, line: int, to: int) -> Feedback:
    """One unit (or the part) of a box line to another box."""
    op.check_open()
    src = _line(op, line)
    target = _box(op, to)
    st = src.item_state
    assert st is not None
    from_n = src.box_number
    if target.number == from_n:
        raise Refused(_("The unit is already in box %(n)s.") % {"n": to})
    if src.full_count is None:
        if not target.empty:
            raise Refused(_("A part of an item travels alone: box %(n)s is not empty.") % {"n": target.number})
        BoxLine.objects.filter(pk=src.pk).update(box=target.box)
        op.layout_changed = True
        return op.ok(_("Part %(p)s of %(sku)s moved to box %(n)s.") % {
            "p": src.part_current, "sku": st.item.offer_id, "n": target.number})
    if target.part_line is not None:
        raise Refused(_("Box %(n)s holds a part of an item and nothing else may go in.") % {"n": target.number})
    _take_unit(src)
    dest = st.whole.get(target.number)
    if dest is None:
        BoxLine.objects.create(box=target.box, item_id=st.item.pk, full_count=1)
    else:
        BoxLine.objects.filter(pk=dest.pk).update(full_count=F("full_count") + 1)
    # The unit takes its code along when its old box now has more codes than units.
    for kind in st.accepted:
        left = (src.full_count or 1) - 1
        in_src = st.codes_in(kind, from_n)
        if len(in_src) > left:
            Instance.objects.filter(pk=in_src[-1].pk).update(box=target.box)
    op.layout_changed = True
    return op.ok(_("One %(sku)s moved from box %(a)s to box %(b)s.") % {
        "sku": st.item.offer_id, "a": from_n, "b": target.number})


def remove_unit(op: Operation, line: int) -> Feedback:
    """Take one unit out of a box; its code (if the box now has more codes than units) is kept, loose."""
    op.check_open()
    src = _line(op, line)
    st = src.item_state
    assert st is not None
    from_n = src.box_number
    if src.full_count is None:
        raise Refused(_("This is a part of a split unit: undo the split instead."))
    _take_unit(src)
    for kind in st.accepted:
        in_src = st.codes_in(kind, from_n)
        if len(in_src) > (src.full_count or 1) - 1:
            Instance.objects.filter(pk=in_src[-1].pk).update(box=None)
    op.layout_changed = True
    return op.ok(_("One %(sku)s taken out of box %(n)s.") % {"sku": st.item.offer_id, "n": from_n})


def split(op: Operation, item: int, parts: int) -> Feedback:
    """A scanned unit of a large item in ``parts`` parts, each in a box of its own (partialCount).

    The split applies to a unit already in a box, the one in the current box first (the unit just
    scanned): a packer scans what is on the table, then says it travels in several boxes. A unit no
    one scanned is never counted as packed, so every physical unit is scanned. The parts go into
    the current box when it is (or is left) empty, the box the unit leaves when it is left empty,
    then new boxes.
    """
    op.check_open()
    st = op.state.items.get(int(item))
    if st is None:
        raise Refused(_("That item is not in this order."))
    parts = int(parts)
    if not 2 <= parts <= MAX_PARTS:
        raise Refused(_("A unit is split in 2 to %(max)s parts.") % {"max": MAX_PARTS})
    cur = op.order.current_box
    number = cur if cur in st.whole else max(st.whole, default=None)
    if number is None:
        if st.split and st.unplaced <= 0:
            raise Refused(_("Every unit of %(sku)s is already split.") % {"sku": st.item.offer_id})
        raise Refused(_("Scan a unit of %(sku)s first, then split it: a split applies to a scanned unit.")
                      % {"sku": st.item.offer_id})
    used = set(st.split) | {i.unit for k in st.accepted for i in st.codes[k]}
    unit = next(u for u in range(1, st.item.count + len(used) + 2) if u not in used)
    # The unit leaves its box and takes its code along (the same code goes into every part).
    line = st.whole[number]
    coded = []
    for kind in st.accepted:
        in_box = st.codes_in(kind, number)
        if len(in_box) > (line.full_count or 1) - 1:
            Instance.objects.filter(pk=in_box[-1].pk).update(box=None, unit=unit)
            coded.append(kind)
    source = op.state.boxes[number]
    _take_unit(line)
    left_empty = len(source.lines) == 1 and (line.full_count or 0) <= 1
    current = op.state.current
    numbers = []
    if current is not None and (current.empty or (current is source and left_empty)):
        numbers.append(current.number)
    if left_empty and source.number not in numbers:
        numbers.append(source.number)  # no empty box is left behind
    while len(numbers) < parts:
        numbers.append(open_box(op))
    for part, n in enumerate(numbers, start=1):
        BoxLine.objects.create(box=op.state.boxes[n].box, item_id=st.item.pk, unit=unit, part_current=part,
                               part_total=parts)
    op.order.current_box = numbers[0]
    op.layout_changed = op.structure = True
    msg = _("One %(sku)s split in %(parts)s parts: boxes %(boxes)s.") % {
        "sku": st.item.offer_id, "parts": parts, "boxes": ", ".join(str(n) for n in numbers)}
    if any(kind not in coded for kind in st.required):
        msg += " " + _("Its code goes into each of these boxes: scan it once.")
    elif coded:
        msg += " " + _("Its code goes into each of these boxes.")
    return op.ok(msg)


def unsplit(op: Operation, item: int, unit: int) -> Feedback:
    op.check_open()
    st = op.state.items.get(int(item))
    if st is None or int(unit) not in st.split:
        raise Refused(_("That unit is not split."))
    BoxLine.objects.filter(pk__in=[p.pk for p in st.split[int(unit)]]).delete()
    op.layout_changed = True
    return op.ok(_("The split of %(sku)s was undone; its boxes stay, empty.") % {"sku": st.item.offer_id})
