"""What packers do to an order: scans, boxes, splits, finishing and ready-to-ship.

Every operation runs in its own transaction with the order row locked (two packers on one order
queue up behind each other; none of their scans is lost or doubled), records an audit event and
bumps the order's version. A scan carries the browser's id: a resent request is recognised by it
and not applied twice. Changes for the Market go through the outbox in the same transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfilment.codes.cis import CYRILLIC, GS, CodeError, normalise, parse_cis
from fulfilment.codes.formats import GTD_RE, RNPT_RE, UIN_RE, product_gtin
from fulfilment.orders import outbox
from fulfilment.orders.models import (
    AuditEvent,
    Box,
    BoxLine,
    Instance,
    InstanceKind,
    Order,
    OrderStatus,
    OutboxAction,
    Problem,
    ProductBarcode,
    Verification,
)

from .messages import code_error_message
from .state import Code, ItemState, Line, PackState

COMMANDS = {"CMD-NEW-BOX": "new_box", "CMD-FINISH": "finish", "CMD-READY": "ready"}
# Orders whose codes are still bound to goods: a code used there may not be used again.
DEAD_STATUSES = (OrderStatus.CANCELLED, OrderStatus.RETURNED)
MAX_PARTS = 20


class Refused(Exception):
    """The packer's request cannot be done; the message says why and nothing was changed."""


@dataclass
class Feedback:
    ok: bool
    message: str
    prompt: dict[str, Any] | None = None  # ask which item a code belongs to
    redirect: str | None = None
    duplicate: bool = False
    # What the scan changed, so the screen re-renders only that.
    items: set[int] = field(default_factory=set)
    boxes: set[int] = field(default_factory=set)
    codes: list[int] = field(default_factory=list)
    lines: list[tuple[int, int, bool]] = field(default_factory=list)  # (box, line id, new)
    structure: bool = False  # boxes opened, removed or renumbered, or anything else broad
    # The order's state right after this scan was committed, and the versions it went from and to:
    # a screen can render from it when no one else changed the order in between.
    state: PackState | None = None
    version_before: int | None = None
    version_after: int | None = None


@dataclass
class Ctx:
    order: Order
    state: PackState
    user: AbstractBaseUser | None
    notes: list[str] = field(default_factory=list)
    layout_changed: bool = False
    items: set[int] = field(default_factory=set)
    boxes: set[int] = field(default_factory=set)
    codes: list[int] = field(default_factory=list)
    lines: list[tuple[int, int, bool]] = field(default_factory=list)
    structure: bool = False


class _AlreadyReceived(Exception):
    """The scan's id is already recorded: it was applied before (a resent request)."""


@contextmanager
def locked(order_id: int, user: AbstractBaseUser | None, request_id: uuid.UUID | None = None) -> Iterator[Ctx]:
    """The order locked for this transaction, with its packing state; raises ``_AlreadyReceived``
    (checked under the lock, in the same read) when ``request_id`` was seen before."""
    with transaction.atomic():
        orders = Order.objects.select_for_update(of=("self",)).select_related("campaign")
        if request_id is not None:
            orders = orders.annotate(seen=Exists(AuditEvent.objects.filter(request_id=request_id)))
        order = orders.get(pk=order_id)
        if getattr(order, "seen", False):
            raise _AlreadyReceived
        ctx = Ctx(order, PackState(order), user if user and user.is_authenticated else None)
        yield ctx
        bump = {"version": F("version") + 1}
        if ctx.layout_changed:
            bump["layout_version"] = F("layout_version") + 1
        Order.objects.filter(pk=order.pk).update(current_box=order.current_box, **bump)
        # The row is locked, so the new values are known without reading them back.
        order.version += 1
        if ctx.layout_changed:
            order.layout_version += 1


def _audit(ctx: Ctx, action: str, payload: dict[str, Any], request_id: uuid.UUID | None = None) -> None:
    AuditEvent.objects.create(order=ctx.order, user=ctx.user, action=action, payload=payload, request_id=request_id)


def _check_open(ctx: Ctx) -> None:
    blockers = ctx.state.blockers()
    if blockers:
        raise Refused(blockers[0])
    if ctx.order.layout_sent_version is not None and ctx.order.substatus == "READY_TO_SHIP":
        raise Refused(_("The order is already ready to ship."))


