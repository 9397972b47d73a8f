"""Packing an order: what each scan means, boxes and splits, the Market's rules, finishing."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from fulfilment.market.changes import BoxLayout
from fulfilment.market.types import BoxLine as MarketBoxLine, Instance as MarketInstance, PartialCount
from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, Box, BoxLine, CatalogueOffer, Instance, OutboxAction, ProductBarcode
from fulfilment.packing import boxes, finishing, scanning
from fulfilment.packing.kernel import attempt
from fulfilment.packing.state import PackState
from fulfilment.sandbox import rules
from fulfilment.sandbox.seed import CATALOG

from .builders import make_campaign, make_linked_order, make_order as make_unlinked_order

pytestmark = pytest.mark.django_db

SHOES = ("0104601234567893215Ek!qZ7w+Ta0r\u001d91EE06\u001d92FMTahov29ELSZgnu18DKRYfmt07CJQXelsz6BIPWdkry5AHOVcjqx4"
         "/GNUbipw3+FMTahov29ELSZgnu18DKRYf=")
MILK = "0104650117240408215aB3cD\u001d93dGVz"
MILK2 = "0104650117240408215zZ9yY\u001d93abcd"
MUG = CATALOG["MUG-001"].ean13
TEA = CATALOG["TEA-GREEN-100"].ean13


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def coded_order(items=(("SHOES-RUN-42", 2, ["CIS"]),), buyer_type="BUSINESS", **kw):
    order = make_linked_order(items=tuple((sku, n) for sku, n, _ in items), buyer_type=buyer_type, **kw)
    for item, (_, _, types) in zip(order.items.order_by("id"), items, strict=True):
        item.required_instance_types = types
        item.save()
    return order


def scan(order, code, user=None, request_id=None, teach=False):
    return scanning.scan(order.pk, user, code, request_id, teach=teach)


def state(order):
    order.refresh_from_db()
    return PackState(order)


def test_a_product_barcode_puts_a_unit_in_the_current_box(packer):
    order = make_linked_order(items=(("MUG-001", 2),))
    fb = scan(order, MUG, packer)
    assert fb.ok, fb.message
    assert "MUG-001" in fb.message
    assert scan(order, MUG).ok
    st = state(order)
    assert st.items[order.items.get().pk].placed == 2
    third = scan(order, MUG)
    assert not third.ok and "уже в коробках" in third.message
    assert st.layout_problems() == []


def test_a_barcode_no_link_names_is_refused_even_on_a_one_item_order_and_nothing_is_learnt(packer):
    order = make_unlinked_order(items=(("MUG-001", 2),))
    for code in (MUG, "0000000000000", "01000000000000002112345678"):
        fb = scan(order, code, packer)
        assert not fb.ok and not fb.prompt, (code, fb.message)
    assert "нет в этом заказе" in scan(order, MUG, packer).message
    assert not ProductBarcode.objects.exists()
    assert not BoxLine.objects.filter(box__order=order).exists()
    # Even in teach mode an all-zero GTIN is no barcode of anything.
    assert not scan(order, "0000000000000", packer, teach=True).prompt
    assert not scanning.scan(order.pk, packer, "01000000000000002112345678", teach=True).prompt


def test_a_wrong_product_is_refused_loudly_and_changes_nothing(packer):
    campaign = make_campaign()
    ProductBarcode.objects.create(campaign=campaign, gtin="0" + TEA, offer_id="TEA-GREEN-100")
    order = make_linked_order(campaign=campaign, items=(("MUG-001", 1),))
    version = order.version
    fb = scan(order, TEA)
    assert not fb.ok and "TEA-GREEN-100" in fb.message and "нет в этом заказе" in fb.message
    order.refresh_from_db()
    assert order.version == version and not BoxLine.objects.filter(box__order=order).exists()


def test_teach_mode_asks_once_links_the_answer_with_who_and_turns_off(packer):
    order = make_unlinked_order(items=(("MUG-001", 1), ("TEA-GREEN-100", 2)))
    assert not scan(order, TEA, packer).prompt  # teach mode off: refused, no question
    fb = scan(order, TEA, packer, teach=True)
    assert not fb.ok and fb.prompt and {i.offer_id for i in fb.prompt["items"]} == {"MUG-001", "TEA-GREEN-100"}
    assert not BoxLine.objects.filter(box__order=order).exists()
    tea = order.items.get(offer_id="TEA-GREEN-100")
    # The answer links only in teach mode (or for a supervisor).
    assert not scanning.choose_item(order.pk, packer, fb.prompt["code"], tea.pk).ok
    answered = scanning.choose_item(order.pk, packer, fb.prompt["code"], tea.pk, teach=True)
    assert answered.ok and answered.taught
    link = ProductBarcode.objects.get(gtin="0" + TEA)
    assert (link.offer_id, link.source, link.learnt_by) == ("TEA-GREEN-100", ProductBarcode.Source.CONFIRMED, packer)
    assert AuditEvent.objects.filter(action="barcode.corrected", payload__gtin="0" + TEA).exists()
    assert scan(order, TEA).ok  # linked: no question this time
    assert not scan(order, MUG, packer).ok  # the mug has no link: never guessed from what is left
    assert {s.item.offer_id: s.placed for s in state(order).items.values()} == {"MUG-001": 0, "TEA-GREEN-100": 2}


def test_a_marking_code_of_another_sku_is_refused_and_never_becomes_this_ones_barcode(packer, supervisor):
    """Shoes and a T-shirt; a milk code from another order must not become the T-shirt's barcode."""
    campaign = make_campaign()
    shoes_tshirt = coded_order((("SHOES-RUN-42", 1, ["CIS"]), ("TSHIRT-M", 1, ["CIS"])), campaign=campaign)
    ProductBarcode.objects.filter(campaign=campaign, offer_id="TSHIRT-M").delete()  # the T-shirt: not linked
    assert scan(shoes_tshirt, SHOES, packer).ok
    # Milk linked to its SKU (another order's catalogue entry): refused in either mode.
    coded_order((("MILK-1L", 1, ["CIS"]),), campaign=campaign)
    for teach in (False, True):
        fb = scanning.scan(shoes_tshirt.pk, packer, MILK, teach=teach)
        assert not fb.ok and not fb.prompt and "MILK-1L" in fb.message
    # Milk only listed in the catalogue (no link): refused as well.
    ProductBarcode.objects.filter(campaign=campaign, offer_id="MILK-1L").delete()
    CatalogueOffer.objects.create(business=campaign.business, offer_id="MILK-1L", barcodes=["4650117240408"],
                                  fetched_at=timezone.now())
    fb = scanning.scan(shoes_tshirt.pk, packer, MILK, teach=True)
    assert not fb.ok and not fb.prompt and "MILK-1L" in fb.message
    # An order's answer cannot link it either, not even a supervisor's.
    tshirt = shoes_tshirt.items.get(offer_id="TSHIRT-M")
    assert not scanning.choose_item(shoes_tshirt.pk, supervisor, MILK, tshirt.pk, teach=True).ok
    assert not ProductBarcode.objects.filter(campaign=campaign, gtin="04650117240408").exists()
    assert Instance.objects.filter(order=shoes_tshirt).count() == 1


