"""What a shift supervisor decides: cancellation requests, removing what is out of stock, cancelling
as the shop, putting packed orders in bulk to READY_TO_SHIP, and sending a reported order back.

Each decision runs with the order row locked, goes to the Market through the outbox in the same
transaction, and is recorded in the audit trail. Where the Market forbids something (seed 001:
an item added by a special offer, worth 99 % of the order, or the only item), it is refused here
with the reason before anything is sent, and cancelling the order as the shop is offered instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfilment.market.changes import (
    BoxLayout,
    CancellationDecision,
    ItemCount,
    ItemCounts,
    ItemRemoval,
    OrderStatusChange,
    StatusChange,
    StatusChanges,
)
from fulfilment.market.client import GET_ORDER_SHUTDOWN
from fulfilment.market.errors import MarketError
from fulfilment.market.types import BoxLine, CancellationReason
from fulfilment.orders import outbox
from fulfilment.orders.clients import client_for
from fulfilment.orders.models import (
    AuditEvent,
    InstanceKind,
    Order,
    OrderItem,
    OrderStatus,
    OrderSubstatus,
    OutboxAction,
)

from .finishing import ready_problems
from .kernel import Feedback, Refused, known_user, locked
from .state import PackState

Kind = OutboxAction.Kind
# The Market's limit for acceptOrderCancellation (seed 000): 500 requests an hour per shop.
CANCELLATION_LIMIT = 500
CANCELLATION_WINDOW = dt.timedelta(hours=1)
# updateOrderStatuses takes at most 30 orders a request (x-resource-limit-config of the spec).
BULK_CHUNK = 30
PROMO_SHARE = Decimal("0.99")


def _audit(order: Order, user: AbstractBaseUser | None, action: str, payload: dict[str, Any]) -> None:
    AuditEvent.objects.create(order=order, user=known_user(user), action=action, payload=payload)


def _open_action(order: Order, kind: str) -> bool:
    return OutboxAction.objects.filter(order=order, kind=kind, state__in=outbox.OPEN_STATES).exists()


# --- cancellation requests -----------------------------------------------------------------------
def cancellations_sent_last_hour(campaign_id: int) -> int:
    return OutboxAction.objects.filter(campaign_id=campaign_id, kind=Kind.CANCELLATION,
                                       created_at__gte=timezone.now() - CANCELLATION_WINDOW).count()


def decide_cancellation(order_id: int, user: AbstractBaseUser | None, accept: bool, reason: str = "",
                        confirmed: bool = False) -> Feedback:
    """Accept the buyer's cancellation (irreversible: it takes an explicit confirmation), or reject it
    because the order was delivered or is on its way."""
    if accept and not confirmed:
        return Feedback(False, _("Tick the confirmation: an accepted cancellation cannot be undone."))
    try:
        with locked(order_id, user) as ctx:
            o = ctx.order
            if not o.cancel_requested:
                raise Refused(_("The buyer has not asked to cancel this order (or it was already decided)."))
            if o.status not in (OrderStatus.DELIVERY, OrderStatus.PICKUP):
                raise Refused(_("Only orders in delivery or at a pickup point wait for this decision; "
                                "the Market cancels a processing order by itself."))
            if not accept and reason not in CancellationReason.__members__:
                raise Refused(_("Say why the cancellation is rejected: delivered, or in delivery."))
            if _open_action(o, Kind.CANCELLATION):
                raise Refused(_("A decision on this order is already being sent."))
            used = cancellations_sent_last_hour(o.campaign_id)
            if used >= CANCELLATION_LIMIT:
                raise Refused(_("The Market takes %(limit)s decisions an hour per shop and %(used)s were sent in the "
                                "last hour: try again in a few minutes.") % {"limit": CANCELLATION_LIMIT, "used": used})
            decision = CancellationDecision(accept, None if accept else reason)
            outbox.enqueue(o.campaign, decision, order=o, user=ctx.user)
            _audit(o, user, "cancellation.accept" if accept else "cancellation.reject",
                   {"accepted": accept, **({} if accept else {"reason": reason})})
            if accept:
                return Feedback(True, _("Cancellation of order %(n)s accepted.") % {"n": o.market_id})
            return Feedback(True, _("Cancellation of order %(n)s rejected.") % {"n": o.market_id})
    except Refused as exc:
        return Feedback(False, str(exc))


# --- removing what is out of stock ---------------------------------------------------------------
def removal_refusal(order: Order, item: OrderItem, new_count: int, items: list[OrderItem]) -> str | None:
    """Why the Market would refuse to remove or reduce this item (seed 001), or None."""
    if new_count < 0 or new_count >= item.count:
        return _("The new quantity must be less than %(n)s (0 removes the item).") % {"n": item.count}
    if item.promos:
        return _("%(sku)s was added by a special offer: the Market does not allow removing it.") % {
            "sku": item.offer_id}
    if len(items) == 1:
        return _("%(sku)s is the only item in the order: it cannot be removed or reduced.") % {"sku": item.offer_id}
    total = sum((_value(i) for i in items), Decimal(0))
    if total > 0 and _value(item) >= PROMO_SHARE * total:
        return _("%(sku)s makes up 99 %% or more of the order's value: it cannot be removed or reduced.") % {
            "sku": item.offer_id}
    if not order.is_packable:
        return _("Items can be removed only while the order is being packed (not after ready to ship).")
    return None


def _value(item: OrderItem) -> Decimal:
    """What the item is worth in the order, as the Market counts it: payment plus subsidy, all units."""
    value = (item.payment_total or 0) + (item.subsidy_total or 0)
    return Decimal(value) if value else item.price * item.count


def _one_box_layout(state: PackState, items: list[OrderItem], counts: dict[int, int]) -> BoxLayout:
    """Every remaining unit in one box, each with the codes scanned for it (the Market takes no layout
    without the codes its items require, removal or not)."""
    lines = []
    for i in items:
        if counts[i.pk] <= 0:
            continue
        st = state.items.get(i.pk)
        insts = (tuple(PackState.market_instance(c) for kind in st.accepted for c in st.codes[kind][:counts[i.pk]])
                 if st is not None else ())
        lines.append(BoxLine(i.market_item_id, counts[i.pk], instances=insts))
    return BoxLayout((tuple(lines),), allow_remove=True)


def missing_codes_refusal(state: PackState, counts: dict[int, int]) -> str | None:
    """Why the Market would refuse the removal's layout: an item that remains lacks the codes it
    requires for every unit (setOrderBoxLayout: a code per unit in every layout, MISSING_INSTANCES)."""
    for pk, st in state.items.items():
        remaining = counts.get(pk, 0)
        for kind in st.required:
            have = len(st.codes[kind])
            if remaining > 0 and have < remaining:
                return _("%(sku)s needs a %(kind)s code for each of its %(n)s units and %(have)s are scanned: the "
                         "Market takes no removal without them. Scan them first.") % {
                    "sku": st.item.offer_id, "kind": InstanceKind(kind).label, "n": remaining, "have": have}
    return None


def _refresh_promos(order_id: int) -> None:
    """The business order list the sync reads has no promos; the order itself (v2) has. Asked
    before a removal so the special-offer rule is checked here; if the Market cannot be reached,
    its own answer to the removal will say it. Only while getOrder lives (its shutdown date, or
    any error such as the 404 of a retired method): the removal never waits on it."""
    if timezone.localdate() >= GET_ORDER_SHUTDOWN:
        return
    order = Order.objects.select_related("campaign__business").get(pk=order_id)
    try:
        remote = client_for(order.campaign.business).get_order(order.campaign.market_id, order.market_id)
    except MarketError:
        return
    for item in remote.items:
        OrderItem.objects.filter(order=order, market_item_id=item.id).update(promos=list(item.promos))


def remove_item(order_id: int, user: AbstractBaseUser | None, item_id: int, new_count: int,
                confirmed: bool) -> Feedback:
    """Remove an item (``new_count`` 0) or reduce it. Irreversible at the Market, so it takes an
    explicit confirmation. FBS and Express: a box layout with ``allowRemove``; DBS: PUT items. The
    local order changes when the Market accepts (the outbox applies ``removal``), so a refusal
    changes nothing here."""
    if not confirmed:
        return Feedback(False, _("Tick the confirmation: removing an item cannot be undone."))
    _refresh_promos(order_id)
    try:
        with locked(order_id, user) as ctx:
            o = ctx.order
            items = list(OrderItem.objects.filter(order=o).order_by("id"))
            item = next((i for i in items if i.pk == item_id), None)
            if item is None:
                raise Refused(_("That item is not in this order."))
            why = removal_refusal(o, item, new_count, items)
            if why:
                raise Refused(why + " " + _("If it cannot be shipped, cancel the order as the shop."))
            if _open_action(o, Kind.REMOVAL) or _open_action(o, Kind.LAYOUT):
                raise Refused(_("Boxes or items of this order are being sent to the Market: wait until they are."))
            counts = {i.pk: i.count for i in items}
            counts[item.pk] = new_count
            why = None if o.is_dbs else missing_codes_refusal(ctx.state, counts)
            if why:
                raise Refused(why + " " + _("If it cannot be shipped, cancel the order as the shop."))
            change = (ItemCounts(tuple(ItemCount(i.market_item_id, counts[i.pk]) for i in items)) if o.is_dbs
                      else _layout_after_removal(ctx.state, counts, items))
            outbox.enqueue(o.campaign, ItemRemoval(change, item.market_item_id, new_count), order=o, user=ctx.user)
            _audit(o, user, "item.remove" if new_count == 0 else "item.reduce",
                   {"item": item.market_item_id, "sku": item.offer_id, "from": item.count, "to": new_count})
            if new_count == 0:
                return Feedback(True, _("Removal of %(sku)s from order %(n)s is sent to the Market.")
                                % {"sku": item.offer_id, "n": o.market_id})
            return Feedback(True, _("%(sku)s: %(a)s → %(b)s in order %(n)s is sent to the Market.") % {
                "sku": item.offer_id, "a": item.count, "b": new_count, "n": o.market_id})
    except Refused as exc:
        return Feedback(False, str(exc))


def _layout_after_removal(state: PackState, counts: dict[int, int], items: list[OrderItem]) -> BoxLayout:
    """The layout the Market needs with ``allowRemove``: the packed boxes when they hold exactly the
    new quantities; otherwise every remaining unit in one box (the packer's finish sends the real
    layout later, as for any change)."""
    whole_ok = bool(state.boxes) and all(
        st.placed == counts.get(pk, 0) and not st.split for pk, st in state.items.items())
    if whole_ok:
        boxes = (tuple(line for line in box if counts.get(_item_pk(state, line.item_id), 0) > 0)
                 for box in state.layout().boxes)
        return BoxLayout(tuple(box for box in boxes if box), allow_remove=True)
    return _one_box_layout(state, items, counts)


def _item_pk(state: PackState, market_item_id: int) -> int:
    return next(pk for pk, st in state.items.items() if st.item.market_item_id == market_item_id)


# --- cancelling as the shop ----------------------------------------------------------------------
def cancel_as_shop(order_id: int, user: AbstractBaseUser | None, confirmed: bool) -> Feedback:
    """CANCELLED / SHOP_FAILED: the shop cannot ship the order. Irreversible."""
    if not confirmed:
        return Feedback(False, _("Tick the confirmation: a cancelled order cannot be restored."))
    try:
        with locked(order_id, user) as ctx:
            o = ctx.order
            if o.status not in (OrderStatus.PROCESSING, OrderStatus.UNPAID, OrderStatus.PENDING):
                raise Refused(_("The shop can cancel only an order that is not yet shipped (now %(s)s).")
                              % {"s": o.get_status_display()})
            if any(c.status == OrderStatus.CANCELLED for c in outbox.open_changes(o, StatusChange)):
                raise Refused(_("The cancellation of this order is already being sent."))
            outbox.enqueue(o.campaign, StatusChange(OrderStatus.CANCELLED, OrderSubstatus.SHOP_FAILED),
                           order=o, user=ctx.user)
            _audit(o, user, "order.cancel", {"substatus": OrderSubstatus.SHOP_FAILED})
            return Feedback(True, _("Order %(n)s is being cancelled by the shop.") % {"n": o.market_id})
    except Refused as exc:
        return Feedback(False, str(exc))


# --- reported problems ---------------------------------------------------------------------------
def back_to_packing(order_id: int, user: AbstractBaseUser | None) -> Feedback:
    """The reported problem is solved (the item was found, replaced…): the order returns to the queue."""
    with locked(order_id, user) as ctx:
        o = ctx.order
        if not o.problem:
            return Feedback(False, _("No problem is reported on this order."))
        _audit(o, user, "problem.resolved", {"problem": o.problem})
        Order.objects.filter(pk=o.pk).update(problem="", problem_note="", problem_item=None, problem_by=None,
                                             problem_at=None)
        return Feedback(True, _("Order %(n)s is back in the packing queue.") % {"n": o.market_id})


# --- ready to ship in bulk -----------------------------------------------------------------------
@dataclass
class BulkResult:
    queued: list[Order] = field(default_factory=list)
    refused: list[tuple[Order, str]] = field(default_factory=list)
    actions: list[OutboxAction] = field(default_factory=list)


def bulk_ready(order_ids: list[int], user: AbstractBaseUser | None) -> BulkResult:
    """READY_TO_SHIP for every ticked order that is packed and accepted, sent per shop in requests
    of at most 30 orders; each order that is not ready says why."""
    result = BulkResult()
    with transaction.atomic():
        orders = list(Order.objects.select_for_update(of=("self",)).select_related("campaign")
                      .filter(pk__in=order_ids).order_by("campaign_id", "market_id"))
        layouts = {a.order_id: a for a in OutboxAction.objects.filter(
            order__in=orders, kind__in=(Kind.LAYOUT, Kind.REMOVAL, Kind.CARGO_PLACES, Kind.IDENTIFIERS)).order_by("id")}
        busy = set(OutboxAction.objects.filter(order__in=orders, kind=Kind.STATUS, state__in=outbox.OPEN_STATES)
                   .values_list("order_id", flat=True))
        by_campaign: dict[int, list[Order]] = {}
        for o in orders:
            problems = ready_problems(PackState(o))
            last = layouts.get(o.pk)
            if not problems and (last is None or last.state != OutboxAction.State.DELIVERED):
                problems = [_("The boxes are not accepted by the Market yet.")]
            if not problems and o.pk in busy:
                problems = [_("A status change of this order is already being sent.")]
            if problems:
                result.refused.append((o, problems[0]))
            else:
                by_campaign.setdefault(o.campaign_id, []).append(o)
        for group in by_campaign.values():
            for start in range(0, len(group), BULK_CHUNK):
                chunk = group[start:start + BULK_CHUNK]
                action = outbox.enqueue(chunk[0].campaign, StatusChanges(tuple(
                    OrderStatusChange(o.market_id, OrderStatus.PROCESSING, OrderSubstatus.READY_TO_SHIP)
                    for o in chunk)), user=user)
                result.actions.append(action)
                for o in chunk:
                    _audit(o, user, "order.ready.bulk", {"action": action.pk})
                result.queued += chunk
    return result


@dataclass
class BulkRefusal:
    market_id: int
    reason: str  # the Market's words as received, or ours when refused before sending
    by_market: bool
    order_id: int | None = None  # the order here, for the link


@dataclass
class BulkOutcome:
    """What became of one bulk ready-to-ship: refusals first, then what still waits and what was done."""

    refused: list[BulkRefusal] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    done: list[int] = field(default_factory=list)


def bulk_outcome(action_ids: list[int], refused_here: list[tuple[int, str]]) -> BulkOutcome:
    """The outcome of the bulk actions ``action_ids`` as the outbox holds it now (each order's answer
    from the Market, or the request's refusal), after the orders ``refused_here`` (market id, why)."""
    out = BulkOutcome(refused=[BulkRefusal(mid, why, by_market=False) for mid, why in refused_here])
    for action in OutboxAction.objects.filter(pk__in=action_ids, kind=Kind.BULK_STATUS).order_by("id"):
        change = outbox.change_of(action)
        assert isinstance(change, StatusChanges)
        ids = [c.order_id for c in change.orders]
        if action.state == OutboxAction.State.DELIVERED:
            answers = {int(r["id"]): r for r in action.result.get("orders", [])}
            for mid in ids:
                answer = answers.get(mid, {})
                if answer.get("ok"):
                    out.done.append(mid)
                else:
                    out.refused.append(BulkRefusal(mid, answer.get("error") or "", by_market=True))
        elif action.state in (OutboxAction.State.FAILED, OutboxAction.State.CANCELLED,
                              OutboxAction.State.SUPERSEDED):
            why = ("; ".join(" ".join(filter(None, (e.get("code"), e.get("message")))) for e in action.market_errors)
                   or action.last_error or str(action.get_state_display()))
            out.refused += [BulkRefusal(mid, why, by_market=action.state == OutboxAction.State.FAILED)
                            for mid in ids]
        else:
            out.waiting += ids
    pks = dict(Order.objects.filter(market_id__in=[r.market_id for r in out.refused]).values_list("market_id", "pk"))
    for r in out.refused:
        r.order_id = pks.get(r.market_id)
    return out