# --- scans ---------------------------------------------------------------------------------------
def scan(order_id: int, user: AbstractBaseUser | None, raw: str, request_id: uuid.UUID | None = None) -> Feedback:
    """Apply one scan (or typed code); saved at once, or refused with the reason and nothing changed."""
    try:
        with locked(order_id, user, request_id) as ctx:
            fb = _interpret(ctx, raw)
            _audit(ctx, "scan", {"code": raw, "result": fb.message}, request_id)
            fb.items, fb.boxes, fb.codes, fb.lines = ctx.items, ctx.boxes, ctx.codes, ctx.lines
            fb.structure = fb.structure or ctx.structure
            fb.version_before = ctx.order.version
        fb.version_after = ctx.order.version
        if not fb.structure:  # broad changes are not mirrored in memory: read back, never reused
            fb.state = ctx.state
        return fb
    except _AlreadyReceived:
        return Feedback(True, _("Already received."), duplicate=True)
    except Refused as exc:
        message = str(exc)
    except IntegrityError:
        # A concurrent request with the same id got there first.
        if request_id is not None and AuditEvent.objects.filter(request_id=request_id).exists():
            return Feedback(True, _("Already received."), duplicate=True)
        raise
    try:
        with transaction.atomic():
            AuditEvent.objects.create(order_id=order_id, user=user if user and user.is_authenticated else None,
                                      action="scan.refused", payload={"code": raw, "result": message},
                                      request_id=request_id)
    except IntegrityError:
        pass
    return Feedback(False, message)


def _interpret(ctx: Ctx, raw: str) -> Feedback:
    # Spaces and line ends at the edges only: chr(29) is a separator inside the code, never stripped.
    value = raw.strip(" \t\r\n")
    if not value:
        raise Refused(_("Empty scan."))
    command = COMMANDS.get(value.upper())
    if command:
        ctx.structure = True
        return {"new_box": new_box_in, "finish": finish_in, "ready": ready_in}[command](ctx)
    code = normalise(value, settings.SCANNER_GS_SUBSTITUTES)
    if code.startswith("01") and (GS in code or not code.isdigit() or len(code) > 16):
        return _scan_cis(ctx, code)
    if CYRILLIC.search(code):
        raise Refused(_("Cyrillic letters in the scan: switch the scanner's or the keyboard's layout to English."))
    if UIN_RE.match(code):
        return _scan_other(ctx, InstanceKind.UIN, code)
    gtin = product_gtin(code)
    if gtin:
        return _scan_product(ctx, gtin, code)
    if RNPT_RE.match(code):
        return _scan_other(ctx, InstanceKind.RNPT, code)
    if GTD_RE.match(code):
        return _scan_other(ctx, InstanceKind.GTD, code)
    if re.fullmatch(r"[A-Za-z]{2}", code):
        return _country(ctx, code.upper())
    other = _order_by_number(code)
    if other is not None and other.pk != ctx.order.pk:
        return Feedback(True, _("Opening order %(n)s.") % {"n": other.market_id},
                        redirect=reverse("order", args=[other.pk]))
    raise Refused(_("Unknown code %(code)s: not a product barcode, marking code or command.") % {"code": code})


def _order_by_number(code: str) -> Order | None:
    m = re.fullmatch(r"(\d{5,12})(?:-\d+)?", code)
    if m:
        return Order.objects.filter(market_id=int(m.group(1))).order_by("-id").first()
    box = Box.objects.filter(barcode=code).select_related("order").first()
    return box.order if box else None


def _mapping(ctx: Ctx, gtin: str) -> ProductBarcode | None:
    return ProductBarcode.objects.filter(campaign_id=ctx.order.campaign_id, gtin=gtin).first()


