"""The Market's asynchronous check of Честный ЗНАК codes and UINs (FBS/Express), mirrored per code.

After a layout with codes is delivered, a task asks POST .../identifiers/status until no code is
in progress; a rejected code is marked for rescan on the packing screen.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .market import client_for
from .models import AuditEvent, Instance, InstanceKind, Order, Verification

GS = "\x1d"
OK_STATUSES = {"OK", "NOT_ON_VALIDATION"}
BAD_STATUSES = {"FAILED", "INVALID"}


def check_identifiers(order_id: int) -> bool:
    """Ask the Market once and record each code's state. True while some code is still being checked."""
    order = Order.objects.select_related("campaign__business").get(pk=order_id)
    instances = list(Instance.objects.filter(order=order, kind__in=(InstanceKind.CIS, InstanceKind.UIN)))
    if not instances:
        return False
    client = client_for(order.campaign.business)
    statuses = client.get_order_identifiers_status(order.campaign.market_id, order.market_id)
    by_key = {}
    for s in statuses:
        by_key[s.value] = s
        by_key.setdefault(s.value.split(GS)[0], s)
    pending = False
    rejected = []
    with transaction.atomic():
        for inst in instances:
            s = by_key.get(inst.value) or by_key.get(inst.identity)
            if s is None:
                # Not at the Market yet (the layout is still on its way).
                pending = True
                continue
            if s.status in OK_STATUSES:
                new, message = Verification.OK, ""
            elif s.status in BAD_STATUSES:
                new, message = Verification.ERROR, " ".join(filter(None, [s.status, s.substatus]))
                rejected.append(inst.identity or inst.value)
            else:
                new, message = Verification.PROCESSING, s.status
                pending = True
            if (inst.verification, inst.verification_message) != (new, message):
                Instance.objects.filter(pk=inst.pk).update(verification=new, verification_message=message)
        Order.objects.filter(pk=order.pk).update(identifiers_checked_at=timezone.now(), version=order.version + 1)
        if rejected:
            AuditEvent.objects.create(order=order, action="codes.rejected", payload={"codes": rejected})
    return pending
