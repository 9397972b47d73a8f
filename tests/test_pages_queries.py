"""Queries per page do not grow with the orders: the start page, the queue's filters and searches, the
order panel, the supervisor's pages, the report form, the shipments screen and the admin changelists.
By URL path, so the checks hold whichever module serves a page (the queue and the order screen have
theirs in test_packing.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfilment.orders.models import (
    SHIPMENT_KINDS,
    AuditEvent,
    Box,
    Campaign,
    HandoverScan,
    Order,
    OrderItem,
    OutboxAction,
    Problem,
    Shipment,
)

from .builders import make_campaign, make_order

pytestmark = pytest.mark.django_db


def queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return len(ctx.captured_queries)


def history(campaign: Campaign, n: int) -> None:
    """Orders that left the queue long ago, each with its box, delivered actions and audit trail."""
    for i in range(n):
        status = "CANCELLED" if i % 5 == 0 else "DELIVERED"
        order = make_order(campaign=campaign, items=(("A", 1), ("B", 2)), status=status, substatus="",
                           shipment_date=dt.date(2025, 1, 1) + dt.timedelta(days=i))
        Box.objects.create(order=order, number=1, barcode=f"{order.market_id}-1")
        OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.LAYOUT,
                                    state=OutboxAction.State.DELIVERED)
        for action in ("scan", "pack.finish", "pack.ready"):
            AuditEvent.objects.create(order=order, action=action, request_id=uuid.uuid4() if action == "scan" else None)


def work(campaign: Campaign, n: int, user) -> list[Order]:
    """Today's orders, with each kind of trouble a page lists: a problem, a flag, a refused action,
    a buyer's cancellation request."""
    orders = []
    for i in range(n):
        order = make_order(campaign=campaign, items=(("A", 1), ("B", 2)), shipment_date=timezone.localdate(),
                           flag_reason="Позвонить покупателю" if i % 3 == 0 else "", buyer_type="BUSINESS")
        if i % 2 == 0:
            Order.objects.filter(pk=order.pk).update(problem=Problem.MISSING, problem_by=user,
                                                     problem_item=order.items.first(), problem_at=timezone.now())
        OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.STATUS,
                                    state=OutboxAction.State.FAILED if i % 4 == 0 else OutboxAction.State.DELIVERED,
                                    created_by=user)
        AuditEvent.objects.create(order=order, user=user, action="scan", request_id=uuid.uuid4())
        make_order(campaign=campaign, status="DELIVERY", substatus="", cancel_requested=True,
                   cancel_requested_at=timezone.now())
        orders.append(order)
    return orders


@pytest.fixture
def shop() -> Campaign:
    return make_campaign()


def grows(client, paths: list[str], more) -> dict[str, tuple[int, int]]:
    """The pages whose query count changed after ``more()`` added orders: {path: (before, after)}."""
    client.get("/queue/")  # a session's first request also loads the user's language once
    before = {p: queries(client, p) for p in paths}
    more()
    after = {p: queries(client, p) for p in paths}
    return {p: (before[p], after[p]) for p in paths if before[p] != after[p]}


def test_queue_filters_and_searches_do_not_grow_with_the_orders(client, packer, shop):
    first = work(shop, 4, packer)[-1]  # every filter finds one: an empty page is read with one query less
    client.force_login(packer)
    paths = [f"/queue/?campaign={shop.pk}", "/queue/?status=PROCESSING/READY_TO_SHIP", "/queue/?status=PROCESSING",
             f"/queue/?date={timezone.localdate().isoformat()}", "/queue/?buyer=BUSINESS", "/queue/?codes=1",
             "/queue/?flagged=1", f"/queue/?q={first.market_id}", "/queue/?q=A", "/queue/?page=2"]
    assert grows(client, paths, lambda: (history(shop, 12), work(shop, 12, packer))) == {}


