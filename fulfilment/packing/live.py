"""Open screens follow the Market: what each live region shows, as a short stamp, and the notices a
change of the Market brings to the order screen.

The browser asks again every few seconds with the stamp it has (``If-None-Match``, see
static/js/live.js and views/live.py); the stamp is one indexed read, so the answer is a 304 for the
price of that read while nothing changed. Polling rather than Server-Sent Events: gunicorn's
threaded workers (bin/run, docker/gunicorn.conf.py) would hold a thread per open screen for a
stream, and a poll holds nothing between two asks (no thread, no transaction); README "Open screens".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import get_language, gettext as _

from fulfilment.orders import flags
from fulfilment.orders.compiled_sql import rows
from fulfilment.orders.models import (
    SHIPMENT_KINDS,
    AuditEvent,
    HandoverScan,
    Order,
    OrderItem,
    OrderStatus,
    OutboxAction,
    Shipment,
    ShipmentReport,
)
from fulfilment.orders.outbox import OPEN_STATES

from . import panel_reads
from .return_labels import market_refusal
from .state import cancelled_message


@dataclass(frozen=True)
class Notice:
    """One banner on the order screen: what the Market changed, in the reader's language."""

    text: str
    level: str = "error"  # the banner's class: error (red) or warn
    reload: bool = False  # the screen shows what is no longer so: offer to load it again


def digest(*parts: object) -> str:
    return hashlib.blake2s("|".join(str(p) for p in parts).encode(), digest_size=8).hexdigest()


def stamp(*parts: object) -> str:
    """A short digest of what a region shows, in the reader's language (the words are part of it)."""
    return digest(*parts, get_language())


def items_stamp(items: Iterable[tuple[int, int]]) -> str:
    """The order's items as the screen was drawn with them: (the Market's item id, count) pairs."""
    return digest(*sorted(items))


def order_stamp(order_id: int, items_seen: str) -> str | None:
    """The order screen's live region: the Market's side of the order (status, flags, a cancellation
    request, its last change), one read by primary key. None for an unknown order."""
    # Their SQL compiled once (compiled_sql.py): the poll is the most frequent request of all.
    found = rows("live-order", _order_row, _ORDER_ID, (order_id,))
    if not found:
        return None
    refused = [pk for (pk,) in rows("live-refused", _refused, _ORDER_ID, (order_id,))]
    return stamp(*found[0], items_seen, *refused)


_ORDER_ID = (-918_273_648,)  # the stand-in they are compiled with: no order has it


def _order_row(order_id: int) -> QuerySet:
    return (Order.objects.filter(pk=order_id).order_by()
            .values_list("status", "substatus", "flag_reason", "cancel_requested", "updated_at_market"))


def _items(order_id: int) -> QuerySet:
    return OrderItem.objects.filter(order_id=order_id).order_by().values_list("market_item_id", "count")


def _refused(order_id: int) -> QuerySet:
    return (OutboxAction.objects.filter(order_id=order_id, state=OutboxAction.State.FAILED)
            .order_by("pk").values_list("pk"))


def market_notices(order: Order, items_seen: str) -> list[Notice]:
    """What the Market changed that the packer must know now: a cancellation, a flag raised by the
    sync (an item removed or reduced, ready to ship elsewhere), items other than those on the screen
    (``items_seen``, the ``items_stamp`` the screen was drawn with), a buyer's cancellation request."""
    cancelled = order.status == OrderStatus.CANCELLED
    out = [Notice(cancelled_message())] if cancelled else []
    for line in order.flag_reason.splitlines():
        if line.strip() and not (cancelled and flags.CANCELLED_WHILE_PACKING in line):
            out.append(Notice(_("Changed at the Market: %(reason)s") % {"reason": flags.text(line)}))
    # Both reads compiled once: the order screen draws this banner every time it opens.
    now = items_stamp(rows("notices-items", _items, _ORDER_ID, (order.pk,)))
    if items_seen and now != items_seen:
        out.append(Notice(_("The Market changed the items of this order after this screen was opened."), reload=True))
    # A refusal that came back after the packer's green answer: said at the top, not only in the list below.
    for action in panel_reads.refused_actions(order):
        if action.kind == OutboxAction.Kind.RETURN_DECISION:  # plain words first, the Market's quoted after
            out.append(Notice(market_refusal(action.market_errors, action.last_error)))
            continue
        reason = "; ".join(f"{m.get('code', '')}: {m.get('message', '')}".strip(": ") if isinstance(m, dict)
                           else str(m) for m in action.market_errors) or action.last_error
        out.append(Notice(_("The Market refused «%(what)s»: %(reason)s") % {
            "what": action.get_kind_display(), "reason": reason}))
    if order.cancel_requested and not cancelled:
        out.append(Notice(_("The buyer asked to cancel this order: wait for the supervisor's decision."), "warn"))
    return out


