"""An order's packing state in memory: units in boxes, codes per unit, and the Market's layout rules.

Built from four queries whatever the order's size (items, boxes, box lines, codes), then used both
to decide what a scan means and to render the screen. The rules are seed 001's ("Order
preparation", PUT .../boxes) and CODES.md's, checked here before anything is sent, with messages a
packer can act on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from fulfilment.orders.models import (
    Box,
    BoxLine,
    Instance,
    InstanceKind,
    Order,
    OrderItem,
    OrderStatus,
    OrderSubstatus,
    PlacementModel,
    Verification,
)

# requiredInstanceTypes value → the kind of code that satisfies it.
KIND_FOR_TYPE = {"CIS": InstanceKind.CIS, "CIS_OPTIONAL": InstanceKind.CIS, "UIN": InstanceKind.UIN,
                 "RNPT": InstanceKind.RNPT, "GTD": InstanceKind.GTD}
FIELD_FOR_KIND = {InstanceKind.CIS: "cis", InstanceKind.UIN: "uin", InstanceKind.RNPT: "rnpt",
                  InstanceKind.GTD: "gtd"}
# Codes the Market checks asynchronously (POST .../identifiers/status).
CHECKED_KINDS = (InstanceKind.CIS, InstanceKind.UIN)


@dataclass
class ItemState:
    item: OrderItem
    whole: dict[int, BoxLine] = field(default_factory=dict)  # box number → whole-units line
    split: dict[int, list[BoxLine]] = field(default_factory=dict)  # unit → its part lines
    codes: dict[str, list[Instance]] = field(default_factory=lambda: defaultdict(list))
    required: tuple[str, ...] = ()  # kinds every unit must carry
    accepted: tuple[str, ...] = ()  # kinds a unit may carry

    @property
    def whole_units(self) -> int:
        return sum(line.full_count or 0 for line in self.whole.values())

    @property
    def placed(self) -> int:
        return self.whole_units + len(self.split)

    @property
    def unplaced(self) -> int:
        return self.item.count - self.placed

    def codes_in(self, kind: str, box: int | None) -> list[Instance]:
        """Codes of whole units lying in ``box`` (None: codes of units taken out of every box)."""
        return [i for i in self.codes[kind] if i.box_number == box and i.unit not in self.split]

    def codes_in_box(self, kind: str, box: int) -> int:
        return len(self.codes_in(kind, box))

    def free_unit(self, kind: str) -> int:
        """The lowest unit number with no code of ``kind`` and not split (for a whole unit)."""
        used = {i.unit for i in self.codes[kind]} | set(self.split)
        return next(u for u in range(1, self.item.count + len(used) + 2) if u not in used)

    def progress(self) -> list[dict[str, Any]]:
        """Per accepted kind: how many codes there are, how many are needed, whether optional."""
        out = []
        for kind in self.accepted:
            have = len(self.codes[kind])
            ok = sum(1 for i in self.codes[kind] if i.verification == Verification.OK)
            bad = sum(1 for i in self.codes[kind] if i.verification == Verification.ERROR)
            out.append({"kind": kind, "label": InstanceKind(kind).label, "have": have, "need": self.item.count,
                        "optional": kind not in self.required, "verified": ok, "rejected": bad,
                        "done": have >= self.item.count})
        return out

    @property
    def code_list(self) -> list[Instance]:
        return [i for k in self.accepted for i in self.codes.get(k, ())]

    @property
    def complete(self) -> bool:
        return self.placed == self.item.count and all(len(self.codes[k]) >= self.item.count for k in self.required)


@dataclass
class BoxState:
    box: Box
    lines: list[BoxLine] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.box.number

    @property
    def part_line(self) -> BoxLine | None:
        return next((line for line in self.lines if line.full_count is None), None)

    @property
    def empty(self) -> bool:
        return not self.lines


class PackState:
    def __init__(self, order: Order) -> None:
        self.order = order
        # The Market's raw lists (tags, promos, known instances) are not needed to pack: not decoded.
        items = list(order.items.all().order_by("id").defer("tags", "promos", "market_instances", "vat"))
        boxes = list(Box.objects.filter(order=order).order_by("number"))
        lines = list(BoxLine.objects.filter(box__order=order).order_by("box__number", "id"))
        instances = list(Instance.objects.filter(order=order).order_by("item_id", "unit", "kind"))
        self.items: dict[int, ItemState] = {}
        person = (order.buyer_type or "PERSON") != "BUSINESS"
        for item in items:
            types = [t for t in (item.required_instance_types or []) if t in KIND_FOR_TYPE]
            accepted = tuple(dict.fromkeys(KIND_FOR_TYPE[t] for t in types))
            # Честный ЗНАК codes are optional for individuals, required for businesses (CODES.md).
            required = tuple(dict.fromkeys(
                KIND_FOR_TYPE[t] for t in types if t != "CIS_OPTIONAL" and not (t == "CIS" and person)))
            self.items[item.pk] = ItemState(item, required=required, accepted=accepted)
        self.boxes: dict[int, BoxState] = {b.number: BoxState(b) for b in boxes}
        by_box_id = {b.pk: b for b in boxes}
        for line in lines:
            box = by_box_id[line.box_id]
            line.box_number = box.number  # type: ignore[attr-defined]
            self.boxes[box.number].lines.append(line)
            st = self.items[line.item_id]
            line.item_state = st  # type: ignore[attr-defined]
            if line.full_count is not None:
                st.whole[box.number] = line
            else:
                st.split.setdefault(line.unit or 0, []).append(line)
        for inst in instances:
            inst.box_number = by_box_id[inst.box_id].number if inst.box_id in by_box_id else None  # type: ignore
            self.items[inst.item_id].codes[inst.kind].append(inst)
        for st in self.items.values():
            for parts in st.split.values():
                parts.sort(key=lambda line: line.part_current or 0)

    # --- what the screen shows ------------------------------------------------------------------
    @property
    def current(self) -> BoxState | None:
        return self.boxes.get(self.order.current_box)

    @property
    def is_dbs(self) -> bool:
        return self.order.campaign.placement_model == PlacementModel.DBS

    @property
    def packable(self) -> bool:
        o = self.order
        return o.status == OrderStatus.PROCESSING and o.substatus in (OrderSubstatus.STARTED, "PACKAGING", "")

    def blockers(self) -> list[str]:
        """Why the order may not be packed or finished at all (not the layout's own problems)."""
        o = self.order
        out = []
        if o.flag_reason:
            out.append(_("A change at the Market needs attention: %(reason)s") % {"reason": o.flag_reason})
        if o.problem:
            out.append(_("A problem was reported: %(problem)s") % {"problem": o.get_problem_display()})
        if not self.packable:
            out.append(_("The order is %(status)s / %(substatus)s at the Market: it is not being packed.")
                       % {"status": o.get_status_display(), "substatus": o.substatus or "—"})
        if o.cancel_requested:
            out.append(_("The buyer asked to cancel this order: wait for the supervisor's decision."))
        return out

    def layout_problems(self) -> list[str]:
        """Every rule of the Market the current layout breaks, explained; empty when it can be sent."""
        out: list[str] = []
        if not self.boxes:
            out.append(_("There are no boxes yet: scan an item to start."))
        for box in self.boxes.values():
            if box.empty:
                out.append(_("Box %(n)s is empty: put something in it or remove it.") % {"n": box.number})
            elif box.part_line is not None and len(box.lines) > 1:
                out.append(_("Box %(n)s holds a part of an item and something else: a part travels alone.")
                           % {"n": box.number})
        for st in self.items.values():
            name = st.item.offer_id
            if st.placed < st.item.count:
                out.append(_("%(sku)s: %(placed)s of %(count)s units are in boxes.")
                           % {"sku": name, "placed": st.placed, "count": st.item.count})
            elif st.placed > st.item.count:
                out.append(_("%(sku)s: %(placed)s units are in boxes but %(count)s were ordered.")
                           % {"sku": name, "placed": st.placed, "count": st.item.count})
            for unit, parts in st.split.items():
                total = parts[0].part_total or 0
                if sorted(p.part_current for p in parts) != list(range(1, total + 1)):
                    out.append(_("%(sku)s: unit %(unit)s is split in %(total)s parts but not every part is in a box.")
                               % {"sku": name, "unit": unit, "total": total})
            for kind in st.required:
                have = len(st.codes[kind])
                if have < st.item.count:
                    out.append(_("%(sku)s: %(have)s of %(count)s %(kind)s codes scanned.")
                               % {"sku": name, "have": have, "count": st.item.count,
                                  "kind": InstanceKind(kind).label})
            for kind in st.accepted:
                loose = st.codes_in(kind, None)
                if loose and st.placed == st.item.count:
                    out.append(_("%(sku)s: a %(kind)s code belongs to no unit in a box; remove it or rescan.")
                               % {"sku": name, "kind": InstanceKind(kind).label})
                for inst in st.codes[kind]:
                    if inst.verification == Verification.ERROR:
                        out.append(_("%(sku)s: the Market rejected code %(code)s; remove it and scan another.")
                                   % {"sku": name, "code": inst.identity or inst.value})
        return out

    # --- what goes to the Market ----------------------------------------------------------------
    @staticmethod
    def _instance(inst: Instance) -> dict[str, str]:
        d = {FIELD_FOR_KIND[InstanceKind(inst.kind)]: inst.value}
        if inst.country_code:
            d["countryCode"] = inst.country_code
        return d

    def layout_payload(self) -> dict[str, Any]:
        """The outbox's LAYOUT payload: boxes in number order, each a list of ``OrderBoxLayoutItemDTO``
        (the client wraps them as ``{"boxes": [{"items": [...]}]}``), each unit's codes in its box(es)."""
        boxes = []
        for box in self.boxes.values():
            lines = []
            for line in box.lines:
                st: ItemState = line.item_state  # type: ignore[attr-defined]
                mid = st.item.market_item_id
                if line.full_count is not None:
                    insts = [self._instance(i) for k in st.accepted for i in st.codes[k]
                             if i.box_number == box.number and i.unit not in st.split]
                    entry: dict[str, Any] = {"id": mid, "fullCount": line.full_count}
                else:
                    insts = [self._instance(i) for k in st.accepted for i in st.codes[k] if i.unit == line.unit]
                    entry = {"id": mid, "partialCount": {"current": line.part_current, "total": line.part_total}}
                if insts:
                    entry["instances"] = insts
                lines.append(entry)
            boxes.append(lines)
        return {"boxes": boxes}

    def codes_to_check(self) -> list[Instance]:
        return [i for st in self.items.values() for k in CHECKED_KINDS if k in st.accepted for i in st.codes[k]]

    def verification_pending(self) -> bool:
        return any(i.verification in (Verification.NOT_SENT, Verification.PROCESSING) for i in self.codes_to_check())

    def verification_failed(self) -> bool:
        return any(i.verification == Verification.ERROR for i in self.codes_to_check())