def test_a_queue_search_finds_an_order_number_by_its_index_and_matches_the_items_text_once(client, packer, shop):
    """Issue 17: an order number of the queue is looked up by its index alone; any other search runs the
    text match once a request, among the queue's orders: the counts by date and the page read the
    matched ids by primary key (it ran in both, each over the day's work)."""
    by_number = make_order(campaign=shop, items=(("TEA", 1),), shipment_date=timezone.localdate())
    make_order(campaign=shop, items=((f"X{by_number.market_id}", 1),), shipment_date=timezone.localdate())
    numeric_sku = make_order(campaign=shop, items=(("4607001234567", 1),), shipment_date=timezone.localdate())
    by_name = make_order(campaign=shop, items=(("MUG", 1),), shipment_date=timezone.localdate())
    OrderItem.objects.filter(order=by_name).update(name="Кружка синяя")
    gone = make_order(campaign=shop, items=(("TEA", 1),), status="DELIVERED", substatus="")  # left the queue
    client.force_login(packer)
    client.get("/queue/")
    for q, found, text_matches in ((str(by_number.market_id), {by_number}, 0), ("4607001234567", {numeric_sku}, 1),
                                   ("кружка", {by_name}, 1), ("tea", {by_number}, 1), (str(gone.market_id), set(), 1),
                                   ("nothing", set(), 1)):
        with CaptureQueriesContext(connection) as captured:
            resp = client.get("/queue/", {"q": q})
        assert {o.pk for o in resp.context["page"].object_list} == {o.pk for o in found}, q
        matches = [x["sql"] for x in captured.captured_queries if "LIKE UPPER(" in x["sql"]
                   and '"orders_orderitem"' in x["sql"]]
        assert len(matches) == text_matches, (q, matches)


def test_the_order_panel_does_not_grow_with_the_orders_history(client, packer, shop):
    order = work(shop, 1, packer)[0]
    client.force_login(packer)
    paths = [f"/orders/{order.pk}/panel/"]
    assert grows(client, paths, lambda: (history(shop, 12), work(shop, 12, packer))) == {}


def test_the_start_page_does_not_grow_with_the_orders(client, packer, shop):
    work(shop, 1, packer)
    client.force_login(packer)
    assert grows(client, ["/"], lambda: (history(shop, 12), work(shop, 12, packer))) == {}


def test_the_start_page_does_not_grow_with_the_orders_history(client, packer, shop):
    work(shop, 1, packer)
    client.force_login(packer)
    assert grows(client, ["/"], lambda: history(shop, 12)) == {}


def test_the_supervisors_pages_do_not_grow_with_the_orders(client, supervisor, shop):
    order = work(shop, 1, supervisor)[0]
    client.force_login(supervisor)
    paths = ["/supervisor/", f"/supervisor/orders/{order.pk}/", "/supervisor/reports/"]

    def more():
        history(shop, 12)
        work(shop, 12, supervisor)
        for _ in range(10):
            AuditEvent.objects.create(order=order, user=supervisor, action="scan", request_id=uuid.uuid4())
            OutboxAction.objects.create(campaign=shop, order=order, kind=OutboxAction.Kind.LAYOUT,
                                        state=OutboxAction.State.DELIVERED, created_by=supervisor)
        make_campaign(business=shop.business)

    assert grows(client, paths, more) == {}


def test_the_admin_changelists_do_not_grow_with_the_orders(client, admin_user, shop):
    order = work(shop, 1, admin_user)[0]
    client.force_login(admin_user)
    paths = ["/admin/orders/order/", "/admin/orders/order/?status__exact=PROCESSING",
             f"/admin/orders/order/?q={order.market_id}", "/admin/orders/auditevent/",
             "/admin/orders/auditevent/?action__exact=scan", f"/admin/orders/auditevent/?q={order.market_id}"]
    assert grows(client, paths, lambda: (history(make_campaign(), 12), work(shop, 12, admin_user))) == {}


def test_the_admin_reads_no_distinct_and_no_all_values_unless_a_search_reached_the_items(client, admin_user, shop):
    """DISTINCT over every order, a text cast of the number and ``SELECT DISTINCT`` for a filter's
    choices scan the whole history; only a search through the items may need DISTINCT."""
    order = work(shop, 1, admin_user)[0]
    client.force_login(admin_user)
    for path in ["/admin/orders/order/", f"/admin/orders/order/?q={order.market_id}",
                 f"/admin/orders/auditevent/?q={order.market_id}", "/admin/orders/auditevent/?action_family=scan"]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, path
        sql = [q["sql"].upper() for q in captured.captured_queries]
        rows = [q for q in sql
                if '"ORDERS_ORDER"."MARKET_ID", "ORDERS_ORDER"' in q or '"ORDERS_AUDITEVENT"."PAYLOAD"' in q]
        assert rows and not [q for q in rows if "DISTINCT" in q or ("LIKE" in q and "?q=" in path)], path
        assert not [q for q in sql if '"DELIVERY_TYPE" FROM' in q or '"ACTION" FROM' in q], path
    response = client.get(f"/admin/orders/order/?q={order.market_id}")
    assert list(response.context["cl"].result_list) == [order]