def test_chestny_znak_codes_fill_units_with_gs_dropped_or_substituted(packer):
    order = coded_order((("MILK-1L", 3, ["CIS"]),))
    assert scan(order, MILK).ok  # with GS: teaches the serial length (6) for this GTIN
    assert ProductBarcode.objects.get(gtin="04650117240408").serial_length == 6
    assert scan(order, MILK2.replace("\u001d", "")).ok  # GS dropped: rebuilt
    third = "0104650117240408215qQ1wW<GS>93zzzz"  # a configured substitute
    assert scan(order, third).ok
    values = sorted(Instance.objects.filter(order=order).values_list("value", flat=True))
    assert values == sorted([MILK, MILK2, "0104650117240408215qQ1wW\u001d93zzzz"])
    st = state(order)
    assert st.items[order.items.get().pk].placed == 3 and st.layout_problems() == []


@pytest.mark.parametrize(("code", "words"), [
    ("0104601234567890215aB3cD\u001d93dGVz", "должна быть 3"),
    ("0104650117240408215аВ3сD\u001d93dGVz", "раскладку"),
    ("010304109478gftJ14545762!\u001dhGt264", "образец"),
    ("0104650117240408215aB#cD\u001d93dGVz", "#"),
    (SHOES[:-1], "(92)"),
    ("0104650117240408215aB3cD\u001d93dG", "(93)"),
])
def test_malformed_codes_are_refused_with_what_is_wrong(packer, code, words):
    order = coded_order((("MILK-1L", 1, ["CIS"]),))
    fb = scan(order, code)
    assert not fb.ok and words in fb.message, fb.message
    assert not Instance.objects.filter(order=order).exists()
    assert AuditEvent.objects.filter(order=order, action="scan.refused").count() == 1


