"""The outbox as a packing operation writes it: as ``outbox.enqueue``, in fewer round trips.

Finish and ready to ship spent half their CPU under the order's lock, a good part of it in the
outbox's ORM calls (each ``update()`` and ``create()`` compiled anew, each its own round trip). Here
the action's INSERT (its id is needed) is compiled once (``writes.insert``); what needs no answer
(the older layouts superseded, the audit event) waits in ``op.writes`` and goes with the version
bump, still in the operation's transaction: the action is there exactly when the change is, and is
delivered after commit as any other (``outbox.deliver_action_task``).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.utils import timezone

from fulfilment.market.changes import Change
from fulfilment.orders import compiled_sql
from fulfilment.orders.models import AuditEvent, OutboxAction
from fulfilment.orders.outbox import CHANGE_OF, KIND_OF, OPEN_STATES, C, deliver_action_task

from .kernel import Operation
from .writes import insert, update

Kind = OutboxAction.Kind
State = OutboxAction.State
# Stand-ins the statements are compiled with: no order or action has them.
_ORDER_ID, _ACTION_ID = -918_273_701, -918_273_702


def enqueue(op: Operation, change: Change) -> int:
    """``outbox.enqueue(order.campaign, change, order=order, user=op.user)`` for the locked order; the
    new action's id."""
    conn = connections[DEFAULT_DB_ALIAS]
    if not conn.in_atomic_block:
        raise RuntimeError("enqueue() belongs inside the transaction of the change it reports")
    o, kind = op.order, KIND_OF[type(change)]
    action = OutboxAction(campaign=o.campaign, order=o, kind=kind, payload=change.to_json(),
                          created_by=op.user, next_attempt_at=timezone.now())
    if conn.features.can_return_columns_from_insert:
        with conn.cursor() as cursor:  # what waits in op.writes goes first (the connection's wrapper)
            cursor.execute(*insert(action, returning=True))
            action.pk = cursor.fetchone()[0]
    else:
        action.save(force_insert=True)
    if kind == Kind.LAYOUT:
        # Only the newest layout matters (as outbox.enqueue): every older one still pending.
        op.writes.later(update("outbox-supersede", _older_layouts, (_ORDER_ID, _ACTION_ID), (o.pk, action.pk)))
    op.writes.later(insert(AuditEvent(order=o, user=op.user, action=f"outbox.{kind.lower()}",
                                      payload={"action": action.pk})))
    deliver_action_task.delay_on_commit(action.pk)
    return action.pk


def _older_layouts(order_id: int, action_id: int) -> tuple[QuerySet[OutboxAction], dict[str, Any]]:
    return (OutboxAction.objects.filter(order_id=order_id, kind=Kind.LAYOUT, state=State.PENDING)
            .exclude(pk=action_id), {"state": State.SUPERSEDED})


def removal_pending(order_id: int) -> bool:
    """An item is being removed at the Market (its action pending or on the wire); compiled once."""
    return bool(compiled_sql.rows("outbox-removal-pending", _removals, (_ORDER_ID,), (order_id,)))


def _removals(order_id: int) -> QuerySet:
    return OutboxAction.objects.filter(order_id=order_id, kind=Kind.REMOVAL,
                                       state__in=(State.PENDING, State.SENDING)).values_list("id")[:1]


def open_changes(order_id: int, change_type: type[C]) -> list[C]:
    """As ``outbox.open_changes``, its SQL compiled once."""
    kind = KIND_OF[change_type]
    rows = compiled_sql.rows(f"outbox-open:{kind}", lambda pk: _open(pk, kind), (_ORDER_ID,), (order_id,))
    # The driver's rows: a JSON column may come as text (SQLite).
    return [CHANGE_OF[kind].from_json(json.loads(p) if isinstance(p, str) else p)  # type: ignore[misc]
            for (p,) in rows]


def _open(order_id: int, kind: str) -> QuerySet:
    return (OutboxAction.objects.filter(order_id=order_id, kind=kind, state__in=OPEN_STATES)
            .order_by("id").values_list("payload"))
