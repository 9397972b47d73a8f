"""Hostile input: fuzzed scans and malformed requests to every endpoint that takes input.

A seeded generator (the same run every time, ``FUZZ_SEED`` to change it) sends scans a scanner,
a keyboard, a broken client or an attacker could send. No answer may be a server error; bad input
gets a 4xx with a message, a scan is applied or refused with its reason, and the order stays
consistent: every accepted code in one instance, the audit trail capped, the version monotonic.
``FUZZ_SCANS`` sets the number of scans (2 000 by default; the full run is 10 000).
"""

from __future__ import annotations

import json
import os
import random
import string
import time
import uuid
from collections import Counter

import pytest
from django.contrib import admin
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from fulfilment.codes.classify import MAX_SCAN_LENGTH, shown
from fulfilment.market.notifications import NotificationFormatError, parse_notification
from fulfilment.orders.models import AuditEvent, BoxLine, Instance, Order
from fulfilment.packing import scanning
from fulfilment.packing.views.order import MAX_SCANS_PER_REQUEST
from fulfilment.sandbox.seed import CATALOG, make_cis

from .builders import make_linked_order

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("FUZZ_SEED", "20"))
SCANS = int(os.environ.get("FUZZ_SCANS", "2000"))
MALFORMED = 100  # requests per endpoint
ITEMS = (("MUG-001", 40, []), ("MILK-1L", 30, ["CIS"]), ("RING-585", 3, ["UIN"]), ("FRIDGE-IMP", 2, ["RNPT"]))
# What is stored for one scan in the audit trail, whatever was sent (the code, the message).
AUDIT_PAYLOAD_CAP = 2 * MAX_SCAN_LENGTH + 1000
NASTY = ["\x00", "\ud800", "\udfff", "\ud83d", "\x1d", "\x7f", "\x1b[31m", "\u202e", "\ufeff", "\u200b", "\r\n",
         "'; DROP TABLE orders_order; --", "%s%s%n", "{{ 7*7 }}", "<script>alert(1)</script>", "${jndi:x}",
         "\u0660\u0661", "²", "١٢٣", "Ω", "ё", "\U0001f600", "../../etc/passwd", "\\", '"', "NaN", "-1", "0" * 40]


def fuzz_order() -> Order:
    order = make_linked_order(items=tuple((sku, n) for sku, n, _ in ITEMS), buyer_type="BUSINESS")
    for item, (_, _, types) in zip(order.items.order_by("id"), ITEMS, strict=True):
        item.required_instance_types = types
        item.save()
    return order


def random_text(rng: random.Random, n: int) -> str:
    pools = [string.printable, string.digits, "01234567890\x1d", "абвгдежзийк", "".join(map(chr, range(32))),
             "".join(chr(c) for c in range(0xD7F0, 0xE010)), "".join(chr(c) for c in range(0x80, 0x800))]
    pool = rng.choice(pools)
    return "".join(rng.choice(pool) for _ in range(n))


def fuzzed_code(rng: random.Random) -> object:
    """One scan: mostly plausible (good codes, slightly broken codes), the rest hostile."""
    r = rng.random()
    mug, milk = CATALOG["MUG-001"].ean13, CATALOG["MILK-1L"]
    if r < 0.15:
        return mug
    if r < 0.30:
        return make_cis(milk, rng, with_gs=rng.random() < 0.7)
    if r < 0.35:
        return "".join(rng.choice(string.digits) for _ in range(16))  # a UIN, mostly unknown
    if r < 0.38:
        return rng.choice(["CMD-NEW-BOX", "cmd-new-box", "CN", "XX", "ru", "1234567/010124/1234567/001"])
    if r < 0.50:  # a good code broken: a character dropped, changed or added, or a nasty one inserted
        code = list(rng.choice([mug, make_cis(milk, rng)]))
        i = rng.randrange(len(code))
        op = rng.randrange(3)
        if op == 0:
            del code[i]
        elif op == 1:
            code[i] = rng.choice(NASTY)
        else:
            code.insert(i, rng.choice(NASTY + list(string.printable)))
        return "".join(code)
    if r < 0.75:
        return random_text(rng, rng.choice([0, 1, 2, 5, 13, 14, 31, 80, 200]))
    if r < 0.85:
        return rng.choice(NASTY) * rng.choice([1, 2, 50])
    if r < 0.99:
        return random_text(rng, rng.choice([MAX_SCAN_LENGTH, MAX_SCAN_LENGTH + 1, 5000]))
    # Not text: the whole batch is a 400 (a client bug), so rare, or few scans would be applied.
    return rng.choice([None, 0, 4607086562123, 1.5, True, [], ["x"], {}, {"code": mug}, float("nan")])


