"""The outbox: every change for the Market is a row written with the local change, then delivered.

Delivery claims a row with a conditional UPDATE (two workers never send one action at once),
keeps each order's actions in order, retries transient failures with backoff, stops on the
Market's 400 with its messages shown, and flags the campaign on 401/403. A worker killed mid-send
leaves the row SENDING; after ``CLAIM_LEASE`` it is sent again, and an answer that says the
change is already there (e.g. the order is already READY_TO_SHIP) counts as delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, TypeVar

from celery import shared_task
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from fulfilment.market import types as mt
from fulfilment.market.changes import (
    BoxLayout,
    CancellationDecision,
    CargoPlaces,
    Change,
    DigitalCodes,
    Identifiers,
    ItemCounts,
    ItemRemoval,
    OrderUpdate,
    StatusChange,
    StatusChanges,
)
from fulfilment.market.client import MarketClient
from fulfilment.market.errors import MarketBadRequest, MarketCredentialsError, MarketError, MarketRateLimited
from fulfilment.market.returns import ReturnDecisions
from fulfilment.market.shipment_changes import (
    ExternalOrderId,
    PalletsCount,
    ShipmentConfirm,
    ShipmentTransfer,
)

from . import outbox_reads, scheduling
from .clients import client_for
from .models import AuditEvent, Box, Business, Campaign, Order, OrderItem, OutboxAction
from .shipments import after_shipment_change
from .verification import check_identifiers_task, codes_delivered

log = logging.getLogger("fulfilment.outbox")
Kind = OutboxAction.Kind
State = OutboxAction.State
CLAIM_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 15
OPEN_STATES = outbox_reads.OPEN_STATES


# The kind of each change, stored beside it; the change's class reads the payload back.
KIND_OF: dict[type[Change], str] = {
    BoxLayout: Kind.LAYOUT, StatusChange: Kind.STATUS, StatusChanges: Kind.BULK_STATUS, Identifiers: Kind.IDENTIFIERS,
    ItemCounts: Kind.ITEMS, CargoPlaces: Kind.CARGO_PLACES, CancellationDecision: Kind.CANCELLATION,
    DigitalCodes: Kind.DIGITAL_CODES, OrderUpdate: Kind.UPDATE_ORDER, ItemRemoval: Kind.REMOVAL,
    ReturnDecisions: Kind.RETURN_DECISION,
    ShipmentTransfer: Kind.TRANSFER, PalletsCount: Kind.PALLETS, ShipmentConfirm: Kind.CONFIRM_SHIPMENT,
    ExternalOrderId: Kind.EXTERNAL_ID,
}
CHANGE_OF: dict[str, type[Change]] = {kind: cls for cls, kind in KIND_OF.items()}
C = TypeVar("C", bound=Change)


def enqueue(campaign: Campaign, change: Change, *, order: Order | None = None,
            user: AbstractBaseUser | None = None) -> OutboxAction:
    """Record a change for the Market; call inside the transaction of the local change. Sent after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue() belongs inside the transaction of the change it reports")
    kind = KIND_OF[type(change)]
    if kind == Kind.LAYOUT and order is not None:
        # Only the newest layout matters; a removal is a kind of its own and always reaches the Market.
        OutboxAction.objects.filter(order=order, kind=Kind.LAYOUT, state=State.PENDING).update(
            state=State.SUPERSEDED)
    action = OutboxAction.objects.create(campaign=campaign, order=order, kind=kind, payload=change.to_json(),
                                         created_by=user if user and user.is_authenticated else None,
                                         next_attempt_at=timezone.now())
    if order is not None:
        AuditEvent.objects.create(order=order, user=action.created_by, action=f"outbox.{kind.lower()}",
                                  payload={"action": action.pk})
    deliver_action_task.delay_on_commit(action.pk)
    return action


def change_of(action: OutboxAction) -> Change:
    """The change an action carries, read back with its own type."""
    return CHANGE_OF[action.kind].from_json(action.payload)