def _resolve(ctx: Ctx, gtin: str, raw: str, kind: str | None = None, forced: int | None = None,
             mapping: ProductBarcode | None = None) -> ItemState | Feedback:
    """The item a GTIN belongs to; learns GTIN → SKU for the campaign when the order leaves no doubt."""
    state = ctx.state
    if forced is not None:
        st = state.items.get(forced)
        if st is None:
            raise Refused(_("That item is not in this order."))
        _learn(ctx, gtin, st.item.offer_id, mapping)
        return st
    mapping = mapping if mapping is not None else _mapping(ctx, gtin)
    if mapping is not None and mapping.offer_id:
        matches = [st for st in state.items.values() if st.item.offer_id == mapping.offer_id]
        if not matches:
            raise Refused(_("Wrong product: %(sku)s (barcode %(gtin)s) is not in this order.")
                          % {"sku": mapping.offer_id, "gtin": gtin})
        return next((st for st in matches if st.unplaced > 0), matches[0])
    known = set(ProductBarcode.objects.filter(campaign_id=ctx.order.campaign_id, offer_id__in=[
        st.item.offer_id for st in state.items.values()]).exclude(offer_id="").values_list("offer_id", flat=True))
    candidates = [st for st in state.items.values()
                  if st.item.offer_id not in known and (kind is None or kind in st.accepted)]
    if len(candidates) == 1:
        st = candidates[0]
        _learn(ctx, gtin, st.item.offer_id, mapping)
        ctx.notes.append(_("Barcode %(gtin)s is remembered as %(sku)s.") % {"gtin": gtin, "sku": st.item.offer_id})
        return st
    if not candidates:
        raise Refused(_("Wrong product: barcode %(gtin)s is not in this order.") % {"gtin": gtin})
    return Feedback(False, _("New barcode %(gtin)s: which item is it? Choose once, it will be remembered.")
                    % {"gtin": gtin}, prompt={"code": raw, "gtin": gtin, "items": [st.item for st in candidates]})


def _learn(ctx: Ctx, gtin: str, offer_id: str, mapping: ProductBarcode | None) -> None:
    if mapping is None:
        ProductBarcode.objects.update_or_create(campaign_id=ctx.order.campaign_id, gtin=gtin,
                                                defaults={"offer_id": offer_id, "learnt_by": ctx.user})
    elif mapping.offer_id != offer_id:
        mapping.offer_id = offer_id
        mapping.learnt_by = ctx.user
        mapping.save(update_fields=["offer_id", "learnt_by"])


def _scan_product(ctx: Ctx, gtin: str, raw: str, forced: int | None = None) -> Feedback:
    _check_open(ctx)
    st = _resolve(ctx, gtin, raw, forced=forced)
    if isinstance(st, Feedback):
        return st
    if st.unplaced <= 0:
        raise Refused(_("All %(count)s units of %(sku)s are already in boxes.")
                      % {"count": st.item.count, "sku": st.item.offer_id})
    box = _place_unit(ctx, st)
    msg = _("%(sku)s → box %(box)s (%(placed)s of %(count)s).") % {
        "sku": st.item.offer_id, "box": box, "placed": st.placed, "count": st.item.count}
    missing = [k for k in st.required if len(st.codes[k]) < st.placed]
    if missing:
        msg += " " + _("Scan its marking code.")
    return _ok(ctx, msg)


def _ok(ctx: Ctx, message: str) -> Feedback:
    return Feedback(True, " ".join([message, *ctx.notes]))


def _open_box(ctx: Ctx) -> int:
    number = (max(ctx.state.boxes) if ctx.state.boxes else 0) + 1
    box = Box.objects.create(order=ctx.order, number=number)
    from .state import BoxState

    ctx.state.boxes[number] = BoxState(box)
    ctx.order.current_box = number
    ctx.layout_changed = ctx.structure = True
    return number