def list_stamp(orders: QuerySet[Order], *parts: object) -> str:
    """A list of orders (the queue's page, the cancellation requests): how many, the newest, the
    last change at the Market; ``parts`` what else the region depends on (page, role)."""
    agg = orders.order_by().aggregate(n=Count("pk"), top=Max("pk"), changed=Max("updated_at_market"))
    return stamp(agg["n"], agg["top"], agg["changed"], *parts)


def cancellations_stamp(requests: QuerySet[Order]) -> str:
    """The supervisor's cancellation requests: the orders, and the decisions on their way to the Market."""
    sending = (OutboxAction.objects.filter(kind=OutboxAction.Kind.CANCELLATION, state__in=OPEN_STATES)
               .aggregate(n=Count("pk"), top=Max("pk")))
    return list_stamp(requests, sending["n"], sending["top"])


def shipment_stamp(shipment_id: int, *parts: object) -> str | None:
    """The shipment page's region: the mirrored shipment, its orders' state here and at the Market, the
    boxes scanned, its changes on their way or refused, its documents. A few indexed reads."""
    s = Shipment.objects.filter(pk=shipment_id).first()
    if s is None:
        return None
    orders = list(Order.objects.filter(campaign_id=s.campaign_id, market_id__in=s.order_ids).order_by("pk")
                  .values_list("pk", "status", "substatus", "layout_version", "layout_sent_version",
                               "labels_printed_version", "flag_reason", "problem", "external_order_id",
                               "updated_at_market"))
    scans = HandoverScan.objects.filter(shipment_id=s.pk).aggregate(n=Count("pk"), top=Max("pk"))
    actions = list(OutboxAction.objects.filter(campaign_id=s.campaign_id, kind__in=SHIPMENT_KINDS,
                                               payload__shipmentId=s.market_id).values_list("pk", "state"))
    own = list(OutboxAction.objects.filter(order_id__in=[o[0] for o in orders], state__in=OPEN_STATES)
               .values_list("pk", "state")) if orders else []
    reports = list(ShipmentReport.objects.filter(shipment_id=s.pk).values_list("pk", "state"))
    events = AuditEvent.objects.filter(action__in=("shipment.confirm", "handover.taken_off"),
                                       payload__shipment=s.market_id).aggregate(top=Max("pk"))
    return stamp(s.status, s.signed, s.pallets_planned, s.synced_at, s.order_ids, s.available_actions,
                 digest(*orders), scans["n"], scans["top"], actions, own, reports, events["top"], *parts)


def shipments_stamp(today: dt.date) -> str:
    """The Shipments list: the shipments mirrored, the boxes scanned, and any change sent or refused for
    any order (a packer's ready, a transfer), which is what moves its counts."""
    rows = list(Shipment.objects.filter(shipment_date__gte=today - dt.timedelta(days=1))
                .order_by("pk").values_list("pk", "status", "synced_at", "order_ids"))
    scans = HandoverScan.objects.aggregate(n=Count("pk"), top=Max("pk"))
    sent = OutboxAction.objects.aggregate(top=Max("pk"), open=Count("pk", filter=Q(state__in=OPEN_STATES)))
    changed = Order.objects.aggregate(top=Max("updated_at_market"))
    return stamp(digest(*rows), scans["n"], scans["top"], sent["top"], sent["open"], changed["top"], today)
