"""What a scan does to the order: a product barcode places a unit, a marking code fills the next
unit that needs it, a command opens a box or finishes, two letters set a country, an order number
opens that order. What kind of code a scan is comes from ``codes.classify``.

A scan carries the browser's id: a resent request is recognised by it and not applied twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _, ngettext

from fulfilment.codes.cis import GS, CodeError, check_digit, digits, parse_cis
from fulfilment.codes.classify import Kind, Scan, ScanTextError, classify, order_number, scanned_text, shown
from fulfilment.codes.countries import is_country
from fulfilment.codes.formats import valid_gtin
from fulfilment.orders.models import AuditEvent, Box, Instance, InstanceKind, Order
from fulfilment.orders.receiving import holding_instance

from . import barcodes, boxes, finishing, station
from .kernel import AlreadyReceived, Feedback, Operation, OrderStateRefused, Refused, User, audit, known_user, locked
from .messages import code_error_message, scan_text_message
from .state import Code, ItemState

# Command barcodes printed on /help/scanner/ and what they do (every step of the station by scan).
COMMANDS = {"CMD-NEW-BOX": boxes.new_box, "CMD-FINISH": finishing.finish, "CMD-READY": finishing.ready,
            "CMD-LABELS": station.print_labels, "CMD-NEXT": station.open_next, "CMD-UNDO": station.undo_last,
            "CMD-PHOTO": boxes.photo,
            **{f"CMD-SPLIT-{n}": station.split_last(n) for n in station.SPLIT_PARTS}, **station.PROBLEM_COMMANDS}


def scan(order_id: int, user: User, raw: str, request_id: uuid.UUID | None = None, teach: bool = False) -> Feedback:
    """Apply one scan (or typed code); saved at once, or refused with the reason and nothing changed.
    ``teach``: the packer switched on the teach mode, so a barcode no item has asks which item it is.
    A text no scanner sends (too long, NUL, lone surrogates) is refused before anything reads it and
    kept in the audit trail escaped and capped (``shown``)."""
    try:
        raw = scanned_text(raw)
    except ScanTextError as exc:
        if not Order.objects.filter(pk=order_id).exists():  # no lock read to say so (the rare path)
            raise Order.DoesNotExist from None
        return _refused(order_id, user, shown(raw), scan_text_message(exc), request_id)
    try:
        s = classify(raw, settings.SCANNER_GS_SUBSTITUTES)
        with locked(order_id, user, request_id, gtin=_looked_up(s)) as op:
            boxes_before = set(op.state.boxes)
            fb = _apply(op, s, teach)
            audit(op, "scan", _record(op, raw, fb, boxes_before), request_id)
            fb.items, fb.boxes, fb.codes, fb.lines = op.items, op.boxes, op.codes, op.lines
            fb.structure = fb.structure or op.structure
            fb.version_before = op.order.version
        fb.version_after = op.order.version
        if not fb.structure:  # broad changes are not mirrored in memory: read back, never reused
            fb.state = op.state
        return fb
    except AlreadyReceived:
        return Feedback(True, _("Already received."), duplicate=True)
    except Refused as exc:
        message, mistake = str(exc), not isinstance(exc, OrderStateRefused)
    except IntegrityError:
        # A concurrent request with the same id got there first.
        if request_id is not None and AuditEvent.objects.filter(request_id=request_id).exists():
            return Feedback(True, _("Already received."), duplicate=True)
        raise
    return _refused(order_id, user, raw, message, request_id, mistake)


def _looked_up(s: Scan) -> str | None:
    """The GTIN whose facts the scan will read (``barcodes.facts``), read with the order's lock."""
    if s.kind == Kind.PRODUCT:
        return s.gtin if valid_gtin(s.gtin) else None
    gtin = s.value[2:16]  # a Честный ЗНАК code's, as ``_scan_cis`` reads it
    return gtin if s.kind == Kind.CIS and digits(gtin) else None