def _place_unit(ctx: Ctx, st: ItemState) -> int:
    """One whole unit into the current box (a new box when there is none or it holds a part)."""
    cur = ctx.state.current
    if cur is None:
        number = _open_box(ctx)
        if len(ctx.state.boxes) > 1:
            ctx.notes.append(_("Opened box %(n)s.") % {"n": number})
    elif cur.part_line is not None:
        old = cur.number
        number = _open_box(ctx)
        ctx.notes.append(_("Box %(old)s holds a part of an item, so box %(n)s was opened.") % {"old": old, "n": number})
    else:
        number = cur.number
    box = ctx.state.boxes[number]
    line = st.whole.get(number)
    if line is None:
        row = BoxLine.objects.create(box=box.box, item_id=st.item.pk, full_count=1)
        line = Line(row.pk, box.box.pk, st.item.pk, 1, None, None, None, box_number=number, item_state=st)
        st.whole[number] = line
        box.lines.append(line)
        ctx.lines.append((number, line.pk, True))
    else:
        BoxLine.objects.filter(pk=line.pk).update(full_count=F("full_count") + 1)
        line.full_count = (line.full_count or 0) + 1
        ctx.lines.append((number, line.pk, False))
    ctx.items.add(st.item.pk)
    ctx.boxes.add(number)
    # A code scanned for a unit that was later taken out of its box goes back in with the next unit.
    for kind in st.accepted:
        loose = next(iter(st.codes_in(kind, None)), None)
        if loose is not None and st.codes_in_box(kind, number) < line.full_count:
            Instance.objects.filter(pk=loose.pk).update(box=box.box)
            loose.box_id, loose.box_number = box.box.pk, number
    ctx.layout_changed = True
    return number


def _duplicate_check(ctx: Ctx, kind: str, identity: str) -> None:
    for st in ctx.state.items.values():
        for inst in st.codes[kind]:
            if inst.identity == identity:
                raise Refused(_("This code is already scanned in this order (%(sku)s, unit %(unit)s).")
                              % {"sku": st.item.offer_id, "unit": inst.unit})
    other = (Instance.objects.filter(kind=kind, identity=identity).exclude(order=ctx.order)
             .exclude(order__status__in=DEAD_STATUSES).select_related("order").first())
    if other is not None:
        raise Refused(_("This code is already used in order %(n)s.") % {"n": other.order.market_id})


def _scan_cis(ctx: Ctx, code: str, forced: int | None = None) -> Feedback:
    _check_open(ctx)
    gtin = code[2:16]
    mapping = _mapping(ctx, gtin) if gtin.isdigit() else None
    lengths = {gtin: mapping.serial_length} if mapping and mapping.serial_length else None
    try:
        cis = parse_cis(code, substitutes=settings.SCANNER_GS_SUBSTITUTES, serial_lengths=lengths)
    except CodeError as exc:
        raise Refused(code_error_message(exc)) from None
    st = _resolve(ctx, cis.gtin, code, kind=InstanceKind.CIS, forced=forced, mapping=mapping)
    if isinstance(st, Feedback):
        return st
    if InstanceKind.CIS not in st.accepted:
        raise Refused(_("%(sku)s does not take Chestny ZNAK codes.") % {"sku": st.item.offer_id})
    _duplicate_check(ctx, InstanceKind.CIS, cis.identification)
    if not cis.rebuilt and GS in cis.value:
        # Seen with its separators: remember the serial length for codes of this GTIN that lose them.
        ProductBarcode.objects.filter(campaign_id=ctx.order.campaign_id, gtin=cis.gtin).exclude(
            serial_length=len(cis.serial)).update(serial_length=len(cis.serial))
    return _attach(ctx, st, InstanceKind.CIS, cis.value, cis.identification)


def _scan_other(ctx: Ctx, kind: str, code: str, forced: int | None = None) -> Feedback:
    """UIN, RNPT or GTD: the item is the one that needs it (asked when several do)."""
    _check_open(ctx)
    state = ctx.state
    if forced is not None:
        st = state.items.get(forced)
        if st is None or kind not in st.accepted:
            raise Refused(_("That item does not take this kind of code."))
    else:
        wanting = [s for s in state.items.values() if kind in s.accepted and len(s.codes[kind]) < s.item.count]
        cur = state.order.current_box
        in_box = [s for s in wanting if cur in s.whole or any(p.box_number == cur for ps in s.split.values()
                                                               for p in ps)]
        if len(wanting) == 1:
            st = wanting[0]
        elif len(in_box) == 1:
            st = in_box[0]
        elif not wanting:
            if not any(kind in s.accepted for s in state.items.values()):
                raise Refused(_("No item of this order takes a %(kind)s code.") % {"kind": InstanceKind(kind).label})
            raise Refused(_("Every unit already has its %(kind)s code.") % {"kind": InstanceKind(kind).label})
        else:
            return Feedback(False, _("Which item is this %(kind)s code for?") % {"kind": InstanceKind(kind).label},
                            prompt={"code": code, "gtin": "", "items": [s.item for s in wanting]})
    _duplicate_check(ctx, kind, code)
    return _attach(ctx, st, kind, code, code)


