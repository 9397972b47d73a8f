"""The sync's raw bulk writer writes, in every column, what the ORM would write (SQLite and PostgreSQL)."""

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection, models

from fulfilment.orders import bulk, mirror
from fulfilment.orders.models import Business, Campaign, Order, OrderItem
from fulfilment.sandbox import seed

pytestmark = pytest.mark.django_db


def _rows(model: type[models.Model], **where: object) -> list[dict[str, object]]:
    """The rows as the database holds them: each column as text (and, on SQLite, with the storage
    class it was given), read by SQL rather than through the model's fields."""
    pks = list(model.objects.filter(**where).order_by("pk").values_list("pk", flat=True))
    qn = connection.ops.quote_name
    columns = [f.column for f in model._meta.concrete_fields]
    if connection.vendor == "sqlite":
        select = ", ".join(f"typeof({qn(c)}) || ':' || coalesce(CAST({qn(c)} AS TEXT), '')" for c in columns)
    else:
        select = ", ".join(f"{qn(c)}::text" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM {qn(model._meta.db_table)} "  # noqa: S608 - the model's names
                       f"WHERE id IN ({', '.join(['%s'] * len(pks))}) ORDER BY id", pks)
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _comparable(model: type[models.Model], row: dict[str, object], skip: set[str]) -> dict[str, object]:
    """Every column but those that differ by construction. JSON is compared as the value it holds:
    the writer's text has no spaces after separators, the ORM's has (PostgreSQL's jsonb keeps neither)."""
    json_columns = {f.column for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}

    def value(column: str, text: object) -> object:
        if column not in json_columns or text is None:
            return text
        kind, _, body = str(text).partition(":") if connection.vendor == "sqlite" else ("", "", text)
        return kind, json.loads(body)

    return {k: value(k, v) for k, v in row.items() if k not in skip}


def _by(rows: list[dict[str, object]], key: str, model: type[models.Model], skip: set[str]
        ) -> dict[object, dict[str, object]]:
    return {row[key]: _comparable(model, row, skip) for row in rows}


def _awkward(o):
    """The values most likely to be written differently: COPY's escapes, offsets, precision, unicode."""
    return dataclasses.replace(
        o, notes='tab\there, a backslash \\N, "quotes", new\nline — «ёлка»',
        created_at=dt.datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        items_total=Decimal("1234567.5"), delivery_total=Decimal("0"), subsidy_total=Decimal("0.01"),
        raw={**o.raw, "notes": "«ёлка» \\ \t", "nested": {"n": [1, 2.5, None, True]}})


def test_new_orders_and_items_are_written_as_the_orm_writes_them(sandbox):
    sandbox.seeder.demo()
    business = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Demo", api_base_url=sandbox.url,
                                       api_token=seed.DEMO_API_KEY)
    campaigns = {cid: Campaign.objects.create(market_id=cid, business=business, name=str(cid))
                 for cid in (seed.FBS_CAMPAIGN_ID, seed.EXPRESS_CAMPAIGN_ID, seed.DBS_CAMPAIGN_ID)}
    remote = [o for page in sandbox.client().iter_business_orders(seed.DEMO_BUSINESS_ID) for o in page.orders
              if o.campaign_id in campaigns]
    assert len(remote) > 5
    remote[0] = _awkward(remote[0])
    remote[1] = dataclasses.replace(remote[1], shipment=None, expiry_date=None, updated_at=None, cancel_requested=True)

    created, _, _ = mirror.apply_page(campaigns, remote)  # new orders: the bulk writer
    assert created == len(remote)
    # The same orders written by the ORM into a twin campaign each.
    twins = {cid: Campaign.objects.create(market_id=cid + 10**9, business=business, name="twin")
             for cid in campaigns}
    written = {(o.campaign_id, o.market_id): o for o in Order.objects.all()}
    for o in remote:
        # synced_at is the page's time, taken as the bulk writer stored it (the other datetimes show
        # that it stores them as the ORM does).
        synced_at = written[(campaigns[o.campaign_id].pk, o.id)].synced_at
        twin = Order.objects.create(campaign=twins[o.campaign_id], market_id=o.id, synced_at=synced_at,
                                    **mirror.order_fields(o))
        for i in o.items:
            OrderItem.objects.create(order=twin, market_item_id=i.id, **mirror.item_fields(i))

    bulk_pks = [c.pk for c in campaigns.values()]
    orm_pks = [c.pk for c in twins.values()]
    by_bulk = _rows(Order, campaign__in=bulk_pks)
    by_orm = _rows(Order, campaign__in=orm_pks)
    assert len(by_bulk) == len(by_orm) == len(remote)
    skip = {"id", "campaign_id"}
    assert _by(by_bulk, "market_id", Order, skip) == _by(by_orm, "market_id", Order, skip)
    assert len(by_bulk[0]) == len(Order._meta.concrete_fields)  # every column was compared

    items_bulk = _rows(OrderItem, order__campaign__in=bulk_pks)
    items_orm = _rows(OrderItem, order__campaign__in=orm_pks)
    assert len(items_bulk) == len(items_orm) == sum(len(o.items) for o in remote)
    skip = {"id", "order_id"}
    assert _by(items_bulk, "market_item_id", OrderItem, skip) == _by(items_orm, "market_item_id", OrderItem, skip)