def test_a_code_is_used_once_in_an_order_and_in_live_orders(packer):
    order = coded_order((("MILK-1L", 2, ["CIS"]),))
    assert scan(order, MILK).ok
    again = scan(order, MILK.replace("\u001d", "~"))
    assert not again.ok and "уже отсканирован" in again.message
    other = coded_order((("MILK-1L", 1, ["CIS"]),), campaign=order.campaign)
    fb = scan(other, MILK)
    assert not fb.ok and str(order.market_id) in fb.message
    order.status = "CANCELLED"
    order.save()
    assert scan(other, MILK).ok  # a cancelled order's goods are back on the shelf


def test_uin_rnpt_gtd_and_country(packer):
    order = coded_order((("RING-585", 1, ["UIN"]), ("FRIDGE-IMP", 1, ["RNPT"]), ("TV-IMP-55", 1, ["GTD"])),
                        buyer_type="PERSON")
    short = scan(order, "123456789012345")
    assert not short.ok
    assert scan(order, "1234567890123456").ok
    assert scan(order, "10702070/010124/3012345/001").ok
    assert scan(order, "cn").ok
    assert scan(order, "10702070/010124/3012345").ok
    assert not scan(order, "RUS").ok
    xx = scan(order, "XX")  # two letters, but no country: never stored, never sent
    assert not xx.ok and "ISO 3166-1" in xx.message
    inst = {i.kind: i for i in Instance.objects.filter(order=order)}
    assert inst["RNPT"].country_code == "CN" and inst["GTD"].country_code == ""
    assert inst["UIN"].value == "1234567890123456"
    # The packer changes a country without removing the code; "XX" is refused there too.
    assert not attempt(order.pk, packer, "set_country", scanning.set_country, instance=inst["RNPT"].pk,
                       country="XX").ok
    assert attempt(order.pk, packer, "set_country", scanning.set_country, instance=inst["RNPT"].pk,
                   country="de").ok
    rnpt = Instance.objects.get(pk=inst["RNPT"].pk)
    assert (rnpt.country_code, rnpt.value) == ("DE", "10702070/010124/3012345/001")


def test_a_resent_scan_is_not_applied_twice(packer):
    order = make_linked_order(items=(("MUG-001", 3),))
    rid = uuid.uuid4()
    assert scan(order, MUG, packer, rid).ok
    dup = scan(order, MUG, packer, rid)
    assert dup.duplicate
    assert state(order).items[order.items.get().pk].placed == 1


def test_split_a_big_item_across_boxes_with_its_code_in_each(packer):
    order = coded_order((("SHOES-RUN-42", 1, ["CIS"]), ("MUG-001", 1, [])))
    shoes = order.items.get(offer_id="SHOES-RUN-42")
    mug = order.items.get(offer_id="MUG-001")
    assert scan(order, SHOES).ok  # the unit is scanned, then split: its code goes into every part
    assert attempt(order.pk, packer, "split", boxes.split, item=shoes.pk, parts=2).ok
    fb = scan(order, MUG)
    assert fb.ok and "3" in fb.message  # a part travels alone: a new box was opened
    st = state(order)
    assert st.layout_problems() == []
    layout = st.layout()
    assert layout == BoxLayout((
        (MarketBoxLine(shoes.market_item_id, partial=PartialCount(1, 2), instances=(MarketInstance(cis=SHOES),)),),
        (MarketBoxLine(shoes.market_item_id, partial=PartialCount(2, 2), instances=(MarketInstance(cis=SHOES),)),),
        (MarketBoxLine(mug.market_item_id, 1),),
    ))
    payload = layout.body()
    # The Market's own rules (the sandbox's implementation of seed 001) accept it.
    market_order = {"buyerType": "BUSINESS", "items": [
        {"id": i.market_item_id, "count": i.count, "requiredInstanceTypes": i.required_instance_types}
        for i in order.items.all()]}
    errors, counts = rules.check_box_layout(market_order, payload)
    assert errors == [] and counts == {shoes.market_item_id: 1, mug.market_item_id: 1}
    assert json.dumps(payload).count("\\u001d") == 4


