"""Two packers on one order at once: every scan is saved once, none is lost (row lock per scan)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from fulfilment.orders.models import AuditEvent, BoxLine, ProductBarcode
from fulfilment.packing import scanning
from fulfilment.sandbox.seed import CATALOG

from .builders import make_order

pytestmark = pytest.mark.django_db(transaction=True)
MUG = CATALOG["MUG-001"].ean13


def test_two_packers_scanning_one_order_lose_and_double_nothing(packer, supervisor):
    order = make_order(items=(("MUG-001", 40),))
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    ids = {who: [uuid.uuid4() for _ in range(20)] for who in (packer, supervisor)}
    failures: list[str] = []

    def work(user):
        try:
            for rid in ids[user]:
                fb = scanning.scan(order.pk, user, MUG, rid)
                if not fb.ok:
                    failures.append(fb.message)
                # A resent request (the browser retrying after a lost answer) changes nothing.
                scanning.scan(order.pk, user, MUG, rid)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    assert sum(BoxLine.objects.filter(box__order=order).values_list("full_count", flat=True)) == 40
    assert AuditEvent.objects.filter(order=order, action="scan").count() == 40
    order.refresh_from_db()
    assert order.version == 40
    # The 41st unit does not exist: refused, nothing changed.
    assert not scanning.scan(order.pk, packer, MUG).ok