def test_the_lookup_finds_each_pair_and_only_those(db):
    business = Business.objects.create(market_id=1, name="b")
    a, b = (Campaign.objects.create(market_id=m, business=business, name=str(m)) for m in (11, 12))
    bulk.insert(Order, ["campaign", "market_id"], [[a.pk, 100], [a.pk, 101], [b.pk, 100]])
    found = bulk.order_pks([a.pk, b.pk], [100, 101, 102])
    assert set(found) == {(a.pk, 100), (a.pk, 101), (b.pk, 100)}
    assert found[(b.pk, 100)] == Order.objects.get(campaign=b, market_id=100).pk
    assert bulk.order_pks([b.pk], [101]) == {}


def test_changed_orders_and_items_are_written_as_the_orm_writes_them(sandbox):
    sandbox.seeder.demo()
    business = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Demo", api_base_url=sandbox.url,
                                       api_token=seed.DEMO_API_KEY)
    remote = [o for page in sandbox.client().iter_business_orders(seed.DEMO_BUSINESS_ID) for o in page.orders
              if o.campaign_id == seed.FBS_CAMPAIGN_ID]
    assert len(remote) > 3
    # Two copies of the same orders, one changed by the writer and one by the ORM's bulk_update.
    ours, orms = ({seed.FBS_CAMPAIGN_ID: Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID + n, business=business,
                                                                 name=str(n))} for n in (0, 10**9))
    for campaigns in (ours, orms):
        mirror.apply_page({seed.FBS_CAMPAIGN_ID: campaigns[seed.FBS_CAMPAIGN_ID]},
                          [dataclasses.replace(o, campaign_id=seed.FBS_CAMPAIGN_ID) for o in remote])
    changed = [_awkward(remote[0]), dataclasses.replace(remote[1], shipment=None, expiry_date=None, updated_at=None,
                                                        cancel_requested=True), *remote[2:]]
    synced_at = dt.datetime(2026, 12, 1, 10, 11, 12, 654321, tzinfo=dt.UTC)
    for campaign, write in ((ours[seed.FBS_CAMPAIGN_ID], bulk.update),
                            (orms[seed.FBS_CAMPAIGN_ID], lambda m, objs, names: m.objects.bulk_update(objs, names))):
        orders = {o.market_id: o for o in Order.objects.filter(campaign=campaign)}
        items = []
        for o in changed:
            local = orders[o.id]
            for key, value in mirror.order_fields(o).items():
                setattr(local, key, value)
            local.synced_at, local.flag_reason = synced_at, "flagged «ёлка»"
            by_id = {i.market_item_id: i for i in local.items.all()}
            for i in o.items:
                item = by_id[i.id]
                for key, value in mirror.item_fields(i).items():
                    setattr(item, key, value)
                item.count, item.promos = item.count + 1, [{"type": "DIRECT_DISCOUNT", "discount": "1.5"}]
                items.append(item)
        write(Order, list(orders.values()), mirror.ORDER_FIELDS)
        write(OrderItem, items, mirror.ITEM_FIELDS)

    mine, theirs = ours[seed.FBS_CAMPAIGN_ID], orms[seed.FBS_CAMPAIGN_ID]
    skip = {"id", "campaign_id"}
    by_ours, by_orm = _rows(Order, campaign=mine), _rows(Order, campaign=theirs)
    assert len(by_ours) == len(by_orm) == len(remote)
    assert _by(by_ours, "market_id", Order, skip) == _by(by_orm, "market_id", Order, skip)
    assert Order.objects.filter(campaign=mine, flag_reason="flagged «ёлка»").count() == len(remote)
    items_ours, items_orm = _rows(OrderItem, order__campaign=mine), _rows(OrderItem, order__campaign=theirs)
    skip = {"id", "order_id"}
    assert _by(items_ours, "market_item_id", OrderItem, skip) == _by(items_orm, "market_item_id", OrderItem, skip)