def test_boxes_move_remove_and_renumber(packer):
    order = make_linked_order(items=(("MUG-001", 3),))
    for _ in range(3):
        scan(order, MUG)
    assert attempt(order.pk, packer, "new_box", boxes.new_box).ok
    line = BoxLine.objects.get(box__order=order, box__number=1)
    assert attempt(order.pk, packer, "move", boxes.move, line=line.pk, to=2).ok
    assert {b.number: sum(x.full_count for x in b.lines.all()) for b in Box.objects.filter(order=order)} == {1: 2, 2: 1}
    assert attempt(order.pk, packer, "new_box", boxes.new_box).ok
    refused = attempt(order.pk, packer, "delete_box", boxes.delete_box, box=1)
    assert not refused.ok and "не пуста" in refused.message
    assert attempt(order.pk, packer, "delete_box", boxes.delete_box, box=3).ok
    line2 = BoxLine.objects.get(box__order=order, box__number=2)
    assert attempt(order.pk, packer, "remove_unit", boxes.remove_unit, line=line2.pk).ok
    assert attempt(order.pk, packer, "delete_box", boxes.delete_box, box=2).ok
    assert list(Box.objects.filter(order=order).values_list("number", flat=True)) == [1]
    assert state(order).layout_problems() == ["MUG-001: в коробках 2 из 3 шт."]


def test_finish_sends_the_layout_through_the_outbox_once(packer):
    order = coded_order((("MILK-1L", 1, ["CIS"]),))
    refused = attempt(order.pk, packer, "finish", finishing.finish)
    assert not refused.ok and not OutboxAction.objects.exists()
    scan(order, MILK)
    fb = attempt(order.pk, packer, "finish", finishing.finish)
    assert fb.ok, fb.message
    action = OutboxAction.objects.get(order=order)
    assert action.kind == "LAYOUT" and outbox.change_of(action).boxes[0][0].instances == (MarketInstance(cis=MILK),)
    assert attempt(order.pk, packer, "finish", finishing.finish).ok
    assert OutboxAction.objects.filter(order=order).count() == 1
    ready = attempt(order.pk, packer, "ready", finishing.ready)
    assert not ready.ok  # the Market has not checked the codes yet


def test_a_flagged_order_cannot_be_packed_or_finished(packer):
    order = make_linked_order(items=(("MUG-001", 1),), flag_reason="Cancelled at the Market while packing")
    fb = scan(order, MUG)
    assert not fb.ok and "Cancelled at the Market" in fb.message
    assert not attempt(order.pk, packer, "finish", finishing.finish).ok


