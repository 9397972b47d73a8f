"""The transaction every packing and supervisor operation runs in.

The order row is locked for the operation (two packers on one order queue up behind each other;
none of their changes is lost or doubled), the operation records an audit event, and the order's
version is bumped on the way out. A refusal (``Refused``) rolls everything back and becomes a
``Feedback`` with the reason. Changes for the Market go through the outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Exists, F, QuerySet
from django.utils.translation import gettext as _

from fulfilment.orders.catalogue import BarcodeFacts, facts_of, order_facts_statement
from fulfilment.orders.compiled import Compiled, compiled
from fulfilment.orders.models import AuditEvent, Order

from .state import PackState, StateRows, state_sql
from .writes import Statement, Writes, insert, together, update

User = AbstractBaseUser | AnonymousUser | None


class Refused(Exception):
    """The request cannot be done; the message says why and nothing was changed."""


class OrderStateRefused(Refused):
    """Refused for the order's state (cancelled, delivered, held, labels not yet there), not for a
    packing mistake: the shift view counts these apart."""


class AlreadyReceived(Exception):
    """The scan's id is already recorded: it was applied before (a resent request)."""


@dataclass
class Feedback:
    """What the packer is told after an operation, and what it changed on the screen."""

    ok: bool
    message: str
    prompt: dict[str, Any] | None = None  # ask which item a code belongs to
    taught: bool = False  # a person linked a barcode to an item (the teach mode has done its one link)
    redirect: str | None = None
    duplicate: bool = False
    print_labels: bool = False  # the station prints the box labels (CMD-LABELS)
    code: str = ""  # the scan this answers, shown beside a refusal in a batch
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
class Operation:
    """One operation on a locked order: the order, its packing state, who does it, and what it
    changed so far (notes for the message, rows to re-render, whether the layout changed)."""

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
    taught: bool = False  # a barcode was linked by the person doing this
    undid: int | None = None  # the audit event of the scan this operation took back (CMD-UNDO)
    writes: Writes = field(default_factory=Writes)  # sent with the version bump, or before the next statement
    facts: dict[str, BarcodeFacts] = field(default_factory=dict)  # GTINs' facts read with the lock

    def ok(self, message: str) -> Feedback:
        """Success, with what the operation noted on the way (a box opened, a barcode linked)."""
        return Feedback(True, " ".join([message, *self.notes]), taught=self.taught)

    def check_open(self) -> None:
        """Refuse when the order may not be packed or changed now."""
        blockers = self.state.blockers()
        if blockers:
            raise OrderStateRefused(blockers[0])
        if self.order.layout_sent_version is not None and self.order.is_ready_to_ship:
            raise OrderStateRefused(_("The order is already ready to ship."))


def known_user(user: User) -> AbstractBaseUser | None:
    """The user to record, or None for an anonymous one."""
    return user if user is not None and user.is_authenticated else None  # type: ignore[return-value]


# Stand-ins the locked read is compiled with (``compiled.py``): no order or request has them.
_ORDER_ID, _REQUEST_ID = -918_273_645, uuid.UUID("00000000-0000-4000-8000-00000000b00c")
_CURRENT_BOX = -918_273_649


def _orders(order_id: int, request_id: uuid.UUID | None) -> QuerySet[Order]:
    orders = Order.objects.select_for_update(of=("self",)).select_related("campaign")
    if request_id is not None:
        orders = orders.annotate(seen=Exists(AuditEvent.objects.filter(request_id=request_id)))
    return orders.filter(pk=order_id)


def _locked_order(order_id: int, request_id: uuid.UUID | None) -> Order:
    """The order and its shop, locked, and whether ``request_id`` was seen: the same read as ``_orders``,
    compiled once (a fifth of a scan's CPU was compiling it, issue 20)."""
    with_id = request_id is not None
    query = _locked_read(with_id)
    if not query.ok:  # a shape the compiled read does not know: the ORM's
        return _orders(order_id, request_id).get()
    order = query.get(order_id, request_id) if with_id else query.get(order_id)
    if order is None:
        raise Order.DoesNotExist
    return order  # type: ignore[return-value]


