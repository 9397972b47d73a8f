"""The Market's asynchronous check of Честный ЗНАК codes and UINs (FBS/Express), mirrored per code.

After a layout with codes is delivered, a task asks POST .../identifiers/status until no code is
in progress; a rejected code is marked for rescan on the packing screen. What the Market does not
check that way (an RNPT or GTD in a layout, the codes of a DBS order sent by PUT .../identifiers)
is the Market's once the request carrying it is accepted (``codes_delivered``).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfilment.market import types as mt
from fulfilment.market.changes import BoxLayout, Identifiers, ItemCounts
from fulfilment.market.client import MarketClient
from fulfilment.market.errors import MarketError

from .clients import client_for
from .models import AuditEvent, Instance, InstanceKind, Order, Verification

log = logging.getLogger("fulfilment.tasks")
GS = "\x1d"
OK_STATUSES = {"OK", "NOT_ON_VALIDATION"}
BAD_STATUSES = {"FAILED", "INVALID"}


def _kind_and_value(inst: mt.Instance) -> tuple[str, str]:
    for kind, value in ((InstanceKind.CIS, inst.cis), (InstanceKind.UIN, inst.uin), (InstanceKind.RNPT, inst.rnpt),
                        (InstanceKind.GTD, inst.gtd)):
        if value:
            return kind, value
    raise ValueError("an instance carries one code")


def codes_delivered(order_id: int, change: BoxLayout | Identifiers | ItemCounts) -> int:
    """The Market accepted ``change``: each code it carried is the Market's now. A CIS or UIN of a
    layout is then being checked (``check_identifiers`` says the outcome); any other code, and every
    code of a DBS order, is accepted as sent. A code rescanned since is another row and stays as it is.
    Call inside the transaction that records the delivery. Returns how many codes changed state."""
    sent = [_kind_and_value(i) for i in change.instances()]
    checked_later = isinstance(change, BoxLayout)
    changed = 0
    for kind in {k for k, _v in sent}:
        new = (Verification.PROCESSING if checked_later and kind in (InstanceKind.CIS, InstanceKind.UIN)
               else Verification.DELIVERED)
        values = [v for k, v in sent if k == kind]
        changed += (Instance.objects.filter(order_id=order_id, kind=kind, value__in=values,
                                            verification=Verification.NOT_SENT)
                    .update(verification=new, verification_message=""))
    return changed


def check_identifiers(order_id: int, client: MarketClient | None = None) -> bool:
    """Ask the Market once and record each code's state. True while some code is still being checked."""
    order = Order.objects.select_related("campaign__business").get(pk=order_id)
    checked = Instance.objects.filter(order=order, kind__in=(InstanceKind.CIS, InstanceKind.UIN))
    if not checked.exists():
        return False
    client = client or client_for(order.campaign.business)
    statuses = client.get_order_identifiers_status(order.campaign.market_id, order.market_id)
    by_key = {}
    for s in statuses:
        by_key[s.value] = s
        by_key.setdefault(s.value.split(GS)[0], s)
    pending = False
    rejected = []
    with transaction.atomic():
        # The bump first, by the database: its UPDATE takes the order's row lock for the rest of this
        # transaction (the codes are read and changed under it, as in a packing operation), and a
        # change committed since ``order`` was read (a scan during the Market's answer) keeps its bump.
        Order.objects.filter(pk=order.pk).update(identifiers_checked_at=timezone.now(), version=F("version") + 1)
        for inst in checked:  # read again under the lock: a code may have been rescanned meanwhile
            s = by_key.get(inst.value) or by_key.get(inst.identity)
            if s is None:
                # Not at the Market yet (the layout is still on its way).
                pending = True
                continue
            if s.status in OK_STATUSES:
                new, message = Verification.OK, ""
            elif s.status in BAD_STATUSES:
                new, message = Verification.ERROR, " ".join(filter(None, [s.status, s.substatus]))
            else:
                new, message = Verification.PROCESSING, s.status
                pending = True
            if (inst.verification, inst.verification_message) != (new, message):
                Instance.objects.filter(pk=inst.pk).update(verification=new, verification_message=message)
                if new == Verification.ERROR:
                    # Once per refusal: a second check (read under the same row lock) finds it recorded.
                    rejected.append(inst.identity or inst.value)
        if rejected:
            AuditEvent.objects.create(order=order, action="codes.rejected", payload={"codes": rejected})
    return pending


# Beside the check it polls, so that the outbox (which starts it) need not import tasks.py; named as
# it was in tasks.py, since queued messages refer to it by name.
@shared_task(name="fulfilment.orders.tasks.check_identifiers_task", acks_late=True, ignore_result=True)
def check_identifiers_task(order_id: int, attempt: int = 0) -> bool:
    """Poll the Market's check of an order's codes until none is in progress (backing off to 30 s)."""
    try:
        pending = check_identifiers(order_id)
    except MarketError as exc:
        if not exc.retryable:
            log.warning("identifier check of order %s failed: %s", order_id, exc)
            return False
        pending = True
    if pending and attempt < 60:
        check_identifiers_task.apply_async((order_id, attempt + 1), countdown=min(2 + 2 * attempt, 30))
    return pending