def _attach(ctx: Ctx, st: ItemState, kind: str, value: str, identity: str) -> Feedback:
    """Give the code to a unit: one in the current box that lacks it, else a new unit into the
    current box, else any placed unit that lacks it."""
    cur = ctx.order.current_box
    unit: int | None = None
    box: Box | None = None
    coded_units = {i.unit for i in st.codes[kind]}
    for u, parts in st.split.items():
        if u not in coded_units and any(p.box_number == cur for p in parts):
            unit = u
    line = st.whole.get(cur)
    if unit is None and line is not None and st.codes_in_box(kind, cur) < (line.full_count or 0):
        unit, box = st.free_unit(kind), ctx.state.boxes[cur].box
    if unit is None and st.unplaced > 0:
        number = _place_unit(ctx, st)
        unit, box = st.free_unit(kind), ctx.state.boxes[number].box
    if unit is None:
        for number, wline in st.whole.items():
            if st.codes_in_box(kind, number) < (wline.full_count or 0):
                unit, box = st.free_unit(kind), ctx.state.boxes[number].box
                break
    if unit is None:
        unit = next((u for u in st.split if u not in coded_units), None)
    if unit is None:
        raise Refused(_("All %(count)s units of %(sku)s already have their %(kind)s codes.")
                      % {"count": st.item.count, "sku": st.item.offer_id, "kind": InstanceKind(kind).label})
    inst = Instance.objects.create(order=ctx.order, item_id=st.item.pk, unit=unit, kind=kind, value=value,
                                   identity=identity, box=box, scanned_by=ctx.user)
    st.codes[kind].append(Code.of(inst, box.number if box else None))
    ctx.layout_changed = True
    ctx.items.add(st.item.pk)
    ctx.codes.append(inst.pk)
    where = _("box %(n)s") % {"n": box.number} if box else _("split unit %(u)s") % {"u": unit}
    return _ok(ctx, _("%(kind)s code for %(sku)s (%(have)s of %(count)s), %(where)s.") % {
        "kind": InstanceKind(kind).label, "sku": st.item.offer_id, "have": len(st.codes[kind]),
        "count": st.item.count, "where": where})


def _country(ctx: Ctx, country: str) -> Feedback:
    _check_open(ctx)
    inst = (Instance.objects.filter(order=ctx.order, kind__in=(InstanceKind.RNPT, InstanceKind.GTD), country_code="")
            .order_by("-id").first())
    if inst is None:
        raise Refused(_("%(code)s looks like a country code, but no RNPT or GTD code waits for one.")
                      % {"code": country})
    Instance.objects.filter(pk=inst.pk).update(country_code=country)
    ctx.layout_changed = ctx.structure = True
    return _ok(ctx, _("Country %(c)s set for %(code)s.") % {"c": country, "code": inst.value})


def pick_item(order_id: int, user: AbstractBaseUser | None, code: str, item_id: int) -> Feedback:
    """The packer's answer to "which item is it?": apply the pending code to that item."""
    try:
        with locked(order_id, user) as ctx:
            value = normalise(code.strip(" \t\r\n"), settings.SCANNER_GS_SUBSTITUTES)
            if UIN_RE.match(value):
                fb = _scan_other(ctx, InstanceKind.UIN, value, forced=item_id)
            elif RNPT_RE.match(value):
                fb = _scan_other(ctx, InstanceKind.RNPT, value, forced=item_id)
            elif GTD_RE.match(value):
                fb = _scan_other(ctx, InstanceKind.GTD, value, forced=item_id)
            elif product_gtin(value):
                fb = _scan_product(ctx, product_gtin(value) or "", value, forced=item_id)
            else:
                fb = _scan_cis(ctx, value, forced=item_id)
            _audit(ctx, "scan.item_chosen", {"code": code, "item": item_id, "result": fb.message})
            return fb
    except Refused as exc:
        return Feedback(False, str(exc))


