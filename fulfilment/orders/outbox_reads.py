"""The outbox's reads of every delivery (the claimed row, what goes first, what comes next), compiled once.

Each delivery ran the same three or four reads with only ids changed, and compiling them (the claimed
row's ``select_related`` and deferred order columns above all) was a large part of the worker's CPU an
action. They are compiled once with ``compiled`` and ``compiled_sql``, from the very querysets
built here; a shape those do not know runs through the ORM, as before.
"""

from __future__ import annotations

from django.db.models import QuerySet

from . import compiled_sql
from .compiled import compiled
from .models import Order, OutboxAction

State = OutboxAction.State
Kind = OutboxAction.Kind
OPEN_STATES = (State.PENDING, State.SENDING, State.FAILED)
# Stand-ins for the arguments while compiling: ids no row has.
_ACTION_ID = -918_273_651
_ORDER_ID = -918_273_652

_ORDER_UNUSED = [f"order__{f.name}" for f in Order._meta.concrete_fields if f.name not in ("id", "market_id")]


def _claimed(action_id: int) -> QuerySet[OutboxAction]:
    # The order's number is all a send needs of it (not its 40 other columns, the Market's JSON among them).
    return OutboxAction.objects.select_related("campaign__business", "order").defer(*_ORDER_UNUSED).filter(
        pk=action_id)


def claimed_action(action_id: int) -> OutboxAction:
    """The action just claimed, with its shop, business and order's number (``DoesNotExist`` if gone)."""
    query = compiled("outbox-claimed", lambda: _claimed(_ACTION_ID), (_ACTION_ID,))
    if not query.ok:
        return _claimed(action_id).get()
    action = query.get(action_id)
    if action is None:
        raise OutboxAction.DoesNotExist
    return action  # type: ignore[return-value]


# What an action waits for, by its kind (``outbox._blocked_by_earlier`` says why for each).
WAY_OUT, LAYOUT, RETURN, OTHER = "way-out", "layout", "return", "other"


def _earlier(order_id: int, action_id: int, shape: str) -> QuerySet[OutboxAction]:
    earlier = OutboxAction.objects.filter(order_id=order_id, id__lt=action_id, state__in=OPEN_STATES)
    if shape == WAY_OUT:
        earlier = earlier.filter(state=State.SENDING)
    elif shape == LAYOUT:
        earlier = earlier.exclude(kind__in=(Kind.LAYOUT, Kind.REMOVAL), state=State.FAILED)
    elif shape == RETURN:
        earlier = earlier.exclude(state=State.FAILED)
    return earlier.order_by("id").only("id", "state", "next_attempt_at")[:1]


def earlier_open(order_id: int, action_id: int, shape: str) -> OutboxAction | None:
    """The first open action of the order before ``action_id`` that this shape of action waits for."""
    query = compiled(f"outbox-earlier:{shape}", lambda: _earlier(_ORDER_ID, _ACTION_ID, shape),
                     (_ORDER_ID, _ACTION_ID))
    if not query.ok:
        return _earlier(order_id, action_id, shape).first()
    return query.get(order_id, action_id)  # type: ignore[return-value]


def _next_pending(order_id: int, action_id: int) -> QuerySet:
    return (OutboxAction.objects.filter(order_id=order_id, id__gt=action_id, state=State.PENDING)
            .order_by("id").values_list("id")[:1])


def next_pending(order_id: int, action_id: int) -> int | None:
    """The order's first waiting action after ``action_id``: the one a delivery queues next."""
    found = compiled_sql.rows("outbox-next", _next_pending, (_ORDER_ID, _ACTION_ID), (order_id, action_id))
    return found[0][0] if found else None


def _state(action_id: int) -> QuerySet:
    return OutboxAction.objects.filter(pk=action_id).values_list("state")[:1]


def state_of(action_id: int) -> str | None:
    """The action's state, or None when there is no such action."""
    found = compiled_sql.rows("outbox-state", _state, (_ACTION_ID,), (action_id,))
    return found[0][0] if found else None