def sent_change(action: OutboxAction) -> Change | None:
    """As ``change_of``, or None for an action finished before payloads were stored as changes
    (migration 0010 converted only those still to be sent; the others keep the shape they had)."""
    try:
        return change_of(action)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def open_changes(order: Order, change_type: type[C]) -> list[C]:
    """The changes of this type still to reach the Market for this order."""
    actions = OutboxAction.objects.filter(order=order, kind=KIND_OF[change_type], state__in=OPEN_STATES)
    return [change_of(a) for a in actions.order_by("id")]  # type: ignore[misc]


def is_way_out(action: OutboxAction) -> bool:
    """A supervisor's way out of an order that cannot go on (cancel as the shop, decide the buyer's
    cancellation): it must never wait behind a change the Market refused."""
    if action.kind == Kind.CANCELLATION:
        return True
    change = sent_change(action) if action.kind == Kind.STATUS else None
    return isinstance(change, StatusChange) and change.status == "CANCELLED"


def _ends_order(action: OutboxAction, change: Change) -> bool:
    return (isinstance(change, StatusChange) and change.status == "CANCELLED") or (
        isinstance(change, CancellationDecision) and change.accepted)


def _blocked_by_earlier(action: OutboxAction) -> OutboxAction | None:
    if action.order_id is None:
        return None
    if is_way_out(action):
        # Only what is on the wire goes first; refused or waiting changes are made moot by it.
        shape = outbox_reads.WAY_OUT
    elif action.kind in (Kind.LAYOUT, Kind.REMOVAL):
        # A layout replaces the whole layout: a refused older one (a removal the Market would not
        # take) is not waited for, and is superseded once this one is delivered.
        shape = outbox_reads.LAYOUT
    elif action.kind == Kind.RETURN_DECISION:
        # A return comes long after packing: a refused packing change (or refused decision) holds it not.
        shape = outbox_reads.RETURN
    else:
        shape = outbox_reads.OTHER
    return outbox_reads.earlier_open(action.order_id, action.id, shape)