def scan_body(scans: list[dict]) -> bytes:
    # ensure_ascii: a lone surrogate goes as its \\ud800 escape, as a browser's JSON.stringify sends it.
    return json.dumps({"scans": scans}, ensure_ascii=True).encode()


def post_json(c: Client, url: str, body: bytes):
    return c.post(url, body, content_type="application/json", HTTP_HX_REQUEST="true")


def check_consistent(order: Order, only_scans: bool = True) -> None:
    """The invariants a burst of scans may never break."""
    order.refresh_from_db()
    codes = Counter(Instance.objects.filter(order=order).values_list("kind", "identity"))
    assert [c for c, n in codes.items() if n > 1] == []
    for item in order.items.all():
        placed = BoxLine.objects.filter(item=item).aggregate(n=Sum("full_count"))["n"] or 0
        assert placed <= item.count
        per_kind = Counter(Instance.objects.filter(item=item).values_list("kind", "unit"))
        assert all(n == 1 for n in per_kind.values())  # a unit has one code of each kind
        assert all(1 <= unit <= item.count for _kind, unit in per_kind)
    for payload in AuditEvent.objects.filter(order=order).values_list("payload", flat=True):
        assert len(json.dumps(payload, ensure_ascii=False)) <= AUDIT_PAYLOAD_CAP
    if only_scans:  # every applied scan is one audit row and one version
        assert order.version == AuditEvent.objects.filter(order=order, action="scan").count()


def test_fuzzed_scans_never_break_the_server_or_the_order(packer):
    rng = random.Random(SEED)
    order = fuzz_order()
    c = Client(raise_request_exception=False)
    c.force_login(packer)
    url = reverse("order-scan", args=[order.pk])
    errors: list[tuple[int, str]] = []
    statuses: Counter[int] = Counter()
    last_version = 0
    sent = 0
    started = time.perf_counter()
    while sent < SCANS:
        n = min(rng.choice([1, 2, 5, 20, 50]), SCANS - sent)
        batch = [{"id": str(uuid.uuid4()), "code": fuzzed_code(rng)} for _ in range(n)]
        sent += n
        if rng.random() < 0.3:  # the plain form (no JavaScript): one scan, text only
            code = batch[0]["code"]
            form = {"id": batch[0]["id"], "code": code if isinstance(code, str) else json.dumps(code)}
            r = c.post(url, _strip_surrogates(form))
        else:
            r = post_json(c, url, scan_body(batch))
        statuses[r.status_code] += 1
        if r.status_code >= 500:
            errors.append((r.status_code, repr(batch)[:300]))
        elif r.status_code >= 400:
            assert r.content.strip(), "a refusal must say why"
        version = Order.objects.values_list("version", flat=True).get(pk=order.pk)
        assert version >= last_version
        last_version = version
    elapsed = time.perf_counter() - started
    print(f"\nfuzz: {SCANS} scans (seed {SEED}) in {elapsed:.1f} s; answers {dict(statuses)}")
    assert errors == []
    check_consistent(order, only_scans=False)
    # Whatever junk was scanned, the order page stays a page (the audit trail shows capped codes).
    page = c.get(reverse("order", args=[order.pk]))
    assert page.status_code == 200
    assert len(page.content) < 400_000


def test_a_scan_batch_for_an_order_that_does_not_exist_is_not_found(packer):
    c = Client(raise_request_exception=False)
    c.force_login(packer)
    r = post_json(c, reverse("order-scan", args=[987654321]), scan_body([{"id": str(uuid.uuid4()), "code": "x"}]))
    assert r.status_code == 404


