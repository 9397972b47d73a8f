"""The pack station: every step by a command barcode (undo, split, labels, next order, problems), the
line that says what to do next, and a batch's refusals each shown on its own."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, Box, Instance, Order, OutboxAction, Problem, ProductBarcode
from fulfilment.orders.sync import sync_business
from fulfilment.packing import boxes, finishing, scanning
from fulfilment.packing.kernel import attempt
from fulfilment.packing.state import PackState
from fulfilment.sandbox.seed import CATALOG

from .builders import make_campaign, make_linked_order
from .conftest import make_user

pytestmark = pytest.mark.django_db
MUG = CATALOG["MUG-001"].ean13
SHOES_CODE = ("0104601234567893215Ek!qZ7w+Ta0r\u001d91EE06\u001d92FMTahov29ELSZgnu18DKRYfmt07CJQXelsz6BIPWdkry5"
              "AHOVcjqx4/GNUbipw3+FMTahov29ELSZgnu18DKRYf=")


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def scan(order, code, user=None):
    return scanning.scan(order.pk, user, code, uuid.uuid4())


def placed(order):
    order.refresh_from_db()
    return {st.item.offer_id: st.placed for st in PackState(order).items.values()}


def test_undo_takes_back_the_last_scans_one_by_one(packer):
    order = make_linked_order(items=(("MUG-001", 3),))
    for _ in range(2):
        assert scan(order, MUG, packer).ok
    assert placed(order) == {"MUG-001": 2}
    fb = scan(order, "CMD-UNDO", packer)
    assert fb.ok, fb.message
    assert placed(order) == {"MUG-001": 1}
    assert scan(order, "CMD-UNDO", packer).ok  # the one before it, not the undo itself
    assert placed(order) == {"MUG-001": 0}
    # The box the first scan opened goes with it: no empty box is left behind.
    assert not Box.objects.filter(order=order).exists()
    fb = scan(order, "CMD-UNDO", packer)
    assert not fb.ok and "Нечего отменять" in fb.message


def test_undo_takes_back_a_marking_code_and_the_unit_it_placed(packer):
    order = make_linked_order(items=(("SHOES-RUN-42", 1),), buyer_type="BUSINESS")
    item = order.items.get()
    item.required_instance_types = ["CIS"]
    item.save()
    assert scan(order, SHOES_CODE, packer).ok
    assert Instance.objects.filter(order=order).count() == 1 and placed(order) == {"SHOES-RUN-42": 1}
    assert scan(order, "CMD-UNDO", packer).ok
    assert not Instance.objects.filter(order=order).exists() and placed(order) == {"SHOES-RUN-42": 0}
    assert scan(order, SHOES_CODE, packer).ok  # the same code can be scanned again


def test_undo_does_not_reach_past_another_change_of_the_boxes(packer):
    order = make_linked_order(items=(("MUG-001", 2),))
    assert scan(order, MUG, packer).ok
    assert attempt(order.pk, packer, "new_box", boxes.new_box).ok
    fb = scan(order, "CMD-UNDO", packer)
    assert not fb.ok
    assert placed(order) == {"MUG-001": 1}


def test_a_split_command_splits_the_unit_just_scanned(packer):
    order = make_linked_order(items=(("MUG-001", 1), ("AC-SPLIT-9", 1)))
    assert scan(order, "CMD-SPLIT-2", packer).ok is False  # nothing scanned yet
    assert scan(order, MUG, packer).ok
    assert scan(order, "CMD-NEW-BOX", packer).ok
    assert scan(order, CATALOG["AC-SPLIT-9"].ean13, packer).ok
    fb = scan(order, "CMD-SPLIT-2", packer)
    assert fb.ok, fb.message
    state = PackState(Order.objects.get(pk=order.pk))
    assert state.layout_problems() == []
    parts = [(b.number, [(ln.item_state.item.offer_id, ln.full_count, ln.part_current) for ln in b.lines])
             for b in state.boxes.values()]
    assert parts == [(1, [("MUG-001", 1, None)]), (2, [("AC-SPLIT-9", None, 1)]), (3, [("AC-SPLIT-9", None, 2)])]


def test_an_unknown_command_is_refused_and_says_where_the_commands_are(packer):
    order = make_linked_order(items=(("MUG-001", 1),))
    fb = scan(order, "cmd-dance", packer)
    assert not fb.ok and "CMD-DANCE" in fb.message and "лист" in fb.message


def test_a_problem_command_hands_the_order_to_the_supervisor(packer):
    order = make_linked_order(items=(("MUG-001", 1),))
    fb = scan(order, "CMD-PROBLEM-MISSING", packer)
    assert fb.ok and fb.redirect == f"{reverse('queue')}?reported={order.pk}"  # the queue confirms it
    order.refresh_from_db()
    assert order.problem == Problem.MISSING and order.problem_by == packer


def test_the_next_order_is_the_earliest_one_no_other_packer_is_on(packer):
    campaign = make_campaign()
    today = timezone.localdate()
    this = make_linked_order(campaign, items=(("MUG-001", 1),), shipment_date=today)
    taken = make_linked_order(campaign, items=(("MUG-001", 1),), shipment_date=today)
    mine = make_linked_order(campaign, items=(("MUG-001", 1),), shipment_date=today + dt.timedelta(days=1))
    later = make_linked_order(campaign, items=(("MUG-001", 1),), shipment_date=today + dt.timedelta(days=2))
    other = make_user("petr", "packer")
    assert scan(taken, MUG, other).ok
    assert scan(mine, MUG, packer).ok  # the packer's own started order is still offered
    assert finishing.next_order(this, packer) == mine
    fb = scan(this, "CMD-NEXT", packer)
    assert fb.ok and fb.redirect == reverse("order", args=[mine.pk])
    # Someone else's scan long ago does not hold the order.
    AuditEvent.objects.filter(order=taken).update(at=timezone.now() - finishing.TAKEN_FOR - dt.timedelta(minutes=1))
    assert finishing.next_order(this, packer) == taken
    Order.objects.filter(pk__in=[taken.pk, mine.pk]).update(substatus="READY_TO_SHIP")
    assert finishing.next_order(this, packer) == later


def test_labels_by_command_only_once_the_market_has_the_boxes(market, packer, client):
    placed_order = market.place([("MUG-001", 1)])
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=placed_order["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    refused = scan(order, "CMD-LABELS", packer)
    assert not refused.ok and not refused.print_labels and "завершите упаковку" in refused.message
    assert scan(order, MUG, packer).ok and scan(order, "CMD-FINISH", packer).ok
    assert not scan(order, "CMD-LABELS", packer).ok  # sent, not yet accepted
    client.force_login(packer)
    panel = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "data-autoprint" not in panel
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())
    # Accepted: the screen prints the labels by itself once, then again on the command.
    panel = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert f'data-autoprint="{reverse("order-labels", args=[order.pk])}"' in panel
    assert client.get(reverse("order-labels", args=[order.pk])).content.startswith(b"%PDF")
    panel = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "data-autoprint" not in panel  # printed: never again by itself
    body = {"scans": [{"id": str(uuid.uuid4()), "code": "CMD-LABELS"}], "version": None}
    html = client.post(reverse("order-scan", args=[order.pk]), json.dumps(body),
                       content_type="application/json").content.decode()
    assert f'data-print="{reverse("order-labels", args=[order.pk])}"' in html


def test_each_refusal_of_a_batch_is_shown_with_its_code_and_a_later_green_scan_does_not_hide_it(client, packer):
    order = make_linked_order(items=(("MUG-001", 3),))
    client.force_login(packer)
    codes = [MUG, "NOT-A-CODE", MUG, "4601234567890", MUG]
    body = {"scans": [{"id": str(uuid.uuid4()), "code": c} for c in codes], "version": None}
    html = client.post(reverse("order-scan", args=[order.pk]), json.dumps(body),
                       content_type="application/json").content.decode()
    feedback = html.split('id="feedback"')[1].split('id="teach"')[0]
    assert 'data-state="error"' in feedback and 'data-refusals="2"' in feedback
    assert feedback.count('class="error refusal"') == 2
    assert "<code>NOT-A-CODE</code>" in feedback and "<code>4601234567890</code>" in feedback
    assert placed(order) == {"MUG-001": 3}


def test_the_order_screen_is_ready_for_a_handheld(client, packer):
    order = make_linked_order(items=(("MUG-001", 1),))
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    scan_field = html.split('id="scan"')[1].split(">")[0]
    assert 'inputmode="none"' in scan_field
    assert 'id="keyboard"' in html and 'id="enter-as-text"' in html and 'id="print-frame"' in html
    assert 'id="offline"' in html and 'aria-live="assertive"' in html
    assert "Дальше:" in html.split('id="next-step"')[1][:200]
    # Why Ready to ship is off, in words on the page (a title shows on hover only).
    assert 'class="why" id="ready-why"' in html
    assert " style=" not in html and " onclick=" not in html.split("<main>")[1]
    assert "{#" not in html  # a comment left open over two lines shows on the page


def test_the_command_sheet_prints_a_barcode_for_every_step(client, packer):
    client.force_login(packer)
    html = client.get(reverse("scanner-sheet")).content.decode()
    printed = [part.split('"')[0] for part in html.split('data-command="')[1:]]
    expected = {"CMD-NEW-BOX", "CMD-SPLIT-2", "CMD-UNDO", "CMD-FINISH", "CMD-LABELS", "CMD-READY", "CMD-NEXT",
                *(f"CMD-PROBLEM-{p}" for p in Problem.values)}
    assert expected <= set(printed)
    assert all(code in scanning.COMMANDS for code in printed)
    assert html.count("<img class=\"code128\"") >= len(expected) and "onclick" not in html.split("<main>")[1]


def test_the_next_step_after_ready_to_ship_is_to_wait_then_the_next_order(market, packer, client):
    """Once «Ready to ship» is scanned the labels step is behind: the answer says to wait for the
    Market, and the panel's poll says the next order once the Market took it."""
    placed_order = market.place([("MUG-001", 1)])
    sync_business(market.business.pk, client=market.client())
    order = Order.objects.get(market_id=placed_order["orderId"])
    ProductBarcode.objects.create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    assert scan(order, MUG, packer).ok and scan(order, "CMD-FINISH", packer).ok
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())
    client.force_login(packer)

    def next_step(html: str) -> str:
        return html.split('id="next-step"')[1].split("</p>")[0]

    body = {"scans": [{"id": str(uuid.uuid4()), "code": "CMD-READY"}], "version": None}
    answer = client.post(reverse("order-scan", args=[order.pk]), json.dumps(body),
                         content_type="application/json").content.decode()
    assert "Подождите: Маркет отмечает заказ готовым к отгрузке." in next_step(answer)
    assert "ярлык" not in next_step(answer)
    for action in OutboxAction.objects.filter(state=OutboxAction.State.PENDING).order_by("id"):
        outbox.deliver(action.pk, client=market.client())
    panel = client.get(reverse("order-panel", args=[order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Готово." in next_step(panel)
