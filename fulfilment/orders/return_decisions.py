"""The rules of a supervisor's decision on a return, before it goes to the Market: only the decisions
the Market allows now (getReturnDecisions' list), a refusal with one of its reasons, a partial refund
within its bounds; and a refused decision that a new one replaces (withdrawn, with the reason kept)
so that the new one is not held behind it in the outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from fulfilment.market.returns import AvailableDecision, DecisionType, ItemDecision

from . import outbox
from .models import MarketReturn, OutboxAction

SUPERSEDED_REASON = "replaced by a new decision on the same return"


class DecisionRefused(Exception):
    """A decision refused here, nothing sent; ``item_id`` the item it is about (the page marks it)."""

    def __init__(self, message: str, item_id: int | None = None) -> None:
        super().__init__(message)
        self.item_id = item_id


def check_allowed(decisions: Iterable[ItemDecision], available: Sequence[AvailableDecision],
                  labels: dict[int, str]) -> None:
    """Refuse what the Market would refuse: a decision it does not allow now, a refusal without one of
    its reasons, a partial refund without an amount or outside its bounds. ``labels`` names each item."""
    allowed = {str(a.decision): a for a in available}
    if not allowed:
        raise DecisionRefused(_("The Market allows no decision on this return now: nothing was sent."))
    for d in decisions:
        item = labels.get(d.return_item_id, str(d.return_item_id))
        found = allowed.get(str(d.decision))
        if found is None:
            raise DecisionRefused(_("This decision is not among those the Market allows now for %(item)s: "
                                    "nothing was sent.") % {"item": item}, d.return_item_id)
        if d.decision == DecisionType.DECLINE_REFUND and (
                d.reason is None or str(d.reason) not in {str(r) for r in found.decline_reasons}):
            raise DecisionRefused(_("A refusal needs its reason: choose one from the list for %(item)s. "
                                    "Nothing was sent.") % {"item": item}, d.return_item_id)
        if d.decision == DecisionType.PARTIAL_MONEY_REFUND:
            bounds = found.bounds
            if d.compensation is None or (bounds and not bounds.minimum <= d.compensation <= bounds.maximum):
                raise DecisionRefused(
                    _("A partial refund for %(item)s needs an amount from %(low)s to %(high)s RUB: nothing was sent.")
                    % {"item": item, "low": bounds.minimum if bounds else 1, "high": bounds.maximum if bounds else "—"},
                    d.return_item_id)


def supersede_refused(record: MarketReturn, user: AbstractBaseUser | None) -> list[int]:
    """Withdraw this return's decisions the Market refused (the reason in the audit trail): the outbox
    keeps an order's actions in order, and a refused one would hold the new decision back forever."""
    refused = OutboxAction.objects.filter(kind=OutboxAction.Kind.RETURN_DECISION, payload__returnId=record.market_id,
                                          state=OutboxAction.State.FAILED)
    return [a.pk for a in refused if outbox.cancel(a, SUPERSEDED_REASON, user)]


def is_irreversible(action: OutboxAction) -> bool:
    """A return decision that, once the Market takes it, cannot be undone (money or a refusal)."""
    if action.kind != OutboxAction.Kind.RETURN_DECISION:
        return False
    return any(d.get("decisionType") in IRREVERSIBLE for d in action.payload.get("returnItemDecisions") or ())


IRREVERSIBLE = {str(d) for d in (DecisionType.DECLINE_REFUND, DecisionType.REFUND_MONEY,
                                 DecisionType.REFUND_MONEY_INCLUDING_SHIPMENT, DecisionType.PARTIAL_MONEY_REFUND,
                                 DecisionType.FAST_REFUND_MONEY)}