# --- boxes ---------------------------------------------------------------------------------------
def run(order_id: int, user: AbstractBaseUser | None, op: str, **kw: Any) -> Feedback:
    """Run one packing operation by name (see ``OPERATIONS``); refusals change nothing."""
    try:
        with locked(order_id, user) as ctx:
            fb = OPERATIONS[op](ctx, **kw)
            _audit(ctx, f"pack.{op}", {k: v for k, v in kw.items() if isinstance(v, (str, int))} |
                   {"result": fb.message})
            return fb
    except Refused as exc:
        return Feedback(False, str(exc))


def new_box_in(ctx: Ctx) -> Feedback:
    _check_open(ctx)
    cur = ctx.state.current
    if cur is not None and cur.empty:
        return _ok(ctx, _("Box %(n)s is empty and current: use it.") % {"n": cur.number})
    n = _open_box(ctx)
    return _ok(ctx, _("Box %(n)s opened.") % {"n": n})


def _box(ctx: Ctx, number: int) -> Any:
    box = ctx.state.boxes.get(int(number))
    if box is None:
        raise Refused(_("There is no box %(n)s.") % {"n": number})
    return box


def set_current_in(ctx: Ctx, box: int) -> Feedback:
    b = _box(ctx, box)
    ctx.order.current_box = b.number
    return _ok(ctx, _("Box %(n)s is current.") % {"n": b.number})


def delete_box_in(ctx: Ctx, box: int) -> Feedback:
    _check_open(ctx)
    b = _box(ctx, box)
    if not b.empty:
        raise Refused(_("Box %(n)s is not empty: move or take out its items first.") % {"n": b.number})
    b.box.delete()
    # Boxes are numbered 1..n without gaps: the Market receives them in this order.
    for number in sorted(n for n in ctx.state.boxes if n > b.number):
        Box.objects.filter(order=ctx.order, number=number).update(number=number - 1)
    if ctx.order.current_box >= b.number and ctx.order.current_box > 1:
        ctx.order.current_box -= 1
    ctx.layout_changed = True
    return _ok(ctx, _("Box %(n)s removed.") % {"n": b.number})


def _line(ctx: Ctx, line_id: int) -> Line:
    for box in ctx.state.boxes.values():
        for line in box.lines:
            if line.pk == int(line_id):
                return line
    raise Refused(_("That line is no longer in this order's boxes; the screen was out of date."))


def move_in(ctx: Ctx, line: int, to: int) -> Feedback:
    """One unit (or the part) of a box line to another box."""
    _check_open(ctx)
    src = _line(ctx, line)
    target = _box(ctx, to)
    st = src.item_state
    assert st is not None
    from_n = src.box_number
    if target.number == from_n:
        raise Refused(_("The unit is already in box %(n)s.") % {"n": to})
    if src.full_count is None:
        if not target.empty:
            raise Refused(_("A part of an item travels alone: box %(n)s is not empty.") % {"n": target.number})
        BoxLine.objects.filter(pk=src.pk).update(box=target.box)
        ctx.layout_changed = True
        return _ok(ctx, _("Part %(p)s of %(sku)s moved to box %(n)s.") % {
            "p": src.part_current, "sku": st.item.offer_id, "n": target.number})
    if target.part_line is not None:
        raise Refused(_("Box %(n)s holds a part of an item and nothing else may go in.") % {"n": target.number})
    _take_unit(ctx, st, src)
    dest = st.whole.get(target.number)
    if dest is None:
        dest = BoxLine.objects.create(box=target.box, item_id=st.item.pk, full_count=1)
    else:
        BoxLine.objects.filter(pk=dest.pk).update(full_count=F("full_count") + 1)
    # The unit takes its code along when its old box now has more codes than units.
    for kind in st.accepted:
        left = (src.full_count or 1) - 1
        in_src = st.codes_in(kind, from_n)
        if len(in_src) > left:
            Instance.objects.filter(pk=in_src[-1].pk).update(box=target.box)
    ctx.layout_changed = True
    return _ok(ctx, _("One %(sku)s moved from box %(a)s to box %(b)s.") % {
        "sku": st.item.offer_id, "a": from_n, "b": target.number})


def _take_unit(ctx: Ctx, st: ItemState, line: Line) -> None:
    if (line.full_count or 0) <= 1:
        BoxLine.objects.filter(pk=line.pk).delete()
    else:
        BoxLine.objects.filter(pk=line.pk).update(full_count=F("full_count") - 1)