@pytest.mark.parametrize("code", [None, {"a": 1}, ["4607086562123"], 4607086562123, True])
def test_a_code_that_is_not_text_is_a_bad_request_and_changes_nothing(packer, code):
    order = fuzz_order()
    c = Client()
    c.force_login(packer)
    r = post_json(c, reverse("order-scan", args=[order.pk]), scan_body([{"id": str(uuid.uuid4()), "code": code}]))
    assert r.status_code == 400
    with translation.override("ru"):  # the packer's language, Russian by default
        assert r.content.decode() == gettext("Each scan's code must be text: %(code)s") % {"code": shown(code, 40)}
    assert not AuditEvent.objects.filter(order=order).exists()


def test_deeply_nested_json_is_a_bad_request(packer):
    order = fuzz_order()
    c = Client()
    c.force_login(packer)
    r = post_json(c, reverse("order-scan", args=[order.pk]), b'{"scans": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert r.status_code == 400


@pytest.mark.parametrize("junk", ["A\x00B", "4607086562123\x00", "\ud800", "01046501172404082\udfff15aB3cD"])
def test_nul_and_lone_surrogates_are_refused_and_stored_safely(packer, junk):
    order = fuzz_order()
    c = Client()
    c.force_login(packer)
    r = post_json(c, reverse("order-scan", args=[order.pk]), scan_body([{"id": str(uuid.uuid4()), "code": junk}]))
    assert r.status_code == 200
    event = AuditEvent.objects.get(order=order)
    assert event.action == "scan.refused"
    assert "\x00" not in event.payload["code"] and event.payload["code"].isprintable()
    order.refresh_from_db()
    assert order.version == 0


def test_a_burst_of_long_junk_keeps_the_order_page_small(packer):
    order = fuzz_order()
    c = Client()
    c.force_login(packer)
    url = reverse("order-scan", args=[order.pk])
    for _ in range(10):
        r = post_json(c, url, scan_body([{"id": str(uuid.uuid4()), "code": "Z" * 60_000} for _ in range(5)]))
        assert r.status_code == 200
    assert AuditEvent.objects.filter(order=order, action="scan.refused").count() == 50
    page = c.get(reverse("order", args=[order.pk]))
    assert len(page.content) < 400_000


# --- malformed requests to every endpoint that takes input ----------------------------------------
def junk_value(rng: random.Random) -> str:
    return rng.choice([
        "", " ", "0", "-1", "1", "2", "99999999999", "9" * 5000, "²", "١", "1.5", "1e3", "0x10", "null", "[]",
        "\x00", "1\x00", "a\x00b", "Ω" * 300, "x" * 70_000, "'", '"', "<b>", "%00", "../", "\u202e", "CN", "accept",
        "reject", "DELIVERED", "OTHER", "on", str(uuid.uuid4()),
    ]) if rng.random() < 0.8 else random_text(rng, rng.randrange(1, 300)).replace("\ud800", "")


def junk_form(rng: random.Random, names: tuple[str, ...]) -> dict[str, object]:
    form: dict[str, object] = {}
    for name in (*names, "extra", "next"):
        roll = rng.random()
        if roll < 0.15:
            continue
        form[name] = [junk_value(rng), junk_value(rng)] if roll < 0.25 else junk_value(rng)
    return form


def _strip_surrogates(form: dict[str, object]) -> dict[str, object]:
    # The test client encodes forms as UTF-8; a browser cannot send a lone surrogate in a form either.
    def clean(v: str) -> str:
        return v.encode("utf-8", "replace").decode()

    return {k: [clean(x) for x in v] if isinstance(v, list) else clean(str(v)) for k, v in form.items()}


PACKER_POSTS = {
    "order-new-box": (), "order-set-current-box": ("box",), "order-delete-box": ("box",),
    "order-move-unit": ("line", "to"), "order-remove-unit": ("line",), "order-split-unit": ("item", "parts"),
    "order-unsplit-unit": ("item", "unit"), "order-delete-code": ("instance",),
    "order-set-country": ("instance", "country"), "order-teach": ("on",), "order-choose-item": ("item", "code"),
    "order-report-problem": ("problem", "item", "note"), "order-scan": ("id", "code"),
    "order-photo": ("box", "reason"),
}
SUPERVISOR_POSTS = {
    "supervisor-cancellation": ("decision", "reason", "confirm"),
    "supervisor-remove-item": ("item", "count", "confirm"),
    "supervisor-cancel": ("confirm",), "supervisor-back-to-packing": (),
    "supervisor-update-order": ("last_name", "first_name", "phone", "from_date", "to_date", "from_time", "to_time"),
}
GETS = {
    "queue": ("campaign", "status", "date", "buyer", "codes", "flagged", "q", "page"), "queue-open": ("code",),
    "supervisor-barcodes": ("campaign", "source", "q"), "supervisor-report": ("date_from", "date_to", "campaign"),
    "supervisor-report-csv": ("date_from", "date_to", "campaign"),
    "returns": ("campaign",), "returns-open": ("code",),
}


def test_malformed_requests_to_every_endpoint_are_answered_without_a_server_error(packer, supervisor, admin_user):
    rng = random.Random(SEED)
    order = fuzz_order()
    errors: list[str] = []
    clients = {}
    for who in (packer, supervisor, admin_user):
        clients[who] = Client(raise_request_exception=False)
        clients[who].force_login(who)

    def check(r, what: str) -> None:
        if r.status_code >= 500:
            errors.append(f"{what}: {r.status_code}")

    for name, fields in {**PACKER_POSTS, **SUPERVISOR_POSTS}.items():
        c = clients[supervisor if name in SUPERVISOR_POSTS else packer]
        url = reverse(name, args=[order.pk])
        for _ in range(MALFORMED):
            form = _strip_surrogates(junk_form(rng, fields))
            check(c.post(url, form, HTTP_HX_REQUEST="true" if rng.random() < 0.5 else None), f"{name} {form!r:.200}")
    url = reverse("supervisor-bulk-ready")
    for _ in range(MALFORMED):
        form = _strip_surrogates({"order": [junk_value(rng) for _ in range(rng.randrange(5))]})
        check(clients[supervisor].post(url, form), f"bulk-ready {form!r:.200}")
    for name, fields in GETS.items():
        c = clients[supervisor if name.startswith("supervisor") else packer]
        for _ in range(MALFORMED):
            params = _strip_surrogates(junk_form(rng, fields))
            check(c.get(reverse(name), params), f"{name} {params!r:.200}")
    # Malformed JSON to the scan endpoint.
    url = reverse("order-scan", args=[order.pk])
    bodies = [b"", b"{", b"null", b"[]", b'"x"', b"1", b'{"scans": null}', b'{"scans": {}}', b'{"scans": [1]}',
              b'{"scans": [{"id": "x", "code": "y"}]}', b'{"scans": [{"code": "y"}]}', b'{"scans": [{"id": 1}]}',
              b"\xff\xfe", b'{"scans": [{"id": "%s", "code": "\\ud800"}]}' % str(uuid.uuid4()).encode(),
              b'{"scans": [], "version": {"a": []}}', b"[" * 50_000, b'{"scans": NaN}',
              json.dumps({"scans": [{"id": str(uuid.uuid4()), "code": "1"}] * (MAX_SCANS_PER_REQUEST + 1)}).encode()]
    for i in range(MALFORMED):
        body = bodies[i % len(bodies)] if i < len(bodies) else random_text(rng, rng.randrange(1, 200)).encode(
            "utf-8", "surrogatepass")
        check(post_json(clients[packer], url, body), f"scan JSON {body!r:.200}")
    # The admin's search, filters and sorting on every list.
    c = clients[admin_user]
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for _ in range(MALFORMED // 10):
            params = _strip_surrogates(junk_form(rng, ("q", "o", "p", "e", "status", "action", "source")))
            check(c.get(url, params), f"{url} {params!r:.200}")
    assert errors == []
    check_consistent(order, only_scans=False)


def test_a_notification_nested_too_deeply_is_a_format_error_not_a_crash():
    with pytest.raises(NotificationFormatError):
        parse_notification(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("junk", ["460708656212²", "01046501172404²8215aB3cD\x1d93dGVz", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦",
                                  "٤٦٠٧٠٨٦٥٦٢١٢٣"])
def test_digits_that_are_not_ascii_are_refused_not_a_crash(packer, junk):
    order = fuzz_order()
    fb = scanning.scan(order.pk, packer, junk, uuid.uuid4())
    assert not fb.ok and fb.message
    assert not Instance.objects.filter(order=order).exists()