def test_the_admin_order_filters_read_no_distinct_and_count_no_further_than_a_cap(client, admin_user, shop):
    """Issue 17: each filter of the order changelist lists its choices from a fixed list (Django's
    own filter for a text field reads ``SELECT DISTINCT`` over every order ever synced), the list
    itself has no DISTINCT in its plan, and the result count stops at a cap instead of counting the
    history."""
    from fulfilment.orders.admin import CappedPaginator

    history(make_campaign(), 3)
    order = work(shop, 2, admin_user)[0]
    client.force_login(admin_user)
    paths = ["/admin/orders/order/", "/admin/orders/order/?substatus__exact=STARTED",
             "/admin/orders/order/?buyer_type__exact=BUSINESS", "/admin/orders/order/?status__exact=PROCESSING",
             f"/admin/orders/order/?campaign__id__exact={shop.pk}",
             f"/admin/orders/order/?campaign__id__exact={shop.pk}&substatus__exact=STARTED&buyer_type__exact=BUSINESS"]
    for path in paths:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, path
        sql = [q["sql"].upper() for q in captured.captured_queries]
        assert not [q for q in sql if "DISTINCT" in q], path
        counts = [q for q in sql if "COUNT(" in q and '"ORDERS_ORDER"' in q]
        assert counts and all(f"LIMIT {CappedPaginator.CAP + 1}" in q for q in counts), (path, counts)
        cl = response.context["cl"]
        assert order in cl.result_list, path
        if connection.vendor == "postgresql":
            plan = cl.queryset.explain()
            assert "Unique" not in plan and "HashAggregate" not in plan, (path, plan)
    sidebar = client.get(paths[0]).content.decode()
    assert "?substatus__exact=READY_TO_SHIP" in sidebar and "?buyer_type__exact=PERSON" in sidebar  # still listed
    # The outbox and the notification log list their filters without reading the history either.
    for path in ["/admin/orders/outboxaction/", "/admin/orders/outboxaction/?state__exact=FAILED",
                 "/admin/notifications/notificationevent/", "/admin/notifications/notificationevent/?order=yes"]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200, path
        assert not [q["sql"] for q in captured.captured_queries if "DISTINCT" in q["sql"].upper()], path
def test_the_supervisor_overview_counts_only_the_last_hours_decisions_per_shop(client, supervisor, shop):
    """Grouped over the hour's decisions (outbox_kind_created_idx), not a join of every shop with all
    its actions ever sent: a shop with a request and no decision shows 0, an older decision is not counted."""
    other, quiet = make_campaign(business=shop.business, name="Второй"), make_campaign(business=shop.business,
                                                                                        name="Тихий")
    order = make_order(campaign=shop)
    for campaign, n in ((shop, 3), (other, 1)):
        for _ in range(n):
            OutboxAction.objects.create(campaign=campaign, order=order, kind=OutboxAction.Kind.CANCELLATION)
    old = OutboxAction.objects.create(campaign=other, order=order, kind=OutboxAction.Kind.CANCELLATION)
    OutboxAction.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    make_order(campaign=quiet, status="DELIVERY", substatus="", cancel_requested=True,
               cancel_requested_at=timezone.now())
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/supervisor/").content.decode()
    assert f"{shop.name}: за последний час отправлено решений: 3 из 500." in page
    assert f"{other.name}: за последний час отправлено решений: 1 из 500." in page
    assert f"{quiet.name}: за последний час отправлено решений: 0 из 500." in page
    joins = [q["sql"] for q in captured.captured_queries
             if 'FROM "orders_campaign"' in q["sql"] and '"orders_outboxaction"' in q["sql"]]
    assert joins == []