def _refused(order_id: int, user: User, code: str, message: str, request_id: uuid.UUID | None,
             mistake: bool = True) -> Feedback:
    """A refused scan, recorded (once per request id) outside the rolled-back operation; ``mistake``:
    False when the order's state refused it, not the scan (the shift view counts those apart)."""
    payload = {"code": code, "result": message} | ({} if mistake else {"mistake": False})
    try:
        with transaction.atomic():
            AuditEvent.objects.create(order_id=order_id, user=known_user(user), action="scan.refused",
                                      payload=payload, request_id=request_id)
    except IntegrityError:
        pass  # the same refused scan sent again: recorded once, the packer is told why again
    return Feedback(False, message)


def choose_item(order_id: int, user: User, code: str, item_id: int, teach: bool = False) -> Feedback:
    """The packer's answer to "which item is it?": apply the pending code to that item (a barcode
    is linked to its SKU only in teach mode or by a supervisor)."""
    try:
        code = scanned_text(code)
    except ScanTextError as exc:
        return Feedback(False, scan_text_message(exc))
    try:
        with locked(order_id, user) as op:
            boxes_before = set(op.state.boxes)
            fb = _apply_to(op, classify(code, settings.SCANNER_GS_SUBSTITUTES), item_id, teach)
            audit(op, "scan.item_chosen", _record(op, code, fb, boxes_before) | {"item": item_id})
            return fb
    except Refused as exc:
        return Feedback(False, str(exc))


def _record(op: Operation, code: str, fb: Feedback, boxes_before: set[int]) -> dict[str, object]:
    """A scan's audit record: the code, the answer, and what it put in (so CMD-UNDO can take it back)."""
    record: dict[str, object] = {"code": code, "result": fb.message}
    if fb.prompt:
        record["prompt"] = True
    if (done := station.effect(op, boxes_before)) is not None:
        record["undo"] = done
    if op.undid is not None:
        record["undid"] = op.undid
    return record


def find_order(code: str) -> Order | None:
    """The order a scanned order number, box label or box barcode names."""
    number = order_number(code)
    if number is not None:
        return Order.objects.filter(market_id=number).order_by("-id").first()
    box = Box.objects.filter(barcode=code).select_related("order").first()
    return box.order if box else None


def _apply(op: Operation, s: Scan, teach: bool) -> Feedback:
    if s.kind == Kind.EMPTY:
        raise Refused(_("Empty scan."))
    if s.kind == Kind.COMMAND:
        if s.value not in COMMANDS:
            raise Refused(_("Unknown command %(code)s: see the scanner commands sheet.") % {"code": s.value})
        op.structure = True
        return COMMANDS[s.value](op)
    if s.kind == Kind.CYRILLIC:
        raise Refused(_("Cyrillic letters in the scan: switch the scanner's or the keyboard's layout to English."))
    if s.kind == Kind.COUNTRY:
        return _country(op, s.value)
    if s.kind == Kind.OTHER:
        other = find_order(s.value)
        if other is not None and other.pk != op.order.pk:
            return Feedback(True, _("Opening order %(n)s.") % {"n": other.market_id},
                            redirect=reverse("order", args=[other.pk]))
        if other is None and len(s.value) == 12 and digits(s.value):
            # Not a valid UPC-A: most likely an EAN-13 whose check digit the scanner leaves out
            # (a setting of many scanners), so the packer is told how to fix the scanner.
            raise Refused(_("Code %(code)s has 12 digits: the scanner seems to leave out the last digit of "
                            "EAN-13 barcodes (the whole barcode would be %(full)s). Switch on sending the "
                            "EAN-13 check digit in the scanner's settings.")
                          % {"code": s.value, "full": s.value + str(check_digit(s.value))})
        raise Refused(_("Unknown code %(code)s: not a product barcode, marking code or command.") % {"code": s.value})
    return _apply_to(op, s, None, teach)


def _apply_to(op: Operation, s: Scan, forced: int | None, teach: bool) -> Feedback:
    """A code for an item: the one it belongs to, or ``forced`` (the packer's answer)."""
    if s.kind in (Kind.UIN, Kind.RNPT, Kind.GTD):
        return _scan_other(op, InstanceKind(s.kind.value), s.value, forced)
    if s.kind == Kind.PRODUCT:
        return _scan_product(op, s.gtin, s.value, forced, teach)
    # Anything else for an item must be a Честный ЗНАК code; the parser says what is wrong with it.
    return _scan_cis(op, s.value, forced, teach)


