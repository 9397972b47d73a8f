"""Plain words for the Market's return values (decisions, refusal reasons, the buyer's reasons, refund
statuses): market/ knows no Django, so their translations live here, next to the screens. A value
the Market adds later shows as "other (VALUE)", never bare."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext as _, gettext_lazy, pgettext_lazy

from fulfilment.market.notification_values import RefundStatus
from fulfilment.market.returns import DecisionType, DeclineReason, ReturnReason

DECISIONS: dict[str, Promise] = {
    DecisionType.FAST_REFUND_MONEY: gettext_lazy("refund the money without taking the item back"),
    DecisionType.REFUND_MONEY: gettext_lazy("refund the money for the item"),
    DecisionType.REFUND_MONEY_INCLUDING_SHIPMENT: gettext_lazy("refund the item and the return postage"),
    DecisionType.REPAIR: gettext_lazy("repair the item"),
    DecisionType.REPLACE: gettext_lazy("replace the item"),
    DecisionType.SEND_TO_EXAMINATION: gettext_lazy("send the item for examination"),
    DecisionType.DECLINE_REFUND: gettext_lazy("refuse the return"),
    DecisionType.PARTIAL_MONEY_REFUND: gettext_lazy("refund part of the money"),
    DecisionType.OTHER_DECISION: gettext_lazy("another decision"),
    DecisionType.UNKNOWN: gettext_lazy("not stated"),
}

DECLINE_REASONS: dict[str, Promise] = {
    DeclineReason.ISSUE_WITH_THE_PRODUCT_WAS_NOT_CONFIRMED: gettext_lazy("the problem with the item is not confirmed"),
    DeclineReason.MECHANICAL_DAMAGE: gettext_lazy("the item is mechanically damaged"),
    DeclineReason.WARRANTY_PERIOD_HAS_EXPIRED: gettext_lazy("the warranty has expired"),
    DeclineReason.CONFIGURATION_OR_PACKAGING_COMPROMISED: gettext_lazy("parts or packaging are missing or broken"),
    DeclineReason.PRODUCT_APPEARANCE_COMPROMISED: gettext_lazy("the item no longer looks new"),
    DeclineReason.WARRANTY_TERMS_VIOLATED: gettext_lazy("the warranty terms were broken"),
    DeclineReason.DEVICE_ACTIVATED: gettext_lazy("the device has been activated"),
}

RETURN_REASONS: dict[str, Promise] = {
    ReturnReason.BAD_QUALITY: gettext_lazy("defective item"),
    ReturnReason.DOES_NOT_FIT: gettext_lazy("the item did not suit"),
    ReturnReason.WRONG_ITEM: gettext_lazy("the wrong item was delivered"),
    ReturnReason.DAMAGE_DELIVERY: gettext_lazy("damaged in delivery"),
    ReturnReason.LOYALTY_FAIL: gettext_lazy("who is at fault cannot be established"),
    ReturnReason.CONTENT_FAIL: gettext_lazy("the Market's description was wrong"),
    ReturnReason.DELIVERY_FAIL: gettext_lazy("the item was not delivered"),
    ReturnReason.UNKNOWN: gettext_lazy("reason not known"),
}

REFUND_STATUSES: dict[str, Promise] = {
    RefundStatus.STARTED_BY_USER: gettext_lazy("started by the buyer"),
    RefundStatus.REFUND_IN_PROGRESS: gettext_lazy("refund in progress"),
    RefundStatus.REFUNDED: gettext_lazy("refunded"),
    RefundStatus.FAILED: gettext_lazy("refund failed"),
    RefundStatus.WAITING_FOR_DECISION: gettext_lazy("waiting for the seller's decision"),
    RefundStatus.DECISION_MADE: gettext_lazy("decision made"),
    RefundStatus.REFUNDED_WITH_BONUSES: gettext_lazy("refunded with bonuses"),
    RefundStatus.REFUNDED_BY_SHOP: gettext_lazy("refunded by the shop"),
    RefundStatus.CANCELLED: gettext_lazy("the return is cancelled"),
    RefundStatus.REJECTED: pgettext_lazy("refund", "refused"),
    RefundStatus.COMPLETE_WITHOUT_REFUND: gettext_lazy("closed without a refund"),
    RefundStatus.PREMODERATION_DISPUTE: gettext_lazy("disputed at the Market's check"),
    RefundStatus.PREMODERATION_DECISION_WAITING: gettext_lazy("waiting for the seller's decision (Market's check)"),
    RefundStatus.PREMODERATION_DECISION_MADE: gettext_lazy("decision made (Market's check)"),
    RefundStatus.PREMODERATION_SELECT_DELIVERY: gettext_lazy("the buyer chooses how to send it back"),
    RefundStatus.UNKNOWN: gettext_lazy("not stated"),
}


def label(table: dict[str, Promise], value: str | None) -> str:
    """The plain words for ``value``; "—" for none, "other (VALUE)" for one not known yet."""
    if not value:
        return "—"
    known = table.get(str(value))
    return str(known) if known is not None else _("other (%(value)s)") % {"value": value}


# The Market's refusals of a decision in plain words, by its error code, then by what its English says.
_REFUSAL_CODES: dict[str, Promise] = {
    "RETURN_DECISION_EXPIRED": gettext_lazy("The time to decide on this return has passed."),
    "RETURN_DECISION_NOT_EXPECTED": gettext_lazy("The Market waits for no decision on this return."),
    "RETURN_DECISION_NOT_ALLOWED": gettext_lazy(
        "The Market did not take the decision: it is not allowed for this item."),
}
_REFUSAL_WORDS: tuple[tuple[str, Promise], ...] = (
    ("needs one of", gettext_lazy("The Market did not take the decision: a refusal needs its reason.")),
    ("needs a comment", gettext_lazy("The Market did not take the decision: it needs a comment for the buyer.")),
    ("partial refund", gettext_lazy("The Market did not take the decision: the partial refund is out of its bounds.")),
    ("every item", gettext_lazy("The Market did not take the decision: decide on every item of the return at once.")),
    ("has passed", gettext_lazy("The time to decide on this return has passed.")),
)


def market_refusal(errors: list, last_error: str = "") -> str:
    """What the Market said when it refused a decision: Russian words first, its own text quoted after."""
    said = [e for e in errors or () if isinstance(e, dict)]
    text = "; ".join(str(e.get("message") or "") for e in said if e.get("message")) or last_error
    words: Promise | str = _("The Market did not take the decision.")
    for e in said:
        if e.get("code") in _REFUSAL_CODES:
            words = _REFUSAL_CODES[e["code"]]
            break
    else:
        for needle, found in _REFUSAL_WORDS:
            if needle in text:
                words = found
                break
    return f"{words} «{text}»" if text else str(words)