def _locked_read(with_id: bool) -> Compiled:
    return compiled(f"locked-order:{with_id}", lambda: _orders(_ORDER_ID, _REQUEST_ID if with_id else None),
                    (_ORDER_ID, _REQUEST_ID) if with_id else (_ORDER_ID,))


def _locked_state(order_id: int, request_id: uuid.UUID | None, gtin: str | None
                  ) -> tuple[Order, StateRows | None, BarcodeFacts | None]:
    """The locked read, then the order's packing state (``state.READS``) and the facts of ``gtin``, in
    one round trip on PostgreSQL: statements sent together still run one after the other, each
    seeing what was committed before it started, so what follows the lock is read once it is held,
    as apart (issue 20: every round trip under the order's lock costs CPU in the driver and the
    ORM, and time). The facts stay one statement (the link and the catalogue as of one moment)."""
    query, conn = _locked_read(request_id is not None), connections[DEFAULT_DB_ALIAS]
    reads = state_sql() if query.ok and together() else None
    if reads is None:
        return _locked_order(order_id, request_id), None, None
    facts = order_facts_statement(order_id, gtin) if gtin is not None else None
    args = (order_id,) if request_id is None else (order_id, request_id)
    statements = [(query.sql, query.bound.bind(args)), *((sql, [order_id]) for sql in reads),
                  *([facts] if facts is not None else [])]
    with conn.cursor() as cursor:
        cursor.execute(";\n".join(sql for sql, _params in statements), [p for _sql, ps in statements for p in ps])
        row = cursor.fetchone()
        rows = []
        for _statement in statements[1:]:
            cursor.nextset()
            rows.append(cursor.fetchall())
    if row is None:
        raise Order.DoesNotExist
    found = facts_of(gtin, rows.pop()) if facts is not None and gtin is not None else None
    return query.instance(row), tuple(rows), found  # type: ignore[return-value]


@contextmanager
def locked(order_id: int, user: User, request_id: uuid.UUID | None = None,
           gtin: str | None = None) -> Iterator[Operation]:
    """The order locked for this transaction, with its packing state; raises ``AlreadyReceived``
    (checked under the lock, in the same read) when ``request_id`` was seen before. ``gtin``: a
    product's GTIN the operation will look up (``Operation.facts``), read with the state."""
    with transaction.atomic():
        order, rows, facts = _locked_state(order_id, request_id, gtin)
        if getattr(order, "seen", False):
            raise AlreadyReceived
        op = Operation(order, PackState(order, rows), known_user(user))
        if facts is not None and gtin is not None:
            op.facts[gtin] = facts
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(op.writes):
            yield op
            op.writes.send(_bump(order, op.layout_changed))
        # As ``Order.bump_version``: with the row locked the new values are known without reading them.
        order.version += 1
        if op.layout_changed:
            order.layout_version += 1


def _bump(order: Order, layout: bool) -> Statement:
    """``order.bump_version(layout=layout, save=("current_box",))`` as a statement (``writes.update``)."""
    def build(pk: int, current_box: int) -> tuple[QuerySet[Order], dict[str, Any]]:
        values: dict[str, Any] = {"version": F("version") + 1, "current_box": current_box}
        if layout:
            values["layout_version"] = F("layout_version") + 1
        return Order.objects.filter(pk=pk), values

    return update(f"bump:{layout}", build, (_ORDER_ID, _CURRENT_BOX), (order.pk, order.current_box))


def audit(op: Operation, action: str, payload: dict[str, Any], request_id: uuid.UUID | None = None) -> None:
    """The operation's audit event: written with its version bump (``writes``), once it has succeeded;
    a second event with the same ``request_id`` fails the whole operation (IntegrityError)."""
    op.writes.later(insert(AuditEvent(order=op.order, user=op.user, action=action, payload=payload,
                                      request_id=request_id)))


def attempt(order_id: int, user: User, action: str, do: Callable[..., Feedback], **params: Any) -> Feedback:
    """Run ``do(op, **params)`` on the locked order and record it as ``pack.<action>`` with its
    parameters and result; a refusal changes nothing and says why."""
    try:
        with locked(order_id, user) as op:
            fb = do(op, **params)
            audit(op, f"pack.{action}", {k: v for k, v in params.items() if isinstance(v, (str, int))}
                  | {"result": fb.message})
            return fb
    except Refused as exc:
        return Feedback(False, str(exc))