def _scan_product(op: Operation, gtin: str, raw: str, forced: int | None, teach: bool) -> Feedback:
    op.check_open()
    st = barcodes.resolve(op, gtin, raw, forced=forced, teach=teach)
    if isinstance(st, Feedback):
        return st
    if st.unplaced <= 0:
        raise Refused(_("The only unit of %(sku)s is already in a box.") % {"sku": st.item.offer_id}
                      if st.item.count == 1 else
                      ngettext("All %(count)s unit of %(sku)s are already in boxes.",
                               "All %(count)s units of %(sku)s are already in boxes.", st.item.count)
                      % {"count": st.item.count, "sku": st.item.offer_id})
    box = boxes.place_unit(op, st)
    msg = _("%(sku)s → box %(box)s (%(placed)s of %(count)s).") % {
        "sku": st.item.offer_id, "box": box, "placed": st.placed, "count": st.item.count}
    missing = [k for k in st.required if len(st.codes[k]) < st.placed]
    if missing:
        msg += " " + _("Scan its marking code.")
    return op.ok(msg)


def _duplicate_check(op: Operation, kind: str, identity: str) -> None:
    for st in op.state.items.values():
        for inst in st.codes[kind]:
            if inst.identity == identity:
                raise Refused(_("This code is already scanned in this order (%(sku)s, unit %(unit)s).")
                              % {"sku": st.item.offer_id, "unit": inst.unit})
    other, coming = holding_instance(kind, identity, op.order.pk)
    if coming is not None:
        raise Refused(_("This code is coming back in return %(r)s of order %(n)s: receive the return first.")
                      % {"r": coming.market_id, "n": other.order.market_id})
    if other is not None:
        raise Refused(_("This code is already used in order %(n)s.") % {"n": other.order.market_id})


def _scan_cis(op: Operation, code: str, forced: int | None, teach: bool) -> Feedback:
    op.check_open()
    gtin = code[2:16]
    known = barcodes.facts(op, gtin) if digits(gtin) else None
    lengths = {gtin: known.serial_length} if known and known.serial_length else None
    try:
        cis = parse_cis(code, substitutes=settings.SCANNER_GS_SUBSTITUTES, serial_lengths=lengths)
    except CodeError as exc:
        raise Refused(code_error_message(exc)) from None
    st = barcodes.resolve(op, cis.gtin, code, kind=InstanceKind.CIS, forced=forced,
                          known=known if cis.gtin == gtin else None, teach=teach)
    if isinstance(st, Feedback):
        return st
    if InstanceKind.CIS not in st.accepted:
        raise Refused(_("%(sku)s does not take Chestny ZNAK codes.") % {"sku": st.item.offer_id})
    _duplicate_check(op, InstanceKind.CIS, cis.identification)
    if not cis.rebuilt and GS in cis.value:
        barcodes.remember_serial_length(op, cis.gtin, len(cis.serial))
    return _attach(op, st, InstanceKind.CIS, cis.value, cis.identification)


def _scan_other(op: Operation, kind: str, code: str, forced: int | None = None) -> Feedback:
    """UIN, RNPT or GTD: the item is the one that needs it (asked when several do)."""
    op.check_open()
    state = op.state
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
                raise Refused(_("No item of this order takes this code (%(kind)s).")
                              % {"kind": InstanceKind(kind).label})
            raise Refused(_("Every unit already has its code (%(kind)s).") % {"kind": InstanceKind(kind).label})
        else:
            return Feedback(False, _("Which item is this code for (%(kind)s)?") % {"kind": InstanceKind(kind).label},
                            prompt={"code": code, "gtin": "", "items": [s.item for s in wanting]})
    _duplicate_check(op, kind, code)
    return _attach(op, st, kind, code, code)


