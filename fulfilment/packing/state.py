"""An order's packing state in memory: units in boxes, codes per unit, and the Market's layout rules.

Built from four queries whatever the order's size (items, boxes, box lines, codes), then used both
to decide what a scan means and to render the screen. The rules are seed 001's ("Order
preparation", PUT .../boxes) and CODES.md's, checked here before anything is sent, with messages a
packer can act on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _, ngettext

from fulfilment.market import types as mt
from fulfilment.market.changes import BoxLayout
from fulfilment.orders.models import (
    Box,
    Instance,
    InstanceKind,
    Order,
    OrderItem,
    OrderStatus,
    Verification,
)

from .history import status_text

# requiredInstanceTypes value → the kind of code that satisfies it.
KIND_FOR_TYPE = {"CIS": InstanceKind.CIS, "CIS_OPTIONAL": InstanceKind.CIS, "UIN": InstanceKind.UIN,
                 "RNPT": InstanceKind.RNPT, "GTD": InstanceKind.GTD}
# Codes the Market checks asynchronously (POST .../identifiers/status).
CHECKED_KINDS = (InstanceKind.CIS, InstanceKind.UIN)


@dataclass(slots=True, eq=False)
class Item:
    """An ``OrderItem`` row, with only what packing uses."""

    pk: int
    market_item_id: int
    offer_id: str
    name: str
    count: int
    required_instance_types: list[str]

    COLUMNS = ("id", "market_item_id", "offer_id", "name", "count", "required_instance_types")


@dataclass(slots=True, eq=False)
class Code:
    """A scanned code (an ``Instance`` row) as packing needs it. Plain records, not model objects:
    the state is rebuilt on every scan and a model object costs several times as much to make."""

    pk: int
    item_id: int
    unit: int
    kind: str
    value: str
    identity: str
    country_code: str
    box_id: int | None
    verification: str
    verification_message: str
    box_number: int | None = None

    COLUMNS = ("id", "item_id", "unit", "kind", "value", "identity", "country_code", "box_id", "verification",
               "verification_message")

    @classmethod
    def of(cls, inst: Instance, box_number: int | None) -> Code:
        return cls(*(getattr(inst, c) for c in cls.COLUMNS), box_number=box_number)  # type: ignore[misc]

    def get_kind_display(self) -> str:
        return str(InstanceKind(self.kind).label)

    def get_verification_display(self) -> str:
        return str(Verification(self.verification).label)


@dataclass(slots=True, eq=False)
class Line:
    """A ``BoxLine`` row: whole units of an item in a box, or one part of a split unit."""

    pk: int
    box_id: int
    item_id: int
    full_count: int | None
    unit: int | None
    part_current: int | None
    part_total: int | None
    box_number: int = 0
    item_state: ItemState | None = None
    is_new: bool = False

    COLUMNS = ("id", "box_id", "item_id", "full_count", "unit", "part_current", "part_total")


@dataclass
class ItemState:
    item: Item
    whole: dict[int, Line] = field(default_factory=dict)  # box number → whole-units line
    split: dict[int, list[Line]] = field(default_factory=dict)  # unit → its part lines
    codes: dict[str, list[Code]] = field(default_factory=lambda: defaultdict(list))
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

    def codes_in(self, kind: str, box: int | None) -> list[Code]:
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
            ok = sum(1 for i in self.codes[kind] if i.verification in (Verification.OK, Verification.DELIVERED))
            bad = sum(1 for i in self.codes[kind] if i.verification == Verification.ERROR)
            out.append({"kind": kind, "label": InstanceKind(kind).label, "have": have, "need": self.item.count,
                        "optional": kind not in self.required, "verified": ok, "rejected": bad,
                        "done": have >= self.item.count})
        return out

    @property
    def code_list(self) -> list[Code]:
        return [i for k in self.accepted for i in self.codes.get(k, ())]

    @property
    def complete(self) -> bool:
        return self.placed == self.item.count and all(len(self.codes[k]) >= self.item.count for k in self.required)


@dataclass
class BoxState:
    box: Box
    lines: list[Line] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.box.number

    @property
    def part_line(self) -> Line | None:
        return next((line for line in self.lines if line.full_count is None), None)

    @property
    def empty(self) -> bool:
        return not self.lines


BOX_COLUMNS = ("id", "order_id", "number", "market_box_id", "barcode")
# The per-scan reads of an order's state, by the order's id. Their SQL is compiled by the ORM once per
# database: their shape never changes and the order's id is their only parameter. Compiling and
# iterating through the ORM cost three times what the database takes to answer them.
READS: dict[str, Callable[[int], QuerySet]] = {
    "items": lambda pk: OrderItem.objects.filter(order_id=pk).order_by("id").values_list(*Item.COLUMNS),
    # Boxes with their lines in one read (an empty box comes with a row of NULLs).
    "boxes": lambda pk: Box.objects.filter(order_id=pk).order_by("number", "lines__id")
    .values_list(*BOX_COLUMNS, *(f"lines__{c}" for c in Line.COLUMNS)),
    "codes": lambda pk: Instance.objects.filter(order_id=pk).order_by("item_id", "unit", "kind")
    .values_list(*Code.COLUMNS),
}
_STAND_IN = -918_273_648  # the order id the reads are compiled with: no order has it
_SQL: dict[str, list[str] | None] = {}
StateRows = tuple[list[tuple[Any, ...]], ...]  # the rows of ``READS``, in its order


def state_sql(alias: str = DEFAULT_DB_ALIAS) -> list[str] | None:
    """The SQL of ``READS`` (each with the order's id as its one parameter), or None when a read's
    compiled shape is not that (then only the ORM runs them)."""
    conn = connections[alias]
    key = alias + conn.vendor
    if key not in _SQL:
        compiled = [build(_STAND_IN).query.sql_with_params() for build in READS.values()]
        _SQL[key] = [sql for sql, _params in compiled] if all(
            tuple(params) == (_STAND_IN,) for _sql, params in compiled) else None
    return _SQL[key]


def read_state(order_id: int) -> StateRows:
    """The rows of ``READS`` for one order, one statement each."""
    sqls = state_sql()
    if sqls is None:
        return tuple(list(build(order_id)) for build in READS.values())
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        out = []
        for sql in sqls:
            cursor.execute(sql, (order_id,))
            out.append(cursor.fetchall())
    return tuple(out)


def _json_list(value: Any) -> list[Any]:
    """A JSONField read without the ORM: text on SQLite and as Django reads jsonb; already a list otherwise."""
    if isinstance(value, str):
        value = json.loads(value)
    return value or []


@lru_cache(maxsize=256)
def _kinds(types: tuple[str, ...], person: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(kinds every unit must carry, kinds a unit may carry) for an item's ``requiredInstanceTypes``."""
    known = [t for t in types if t in KIND_FOR_TYPE]
    accepted = tuple(dict.fromkeys(KIND_FOR_TYPE[t] for t in known))
    # Честный ЗНАК codes are optional for individuals, required for businesses (CODES.md).
    required = tuple(dict.fromkeys(
        KIND_FOR_TYPE[t] for t in known if t != "CIS_OPTIONAL" and not (t == "CIS" and person)))
    return required, accepted


def cancelled_message() -> str:
    """Why nothing more is done for an order the Market cancelled: the first thing a scan is told."""
    return _("The Market cancelled this order: stop packing and set its items aside. "
             "Scans and finishing are refused.")


class PackState:
    def __init__(self, order: Order, rows: StateRows | None = None) -> None:
        """``rows``: the order's ``READS``, when read already (with the order's lock, ``kernel.locked``)."""
        self.order = order
        item_rows, box_rows, code_rows = rows if rows is not None else read_state(order.pk)
        # Plain records of only the columns packing uses: this runs on every scan, and model
        # objects for a 100-item order cost more than the rest of the scan.
        items = [Item(*row[:-1], _json_list(row[-1])) for row in item_rows]
        boxes: list[Box] = []
        lines: list[Line] = []
        for row in box_rows:
            if not boxes or boxes[-1].pk != row[0]:
                boxes.append(Box.from_db(None, BOX_COLUMNS, row[:len(BOX_COLUMNS)]))
            if row[len(BOX_COLUMNS)] is not None:
                lines.append(Line(*row[len(BOX_COLUMNS):]))
        codes = [Code(*row) for row in code_rows]
        self.items: dict[int, ItemState] = {}
        person = (order.buyer_type or "PERSON") != "BUSINESS"
        for item in items:
            required, accepted = _kinds(tuple(item.required_instance_types), person)
            self.items[item.pk] = ItemState(item, required=required, accepted=accepted)
        self.boxes: dict[int, BoxState] = {b.number: BoxState(b) for b in boxes}
        by_box_id = {b.pk: b for b in boxes}
        for line in lines:
            box = by_box_id[line.box_id]
            line.box_number = box.number
            self.boxes[box.number].lines.append(line)
            st = self.items[line.item_id]
            line.item_state = st
            if line.full_count is not None:
                st.whole[box.number] = line
            else:
                st.split.setdefault(line.unit or 0, []).append(line)
        for code in codes:
            code.box_number = by_box_id[code.box_id].number if code.box_id in by_box_id else None
            self.items[code.item_id].codes[code.kind].append(code)
        for st in self.items.values():
            for parts in st.split.values():
                parts.sort(key=lambda line: line.part_current or 0)

    # --- what the screen shows ------------------------------------------------------------------
    @property
    def current(self) -> BoxState | None:
        return self.boxes.get(self.order.current_box)

    @property
    def is_dbs(self) -> bool:
        return self.order.is_dbs

    def blockers(self, *, status: bool = True) -> list[str]:
        """Why the order may not be packed or finished at all (not the layout's own problems).
        ``status=False`` leaves out the Market's status (the screen of an order made ready here)."""
        o = self.order
        cancelled = o.status == OrderStatus.CANCELLED
        out = [cancelled_message()] if cancelled else []
        if o.flag_reason:
            out.append(_("A change at the Market needs attention: %(reason)s") % {"reason": o.flag_text})
        if o.problem:
            out.append(_("A problem was reported: %(problem)s") % {"problem": o.get_problem_display()})
        if status and not o.is_packable and not cancelled:
            out.append(_("The order is %(status)s / %(substatus)s at the Market: it is not being packed.")
                       % {"status": o.get_status_display(), "substatus": status_text(o.substatus)})
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
        # Translated once per call, not once per item: this runs on every scan of a 100-item order.
        few = _("%(sku)s: %(placed)s of %(count)s units are in boxes.")
        many = _("%(sku)s: %(placed)s units are in boxes but %(count)s were ordered.")
        parts_missing = _("%(sku)s: unit %(unit)s is split in %(total)s parts but not every part is in a box.")
        loose_code = _("%(sku)s: a code (%(kind)s) belongs to no unit in a box; remove it or rescan.")
        rejected = _("%(sku)s: the Market rejected code %(code)s; remove it and scan another.")
        labels = {kind: str(InstanceKind(kind).label) for kind in InstanceKind.values}
        for st in self.items.values():
            name, count, placed = st.item.offer_id, st.item.count, st.placed
            if placed < count:
                out.append(few % {"sku": name, "placed": placed, "count": count})
            elif placed > count:
                out.append(many % {"sku": name, "placed": placed, "count": count})
            for unit, parts in st.split.items():
                total = parts[0].part_total or 0
                if sorted(p.part_current for p in parts) != list(range(1, total + 1)):
                    out.append(parts_missing % {"sku": name, "unit": unit, "total": total})
            for kind in st.required:
                have = len(st.codes[kind])
                if have < count:
                    out.append(ngettext("%(sku)s: %(have)s of %(count)s code scanned (%(kind)s).",
                                        "%(sku)s: %(have)s of %(count)s codes scanned (%(kind)s).", count)
                               % {"sku": name, "have": have, "count": count, "kind": labels[kind]})
            for kind in st.accepted:
                if placed == count and st.codes_in(kind, None):
                    out.append(loose_code % {"sku": name, "kind": labels[kind]})
                for inst in st.codes[kind]:
                    if inst.verification == Verification.ERROR:
                        out.append(rejected % {"sku": name, "code": inst.identity or inst.value})
        return out

    # --- what goes to the Market ----------------------------------------------------------------
    @staticmethod
    def market_instance(code: Code) -> mt.Instance:
        """The code as the Market's ``Instance`` of its kind (with the country for a GTD or RNPT)."""
        country = code.country_code or None
        if code.kind == InstanceKind.CIS:
            return mt.Instance(cis=code.value, country_code=country)
        if code.kind == InstanceKind.UIN:
            return mt.Instance(uin=code.value, country_code=country)
        if code.kind == InstanceKind.RNPT:
            return mt.Instance(rnpt=code.value, country_code=country)
        return mt.Instance(gtd=code.value, country_code=country)

    def item_instances(self, st: ItemState) -> tuple[mt.Instance, ...]:
        """Every code of an item, of each kind it accepts (what DBS sends for the item)."""
        return tuple(self.market_instance(i) for k in st.accepted for i in st.codes[k])

    def layout(self, allow_remove: bool = False) -> BoxLayout:
        """The layout for the Market: boxes in number order, each unit's codes in its box(es).
        Built when the order is finished (or an item removed), not on every scan."""
        boxes = []
        for box in self.boxes.values():
            lines = []
            for line in box.lines:
                st = line.item_state
                assert st is not None
                mid = st.item.market_item_id
                if line.full_count is not None:
                    insts = tuple(self.market_instance(i) for k in st.accepted for i in st.codes[k]
                                  if i.box_number == box.number and i.unit not in st.split)
                    lines.append(mt.BoxLine(mid, line.full_count, instances=insts))
                else:
                    insts = tuple(self.market_instance(i) for k in st.accepted for i in st.codes[k]
                                  if i.unit == line.unit)
                    lines.append(mt.BoxLine(mid, partial=mt.PartialCount(line.part_current or 0, line.part_total or 0),
                                            instances=insts))
            boxes.append(tuple(lines))
        return BoxLayout(tuple(boxes), allow_remove)

    def codes_to_check(self) -> list[Code]:
        return [i for st in self.items.values() for k in CHECKED_KINDS if k in st.accepted for i in st.codes[k]]

    def verification_pending(self) -> bool:
        return any(i.verification in (Verification.NOT_SENT, Verification.PROCESSING) for i in self.codes_to_check())

    def verification_failed(self) -> bool:
        return any(i.verification == Verification.ERROR for i in self.codes_to_check())