def test_reporting_a_problem_takes_the_order_out_of_the_queue(client, packer):
    order = make_linked_order(items=(("MUG-001", 1),))
    client.force_login(packer)
    assert str(order.market_id) in client.get(reverse("queue")).content.decode()
    resp = client.post(reverse("order-report-problem", args=[order.pk]), {"problem": "DEFECTIVE",
                                                                          "item": order.items.get().pk,
                                                                          "note": "разбита"},
                       HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and resp["HX-Redirect"] == f"{reverse('queue')}?reported={order.pk}"
    order.refresh_from_db()
    assert order.problem == "DEFECTIVE" and order.problem_by == packer
    assert str(order.market_id) not in client.get(reverse("queue")).content.decode()
    assert "Товар с браком" in client.get(resp["HX-Redirect"]).content.decode()  # the queue confirms it


def test_the_scan_endpoint_takes_a_batch_and_renders_the_panel(client, packer):
    order = make_linked_order(items=(("MUG-001", 2),))
    client.force_login(packer)
    scans = [{"id": str(uuid.uuid4()), "code": MUG}, {"id": str(uuid.uuid4()), "code": MUG}]
    resp = client.post(reverse("order-scan", args=[order.pk]), json.dumps({"scans": scans}),
                       content_type="application/json")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="panel"' in html and 'data-state="ok"' in html
    resp = client.post(reverse("order-scan", args=[order.pk]), json.dumps({"scans": scans}),
                       content_type="application/json")
    assert state(order).items[order.items.get().pk].placed == 2
    bad = client.post(reverse("order-scan", args=[order.pk]), "not json", content_type="application/json")
    assert bad.status_code == 400


def test_the_order_screen_renders(client, packer):
    order = coded_order((("SHOES-RUN-42", 1, ["CIS"]), ("MUG-001", 2, [])))
    scan(order, SHOES)
    attempt(order.pk, packer, "split", boxes.split, item=order.items.get(offer_id="SHOES-RUN-42").pk, parts=2)
    client.force_login(packer)
    html = client.get(reverse("order", args=[order.pk])).content.decode()
    assert 'id="scan"' in html and "SHOES-RUN-42" in html and "Коробка 2" in html


def _scan_queries(order, code):
    with CaptureQueriesContext(connection) as ctx:
        fb = scan(order, code)
    assert fb.ok, fb.message
    return len(ctx.captured_queries)


def test_queries_per_scan_do_not_grow_with_the_order(packer, client):
    small = make_linked_order(items=(*((f"SKU-{i}", 1) for i in range(3)), ("MUG-001", 5)))
    big = make_linked_order(items=(*((f"SKU-{i}", 1) for i in range(99)), ("MUG-001", 5)))
    for order in (small, big):
        ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
        scan(order, MUG)
    assert _scan_queries(small, MUG) == _scan_queries(big, MUG)
    client.force_login(packer)
    client.get(reverse("queue"))  # a session's first request also loads the user's language once

    def render(order):
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("order", args=[order.pk]))
        return len(ctx.captured_queries)

    assert render(small) == render(big)


def test_queue_queries_do_not_grow_with_the_number_of_orders(client, packer):
    campaign = make_campaign()
    client.force_login(packer)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(reverse("queue"), {"q": "", "codes": ""})
        assert resp.status_code == 200
        return len(ctx.captured_queries)

    make_linked_order(campaign=campaign, items=(("A", 1), ("B", 2)))
    count()  # a session's first request also loads the user's language once
    few = count()
    for _ in range(30):
        make_linked_order(campaign=campaign, items=(("A", 1), ("B", 2)))
    assert count() == few


def _snapshot(st: PackState) -> dict:
    return {
        "layout": st.layout(), "problems": st.layout_problems(), "current": st.order.current_box,
        "version": (st.order.version, st.order.layout_version),
        "items": {pk: (it.placed, it.progress(), sorted((c.pk, c.unit, c.kind, c.box_number, c.value, c.box_id)
                                                        for c in it.code_list)) for pk, it in st.items.items()},
        "boxes": {n: [(ln.pk, ln.full_count, ln.unit, ln.part_current, ln.part_total, ln.box_number, ln.item_id)
                      for ln in b.lines] for n, b in st.boxes.items()},
    }


def test_the_state_a_scan_leaves_is_what_the_database_holds(packer):
    """The scan endpoint renders from the state the scan left in memory: it must equal a fresh read."""
    order = coded_order((("SHOES-RUN-42", 3, ["CIS"]), ("MUG-001", 3, []), ("TSHIRT-M", 1, ["CIS", "RNPT"])))
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin=SHOES[2:16], offer_id="SHOES-RUN-42")
    shoes = order.items.get(offer_id="SHOES-RUN-42")
    ops = {"new_box": boxes.new_box, "remove_unit": boxes.remove_unit}
    steps = [("scan", MUG), ("scan", SHOES), ("scan", MUG), ("op", "new_box", {}), ("scan", MUG),
             ("scan", SHOES.replace("215Ek!", "215Fk!")), ("op", "remove_unit", "shoes-line"),
             ("scan", CATALOG["SHOES-RUN-42"].ean13), ("scan", "10714040/140917/0090376/001"), ("scan", "CN"),
             ("scan", MUG), ("scan", "CN")]
    for step in steps:
        if step[0] == "op":
            kw = step[2]
            if kw == "shoes-line":
                kw = {"line": BoxLine.objects.filter(item=shoes).order_by("-id").first().pk}
            assert attempt(order.pk, packer, step[1], ops[step[1]], **kw).ok
            continue
        fb = scan(order, step[1], packer, uuid.uuid4())
        if fb.state is None:  # refused (nothing changed) or broad (the screen reads it back)
            assert not fb.ok or fb.structure, fb.message
            continue
        assert fb.version_after == fb.version_before + 1
        assert _snapshot(fb.state) == _snapshot(state(order)), step
    assert Instance.objects.filter(order=order).count() == 3
    assert Instance.objects.get(kind="RNPT").country_code == "CN"