def claim(action_id: int) -> tuple[OutboxAction | None, OutboxAction | None]:
    """Take the action for sending. Returns (action, None) when taken, (None, earlier) when an
    earlier action of the same order must go first, (None, None) when not due, done, or taken."""
    now = timezone.now()
    due = Q(state=State.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    stale = Q(state=State.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    # attempts is counted here, so that a worker killed mid-send still leaves a trace of the try.
    if not OutboxAction.objects.filter(Q(pk=action_id) & (due | stale)).update(
            state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1):
        return None, None
    action = outbox_reads.claimed_action(action_id)
    earlier = _blocked_by_earlier(action)
    if earlier is not None:
        OutboxAction.objects.filter(pk=action_id, state=State.SENDING).update(
            state=State.PENDING, claimed_at=None, attempts=F("attempts") - 1)
        return None, earlier
    return action, None


def backoff(attempts: int) -> float:
    return float(min(600, 2 ** min(attempts - 1, 10)))  # 1, 2, 4 … 600 s


def deliver(action_id: int, client: MarketClient | None = None) -> tuple[str, float | None]:
    """Send one action. Returns (state, seconds until a retry or None)."""
    action, earlier = claim(action_id)
    if earlier is not None:
        # Order is kept per order. The earlier action's delivery queues this one; until then look again
        # when the earlier one is due (a refused one waits for staff, and its retry queues this one).
        if earlier.state == State.FAILED:
            return State.PENDING, None
        due = earlier.next_attempt_at or timezone.now()
        return State.PENDING, max(2.0, (due - timezone.now()).total_seconds() + 1.0)
    if action is None:
        current = outbox_reads.state_of(action_id)
        return current or "MISSING", None
    business = action.campaign.business
    client = client or client_for(business)
    change = change_of(action)
    try:
        result = _send(client, action, change)
    except MarketRateLimited as exc:
        # Waiting our turn is not a failure: it does not count towards the backoff or the give-up limit.
        action.attempts -= 1
        return _retry(action, max(exc.retry_after, 1.0), "; ".join(exc.messages))
    except MarketBadRequest as exc:
        if _already_applied(client, action, change):
            return _delivered(action, change, {"note": "already applied at the Market"})
        return _failed(action, exc)
    except MarketCredentialsError as exc:
        message = "; ".join(exc.messages)
        Campaign.objects.filter(pk=action.campaign_id).update(credentials_error=message)
        Business.objects.filter(pk=business.pk).update(credentials_error=message)
        return _failed(action, exc)
    except MarketError as exc:
        if exc.retryable and action.attempts < MAX_ATTEMPTS:
            return _retry(action, backoff(action.attempts), "; ".join(exc.messages))
        return _failed(action, exc)
    return _delivered(action, change, result)


def _send(client: MarketClient, action: OutboxAction, change: Change) -> dict[str, Any]:
    """Send the change; what the Market answered, summarised for the row (box ids, statuses, operations)."""
    answer = client.send_change(action.campaign.market_id, action.order.market_id if action.order else 0, change)
    if isinstance(change, ItemRemoval):
        change = change.change
    match change:
        case BoxLayout():
            return {"boxIds": [b.box_id for b in answer]}
        case StatusChange():
            return {"status": str(answer.status), "substatus": str(answer.substatus)}
        case StatusChanges():
            return {"orders": [{"id": r.order_id, "ok": r.ok, "status": r.status, "substatus": r.substatus,
                                "error": r.error} for r in answer]}
        case CargoPlaces():
            return {"boxIds": [b.id for b in answer]}
        case OrderUpdate():
            return {"operations": [{"id": o.id, "type": o.type} for o in answer]}
    return {}


def _already_applied(client: MarketClient, action: OutboxAction, change: Change) -> bool:
    """After a redelivery, a 400 may only mean "done already": look at the order to be sure."""
    if action.kind not in (Kind.STATUS, Kind.CANCELLATION) or action.order is None or action.attempts < 2:
        return False
    business = action.campaign.business
    try:
        page = client.get_business_orders(business.market_id, mt.OrdersFilter(order_ids=(action.order.market_id,)))
    except MarketError:
        return False
    if not page.orders:
        return False
    remote = page.orders[0]
    if isinstance(change, StatusChange):
        want = (change.status, change.substatus or str(remote.substatus))
        return (str(remote.status), str(remote.substatus)) == want
    return not remote.cancel_requested


def _retry(action: OutboxAction, wait: float, error: str) -> tuple[str, float]:
    OutboxAction.objects.filter(pk=action.pk).update(
        state=State.PENDING, attempts=action.attempts, claimed_at=None, last_error=error,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=wait))
    return State.PENDING, wait


def _failed(action: OutboxAction, exc: MarketError) -> tuple[str, None]:
    OutboxAction.objects.filter(pk=action.pk).update(
        state=State.FAILED, attempts=action.attempts, claimed_at=None, last_error=str(exc),
        market_errors=[{"code": e.code, "message": e.message} for e in exc.errors])
    if action.order_id:
        AuditEvent.objects.create(order_id=action.order_id, action="outbox.failed",
                                  payload={"action": action.pk, "errors": exc.messages})
    log.warning("outbox %s refused: %s", action.pk, exc)
    return State.FAILED, None


@transaction.atomic
def _delivered(action: OutboxAction, change: Change, result: dict[str, Any]) -> tuple[str, None]:
    updated = OutboxAction.objects.filter(pk=action.pk, state=State.SENDING).update(
        state=State.DELIVERED, attempts=action.attempts, claimed_at=None, result=result, last_error="",
        market_errors=[], delivered_at=timezone.now())
    if not updated:
        return OutboxAction.objects.get(pk=action.pk).state, None
    layout = change.change if isinstance(change, ItemRemoval) else change
    if isinstance(layout, BoxLayout | Identifiers | ItemCounts) and action.order_id:
        codes_delivered(action.order_id, layout)  # what the screen shows of each code follows the Market
    if isinstance(layout, BoxLayout) and action.order_id and result.get("boxIds"):
        # The Market's box ids, in the order the boxes were sent; labels need them.
        for number, box_id in enumerate(result["boxIds"], start=1):
            Box.objects.filter(order_id=action.order_id, number=number).update(market_box_id=box_id)
        if layout.has_checked_codes():
            order_id = action.order_id
            check_identifiers_task.delay_on_commit(order_id)
    if isinstance(change, StatusChange) and action.order_id:
        Order.objects.filter(pk=action.order_id).update(status=result.get("status", change.status),
                                                        substatus=result.get("substatus", ""))
    if isinstance(change, CancellationDecision) and action.order_id:
        # Decided: off the list of requests; an accepted one is cancelled (sync confirms it later).
        changes: dict[str, Any] = {"cancel_requested": False}
        if change.accepted:
            changes["status"] = "CANCELLED"
        Order.objects.filter(pk=action.order_id).update(**changes)
    if isinstance(change, StatusChanges):
        _bulk_delivered(action, result)
    if action.kind in (Kind.LAYOUT, Kind.REMOVAL) and action.order_id:
        # A layout delivered replaces the whole layout: an older one the Market refused is moot.
        OutboxAction.objects.filter(order_id=action.order_id, id__lt=action.id, kind__in=(Kind.LAYOUT, Kind.REMOVAL),
                                    state=State.FAILED).update(state=State.SUPERSEDED, next_attempt_at=None)
    if action.order_id and _ends_order(action, change):
        # The order is cancelled: what was refused or still waits before it can never apply.
        moot = list(OutboxAction.objects.filter(order_id=action.order_id, id__lt=action.id,
                                                state__in=(State.PENDING, State.FAILED)).values_list("id", flat=True))
        if moot:
            OutboxAction.objects.filter(pk__in=moot).update(state=State.SUPERSEDED, next_attempt_at=None)
            AuditEvent.objects.create(order_id=action.order_id, action="outbox.superseded",
                                      payload={"action": action.pk, "superseded": moot})
    if isinstance(change, ItemRemoval) and action.order_id:
        _removal_delivered(action, change)
    if isinstance(change, ShipmentTransfer | PalletsCount | ShipmentConfirm | ExternalOrderId):
        after_shipment_change(action.campaign_id, action.order_id, change)
    if action.order_id:
        AuditEvent.objects.create(order_id=action.order_id, action="outbox.delivered",
                                  payload={"action": action.pk, "kind": action.kind})
        nxt = outbox_reads.next_pending(action.order_id, action.id)
        if nxt:
            deliver_action_task.delay_on_commit(nxt)
    return State.DELIVERED, None


def _removal_delivered(action: OutboxAction, removal: ItemRemoval) -> None:
    """The Market removed or reduced the item: the order here follows (its boxes must be finished again)."""
    items = OrderItem.objects.filter(order_id=action.order_id, market_item_id=removal.item_id)
    if removal.count == 0:
        items.delete()
    else:
        items.update(count=removal.count)
    Order.objects.filter(pk=action.order_id).update(version=F("version") + 1, layout_version=F("layout_version") + 1)
    AuditEvent.objects.create(order_id=action.order_id, action="item.removed",
                              payload={"item": removal.item_id, "count": removal.count})


def _bulk_delivered(action: OutboxAction, result: dict[str, Any]) -> None:
    """Each order of a bulk status change gets its own outcome: the new status, or the Market's error."""
    outcomes = {int(r["id"]): r for r in result.get("orders", [])}
    orders = Order.objects.filter(campaign_id=action.campaign_id, market_id__in=list(outcomes))
    events = []
    for order in orders:
        r = outcomes[order.market_id]
        if r.get("ok"):
            Order.objects.filter(pk=order.pk).update(status=r.get("status") or order.status,
                                                     substatus=r.get("substatus") or "")
        events.append(AuditEvent(order=order, action="outbox.bulk_status", payload={
            "action": action.pk, "ok": bool(r.get("ok")), "error": r.get("error") or ""}))
    AuditEvent.objects.bulk_create(events)


def retry_failed(action: OutboxAction, user: AbstractBaseUser | None = None) -> None:
    """Staff retries a refused action (after fixing the cause)."""
    with transaction.atomic():
        n = OutboxAction.objects.filter(pk=action.pk, state=State.FAILED).update(
            state=State.PENDING, next_attempt_at=timezone.now(), last_error="", market_errors=[])
        if n and action.order_id:
            AuditEvent.objects.create(order_id=action.order_id, user=user if user and user.is_authenticated else None,
                                      action="outbox.retry", payload={"action": action.pk})
        if n:
            deliver_action_task.delay_on_commit(action.pk)


# What finishing sends: once cancelled, the order is no longer "sent" and the packer finishes again.
FINISHING_KINDS = (Kind.LAYOUT, Kind.IDENTIFIERS, Kind.CARGO_PLACES)


def cancel(action: OutboxAction, reason: str, user: AbstractBaseUser | None = None) -> bool:
    """Staff withdraw an action that waits or was refused: it is never sent, the reason is kept in the
    audit trail, and the order's later actions no longer wait for it. False if it is sent or on the wire."""
    with transaction.atomic():
        if not OutboxAction.objects.filter(pk=action.pk, state__in=(State.PENDING, State.FAILED)).update(
                state=State.CANCELLED, next_attempt_at=None, claimed_at=None):
            return False
        AuditEvent.objects.create(order_id=action.order_id, user=user if user and user.is_authenticated else None,
                                  action="outbox.cancelled",
                                  payload={"action": action.pk, "kind": action.kind, "reason": reason})
        if action.order_id and action.kind in FINISHING_KINDS:
            Order.objects.filter(pk=action.order_id).update(layout_sent_version=None, version=F("version") + 1)
        nxt = (OutboxAction.objects.filter(order_id=action.order_id, state=State.PENDING).order_by("id")
               .values_list("id", flat=True).first()) if action.order_id else None
        if nxt:
            transaction.on_commit(lambda: deliver_action_task.delay(nxt))
    return True


def due_action_ids(limit: int = 500) -> list[int]:
    """Actions a sweep should (re)send: due PENDING ones and SENDING ones whose worker vanished."""
    now = timezone.now()
    return list(OutboxAction.objects.filter(
        Q(state=State.PENDING, next_attempt_at__lte=now) | Q(state=State.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    ).order_by("id").values_list("id", flat=True)[:limit])


# The tasks live beside what they send: enqueue() schedules them, and tasks.py importing this module
# (not the reverse) keeps the imports one-way. Their names are those they had in tasks.py: queued
# messages and the beat schedule (settings.CELERY_BEAT_SCHEDULE) refer to them by name.
@shared_task(name="fulfilment.orders.tasks.deliver_action_task", acks_late=True, ignore_result=True)
def deliver_action_task(action_id: int) -> str:
    """Send one outbox action; schedule itself again when the Market asks to wait."""
    state, retry_in = deliver(action_id)
    if retry_in is not None:
        deliver_action_task.apply_async((action_id,), countdown=scheduling.countdown(retry_in))
    return state


@shared_task(name="fulfilment.orders.tasks.sweep_outbox_task", acks_late=True, ignore_result=True)
def sweep_outbox_task() -> int:
    """Re-send what is due: retries whose time has come and sends whose worker died."""
    ids = due_action_ids()
    for action_id in ids:
        deliver_action_task.delay(action_id)
    return len(ids)