def _attach(op: Operation, st: ItemState, kind: str, value: str, identity: str) -> Feedback:
    """Give the code to a unit: one in the current box that lacks it, else a new unit into the
    current box, else any placed unit that lacks it."""
    cur = op.order.current_box
    unit: int | None = None
    box: Box | None = None
    coded_units = {i.unit for i in st.codes[kind]}
    for u, parts in st.split.items():
        if u not in coded_units and any(p.box_number == cur for p in parts):
            unit = u
    line = st.whole.get(cur)
    if unit is None and line is not None and st.codes_in_box(kind, cur) < (line.full_count or 0):
        unit, box = st.free_unit(kind), op.state.boxes[cur].box
    if unit is None and st.unplaced > 0:
        number = boxes.place_unit(op, st)
        unit, box = st.free_unit(kind), op.state.boxes[number].box
    if unit is None:
        for number, wline in st.whole.items():
            if st.codes_in_box(kind, number) < (wline.full_count or 0):
                unit, box = st.free_unit(kind), op.state.boxes[number].box
                break
    if unit is None:
        unit = next((u for u in st.split if u not in coded_units), None)
    if unit is None:
        raise Refused((_("The only unit of %(sku)s already has its code (%(kind)s).") if st.item.count == 1 else
                       ngettext("All %(count)s unit of %(sku)s already have their codes (%(kind)s).",
                                "All %(count)s units of %(sku)s already have their codes (%(kind)s).", st.item.count))
                      % {"count": st.item.count, "sku": st.item.offer_id, "kind": InstanceKind(kind).label})
    inst = Instance.objects.create(order=op.order, item_id=st.item.pk, unit=unit, kind=kind, value=value,
                                   identity=identity, box=box, scanned_by=op.user)
    st.codes[kind].append(Code.of(inst, box.number if box else None))
    op.layout_changed = True
    op.items.add(st.item.pk)
    op.codes.append(inst.pk)
    where = _("box %(n)s") % {"n": box.number} if box else _("split unit %(u)s") % {"u": unit}
    return op.ok(_("%(kind)s for %(sku)s (%(have)s of %(count)s), %(where)s.") % {
        "kind": InstanceKind(kind).label, "sku": st.item.offer_id, "have": len(st.codes[kind]),
        "count": st.item.count, "where": where})


def _country(op: Operation, country: str) -> Feedback:
    op.check_open()
    if not is_country(country):
        raise Refused(_("%(code)s is not a country code (ISO 3166-1): scan the country of origin again.")
                      % {"code": country})
    inst = (Instance.objects.filter(order=op.order, kind__in=(InstanceKind.RNPT, InstanceKind.GTD), country_code="")
            .order_by("-id").first())
    if inst is None:
        raise Refused(_("%(code)s looks like a country code, but no RNPT or GTD code waits for one.")
                      % {"code": country})
    Instance.objects.filter(pk=inst.pk).update(country_code=country)
    op.layout_changed = op.structure = True
    return op.ok(_("Country %(c)s set for %(code)s.") % {"c": country, "code": inst.value})


def set_country(op: Operation, instance: int, country: str) -> Feedback:
    """Change the country of an RNPT or GTD code without removing the code."""
    op.check_open()
    country = country.strip().upper()
    inst = Instance.objects.filter(order=op.order, pk=int(instance),
                                   kind__in=(InstanceKind.RNPT, InstanceKind.GTD)).first()
    if inst is None:
        raise Refused(_("That code is no longer in this order; the screen was out of date."))
    if not is_country(country):
        raise Refused(_("%(code)s is not a country code (ISO 3166-1): scan the country of origin again.")
                      % {"code": country})
    Instance.objects.filter(pk=inst.pk).update(country_code=country)
    op.layout_changed = op.structure = True
    return op.ok(_("Country %(c)s set for %(code)s.") % {"c": country, "code": inst.value})


def delete_code(op: Operation, instance: int) -> Feedback:
    """Remove a scanned code (a wrong one, or one the Market rejected) so another can be scanned."""
    op.check_open()
    inst = Instance.objects.filter(order=op.order, pk=int(instance)).first()
    if inst is None:
        raise Refused(_("That code is no longer in this order; the screen was out of date."))
    inst.delete()
    op.layout_changed = True
    return op.ok(_("Code %(code)s removed: scan another one.") % {"code": inst.identity or inst.value})