def test_a_logged_in_request_reads_only_the_user_with_their_roles(client, packer, cached_sessions):
    """Before the view: the first request reads the user with their roles in one query and keeps them in
    Redis (accounts/backends.py); the next reads nothing, since the session comes from Redis too. The
    trivial view then only stores its message in the session."""
    client.force_login(packer)
    with CaptureQueriesContext(connection) as first:
        client.get("/queue/open/")  # the session's first request also reads the language chosen
    users = [q["sql"] for q in first.captured_queries if '"auth_user"' in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(users) == 1 and '"auth_group"' in users[0]
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/queue/open/")
    assert response.status_code == 302
    assert [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")] == []


def test_a_logged_in_page_makes_no_session_query(client, packer, cached_sessions):
    client.force_login(packer)
    client.get("/queue/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/queue/").status_code == 200
    assert [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]] == []


def test_a_role_taken_away_counts_from_the_next_request(client, packer):
    client.force_login(packer)
    assert client.get("/queue/").status_code == 200
    packer.groups.clear()
    assert client.get("/queue/").status_code == 403


def shipment_of(campaign: Campaign, n: int, user, day: dt.date | None = None) -> Shipment:
    """A shipment of ``n`` orders, one packed in a box and scanned at the dock, one refused by the Market,
    with a pallets count sent for it."""
    orders = [make_order(campaign=campaign, substatus="READY_TO_SHIP" if i % 2 else "STARTED") for i in range(n)]
    shipment = Shipment.objects.create(campaign=campaign, market_id=90_000_000 + orders[0].market_id,
                                       shipment_date=day or timezone.localdate(), status="OUTBOUND_CREATED",
                                       order_ids=[o.market_id for o in orders])
    box = Box.objects.create(order=orders[-1], number=1, barcode=f"{orders[-1].market_id}-1")
    HandoverScan.objects.create(shipment=shipment, box=box, order=orders[-1], barcode=box.barcode, user=user)
    OutboxAction.objects.create(campaign=campaign, order=orders[0], kind=OutboxAction.Kind.STATUS,
                                state=OutboxAction.State.FAILED, created_by=user)
    OutboxAction.objects.create(campaign=campaign, kind=OutboxAction.Kind.PALLETS, created_by=user,
                                payload={"shipmentId": shipment.market_id, "palletsCount": 1})
    return shipment


def test_the_shipments_screen_reads_the_same_queries_for_one_shipment_as_for_many(client, supervisor, shop):
    """Issue 17: the boards of the day are read together (five queries a shipment before), and a
    shipment's actions among the kinds that name a shipment (outbox_shipment_idx), not every action
    of its shop."""
    first = shipment_of(shop, 2, supervisor)
    client.force_login(supervisor)
    paths = ["/shipments/", f"/shipments/{first.pk}/"]

    def more():
        history(shop, 12)
        for n in range(4):
            shipment_of(make_campaign(business=shop.business) if n % 2 else shop, 3, supervisor,
                        timezone.localdate() + dt.timedelta(days=n % 3))

    assert grows(client, paths, more) == {}
    page = client.get("/shipments/").content.decode()
    assert page.count('data-shipment="') == 5
    with CaptureQueriesContext(connection) as captured:  # the screen reads no action now: a shipment's page
        client.get(f"/shipments/{first.pk}/")
    actions = [q["sql"] for q in captured.captured_queries if 'FROM "orders_outboxaction"' in q["sql"]
               and "shipmentId" in q["sql"]]
    assert actions and all("PALLETS" in q for q in actions), actions


def test_the_shipment_kinds_are_the_changes_that_name_a_shipment():
    from fulfilment.orders.outbox import KIND_OF

    named = {kind for cls, kind in KIND_OF.items() if "shipment_id" in getattr(cls, "__dataclass_fields__", {})}
    assert set(SHIPMENT_KINDS) == named


def test_a_kept_queue_row_shows_the_orders_change_at_once(client, packer, shop):
    """The queue's rows are kept rendered ({% cache %}) under everything they show: a change to the
    order is a new row, not the kept one."""
    order = make_order(campaign=shop, shipment_date=timezone.localdate())
    client.force_login(packer)
    page = client.get("/queue/").content.decode()
    assert str(order.market_id) in page and 'class="flagged"' not in page
    Order.objects.filter(pk=order.pk).update(flag_reason="Позвонить покупателю", substatus="PACKAGING")
    page = client.get("/queue/").content.decode()
    assert 'class="flagged"' in page and "Упаковывается" in page
    shop.name = "Другое имя"
    shop.save()
    assert "Другое имя</td>" in client.get("/queue/").content.decode()