def test_a_scan_answers_with_only_what_changed_unless_someone_else_changed_the_order(client, packer):
    order = make_linked_order(items=(("MUG-001", 3), ("TEA-GREEN-100", 1)))
    ProductBarcode.objects.get_or_create(campaign=order.campaign, gtin="0" + MUG, offer_id="MUG-001")
    client.force_login(packer)
    url = reverse("order-scan", args=[order.pk])

    def post(version, *codes):
        body = {"scans": [{"id": str(uuid.uuid4()), "code": c} for c in codes], "version": version}
        resp = client.post(url, json.dumps(body), content_type="application/json")
        assert resp.status_code == 200
        return resp, int(resp.content.decode().split('data-version="')[1].split('"')[0])

    resp, v = post(None, MUG)  # opens box 1: broad
    assert resp["X-Pack-Update"] == "full"
    resp, v2 = post(v, MUG, MUG)
    assert resp["X-Pack-Update"] == "partial" and v2 == v + 2
    html = resp.content.decode()
    assert 'hx-swap-oob' in html and "MUG-001 × 3" in html and 'id="panel"' not in html
    # Another packer changes the order: the next answer is the whole panel, with their change.
    attempt(order.pk, packer, "new_box", boxes.new_box)
    resp, v3 = post(v2, "NOT-A-CODE")  # refused, but the screen was out of date
    assert resp["X-Pack-Update"] == "full" and v3 == v2 + 1 and "Коробка 2" in resp.content.decode()
    resp, _ = post(v3, "NOT-A-CODE")  # refused, nothing changed: only the message
    assert resp["X-Pack-Update"] == "partial" and 'data-state="error"' in resp.content.decode()


def test_training_codes_for_sandbox_orders_pack_the_order(client, packer):
    """A trainee prints the sheet and scans what is on it: the order ends up fully packed."""
    from fulfilment.packing.training import training_codes

    from .builders import make_business

    sandbox = make_campaign(business=make_business(api_base_url="http://127.0.0.1:8001/sandbox"))
    order = coded_order((("SHOES-RUN-42", 2, ["CIS"]), ("RING-585", 1, ["UIN"]), ("FRIDGE-IMP", 1, ["RNPT"]),
                         ("MUG-001", 1, [])), campaign=sandbox)
    real = make_linked_order(items=(("MUG-001", 1),))
    client.force_login(packer)
    url = reverse("training-sheet")
    assert client.get(url, {"order": real.pk}).status_code == 302  # real orders: the codes are on the goods
    resp = client.get(url, {"order": order.pk})
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count('class="datamatrix"') == 2 and str(order.market_id) in html
    items = training_codes(order)
    assert items == training_codes(order)  # a reprint gives the same codes
    scans = []
    for item in items:
        scans += [(item.offer_id, item.ean13)] * (item.count if not item.codes else 0)
        scans += [(item.offer_id, code) for _kind, code in item.codes]
    for sku, code in [*scans, ("", "CN")]:
        fb = scan(order, code, packer, uuid.uuid4())
        if fb.prompt:  # a barcode seen for the first time: the trainee answers once, as at a real table
            fb = scanning.choose_item(order.pk, packer, code, order.items.get(offer_id=sku).pk)
        assert fb.ok, (code, fb.message)
    assert state(order).layout_problems() == []
    other = coded_order((("SHOES-RUN-42", 2, ["CIS"]),), campaign=sandbox)
    others = {c for i in training_codes(other) for _k, c in i.codes}
    assert len(others) == 2 and not others & {c for _s, c in scans}