def remove_unit_in(ctx: Ctx, line: int) -> Feedback:
    """Take one unit out of a box; its code (if the box now has more codes than units) is kept, loose."""
    _check_open(ctx)
    src = _line(ctx, line)
    st = src.item_state
    assert st is not None
    from_n = src.box_number
    if src.full_count is None:
        raise Refused(_("This is a part of a split unit: undo the split instead."))
    _take_unit(ctx, st, src)
    for kind in st.accepted:
        in_src = st.codes_in(kind, from_n)
        if len(in_src) > (src.full_count or 1) - 1:
            Instance.objects.filter(pk=in_src[-1].pk).update(box=None)
    ctx.layout_changed = True
    return _ok(ctx, _("One %(sku)s taken out of box %(n)s.") % {"sku": st.item.offer_id, "n": from_n})


def split_in(ctx: Ctx, item: int, parts: int) -> Feedback:
    """One unit of a large item in ``parts`` parts, each in a box of its own (partialCount)."""
    _check_open(ctx)
    st = ctx.state.items.get(int(item))
    if st is None:
        raise Refused(_("That item is not in this order."))
    parts = int(parts)
    if not 2 <= parts <= MAX_PARTS:
        raise Refused(_("A unit is split in 2 to %(max)s parts.") % {"max": MAX_PARTS})
    used = set(st.split) | {i.unit for k in st.accepted for i in st.codes[k]}
    unit = next(u for u in range(1, st.item.count + len(used) + 2) if u not in used)
    if st.unplaced <= 0:
        # Take a whole unit out of a box (the current one if possible); its code goes with it.
        number = ctx.order.current_box if ctx.order.current_box in st.whole else max(st.whole, default=None)
        if number is None:
            raise Refused(_("Every unit of %(sku)s is already split.") % {"sku": st.item.offer_id})
        line = st.whole[number]
        for kind in st.accepted:
            in_box = st.codes_in(kind, number)
            if len(in_box) > (line.full_count or 1) - 1:
                Instance.objects.filter(pk=in_box[-1].pk).update(box=None, unit=unit)
        _take_unit(ctx, st, line)
    cur = ctx.state.current
    numbers = []
    if cur is not None and cur.empty:
        numbers.append(cur.number)
    while len(numbers) < parts:
        numbers.append(_open_box(ctx))
    for part, number in enumerate(numbers, start=1):
        BoxLine.objects.create(box=ctx.state.boxes[number].box, item_id=st.item.pk, unit=unit, part_current=part,
                               part_total=parts)
    ctx.order.current_box = numbers[0]
    ctx.layout_changed = True
    needs = list(st.accepted)
    msg = _("One %(sku)s split in %(parts)s parts: boxes %(boxes)s.") % {
        "sku": st.item.offer_id, "parts": parts, "boxes": ", ".join(str(n) for n in numbers)}
    if needs:
        msg += " " + _("Its code goes into each of these boxes: scan it once.")
    return _ok(ctx, msg)


def unsplit_in(ctx: Ctx, item: int, unit: int) -> Feedback:
    _check_open(ctx)
    st = ctx.state.items.get(int(item))
    if st is None or int(unit) not in st.split:
        raise Refused(_("That unit is not split."))
    BoxLine.objects.filter(pk__in=[p.pk for p in st.split[int(unit)]]).delete()
    ctx.layout_changed = True
    return _ok(ctx, _("The split of %(sku)s was undone; its boxes stay, empty.") % {"sku": st.item.offer_id})


def delete_code_in(ctx: Ctx, instance: int) -> Feedback:
    _check_open(ctx)
    inst = Instance.objects.filter(order=ctx.order, pk=int(instance)).first()
    if inst is None:
        raise Refused(_("That code is no longer in this order; the screen was out of date."))
    inst.delete()
    ctx.layout_changed = True
    return _ok(ctx, _("Code %(code)s removed: scan another one.") % {"code": inst.identity or inst.value})


def report_problem_in(ctx: Ctx, problem: str, item: int | None = None, note: str = "") -> Feedback:
    if problem not in Problem.values:
        raise Refused(_("Choose what the problem is."))
    st = ctx.state.items.get(int(item)) if item else None
    o = ctx.order
    o.problem, o.problem_note, o.problem_item_id = problem, note[:2000], st.item.pk if st else None
    o.problem_by, o.problem_at = ctx.user, timezone.now()
    o.save(update_fields=["problem", "problem_note", "problem_item", "problem_by", "problem_at"])
    return Feedback(True, _("The problem was reported; the order went to the supervisor."),
                    redirect=reverse("queue"))


# --- finishing -----------------------------------------------------------------------------------
def finish_in(ctx: Ctx) -> Feedback:
    """Send the layout (FBS/Express) or the codes and cargo places (DBS) through the outbox."""
    _check_open(ctx)
    if OutboxAction.objects.filter(order=ctx.order, state__in=outbox.OPEN_STATES,
                                   payload__has_key="removal").exists():
        raise Refused(_("An item is being removed at the Market: finish when that is done."))
    state = ctx.state
    problems = state.layout_problems()
    if problems:
        raise Refused(_("Not finished yet: %(problem)s") % {"problem": problems[0]})
    o = ctx.order
    if o.layout_sent_version == o.layout_version:
        return _ok(ctx, _("This layout was already sent."))
    if state.is_dbs:
        items = {}
        for st in state.items.values():
            insts = [state._instance(i) for k in st.accepted for i in st.codes[k]]
            if insts:
                items[str(st.item.market_item_id)] = insts
        if items:
            outbox.enqueue(o.campaign, OutboxAction.Kind.IDENTIFIERS, {"items": items}, order=o, user=ctx.user)
        if o.shipment_id:
            outbox.enqueue(o.campaign, OutboxAction.Kind.CARGO_PLACES,
                           {"shipmentId": o.shipment_id, "places": len(state.boxes)}, order=o, user=ctx.user)
    else:
        outbox.enqueue(o.campaign, OutboxAction.Kind.LAYOUT, state.layout_payload(), order=o, user=ctx.user)
        Instance.objects.filter(order=o).exclude(verification=Verification.OK).update(
            verification=Verification.NOT_SENT, verification_message="")
    Order.objects.filter(pk=o.pk).update(layout_sent_version=o.layout_version)
    o.layout_sent_version = o.layout_version
    return _ok(ctx, _("Packed: %(n)s boxes sent to the Market.") % {"n": len(state.boxes)})


def ready_problems(state: PackState) -> list[str]:
    """What stands between this order and READY_TO_SHIP."""
    o = state.order
    out = list(state.blockers())
    if o.layout_sent_version is None:
        out.append(_("Finish packing first: the layout has not been sent."))
    elif o.layout_sent_version != o.layout_version:
        out.append(_("The boxes changed after the layout was sent: finish again."))
    elif not state.is_dbs:
        if state.verification_failed():
            out.append(_("The Market rejected a code: remove it, scan another and finish again."))
        elif state.verification_pending():
            out.append(_("The Market is still checking the codes."))
    return out


def ready_in(ctx: Ctx) -> Feedback:
    problems = ready_problems(ctx.state)
    if problems:
        raise Refused(problems[0])
    o = ctx.order
    if OutboxAction.objects.filter(order=o, kind=OutboxAction.Kind.STATUS, payload__substatus="READY_TO_SHIP",
                                   state__in=outbox.OPEN_STATES).exists():
        return _ok(ctx, _("Ready to ship is already being sent."))
    outbox.enqueue(o.campaign, OutboxAction.Kind.STATUS, {"status": "PROCESSING", "substatus": "READY_TO_SHIP"},
                   order=o, user=ctx.user)
    return _ok(ctx, _("Marked ready to ship."))


def labels_printed(order_id: int, user: AbstractBaseUser | None) -> None:
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(labels_printed_version=F("layout_version"))
        AuditEvent.objects.create(order_id=order_id, user=user if user and user.is_authenticated else None,
                                  action="labels.printed", payload={})


OPERATIONS = {
    "new_box": new_box_in,
    "set_current": set_current_in,
    "delete_box": delete_box_in,
    "move": move_in,
    "remove_unit": remove_unit_in,
    "split": split_in,
    "unsplit": unsplit_in,
    "delete_code": delete_code_in,
    "problem": report_problem_in,
    "finish": finish_in,
    "ready": ready_in,
}
