"""The database holds the invariants the Market relies on."""

import pytest
from django.db import DataError, IntegrityError, transaction

from fulfilment.orders.models import Box, BoxLine, Instance, Order

from .builders import make_campaign, make_order

pytestmark = pytest.mark.django_db

GS = "\x1d"
CIS = "0104650117240408215aB3cD" + GS + "93dGVz"


def test_an_order_is_unique_per_campaign():
    order = make_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(campaign=order.campaign, market_id=order.market_id, status="PROCESSING")


def test_the_same_market_id_may_exist_in_another_campaign():
    order = make_order()
    other = Order.objects.create(campaign=make_campaign(), market_id=order.market_id, status="PROCESSING")
    assert other.pk != order.pk


def test_an_item_count_must_be_positive():
    order = make_order()
    item = order.items.get()
    item.count = 0
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()


def test_an_unknown_status_from_the_market_is_kept():
    order = make_order(status="SOME_NEW_STATUS", substatus="SOMETHING_NEW")
    order.refresh_from_db()
    assert order.status == "SOME_NEW_STATUS"


def _box(order, number=1):
    return Box.objects.create(order=order, number=number)


def test_a_box_line_is_whole_units_or_one_part_never_both():
    order = make_order(items=(("AC", 1),))
    item = order.items.get()
    box = _box(order)
    with pytest.raises(IntegrityError), transaction.atomic():
        BoxLine.objects.create(box=box, item=item, full_count=1, unit=1, part_current=1, part_total=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        BoxLine.objects.create(box=box, item=item)
    BoxLine.objects.create(box=box, item=item, unit=1, part_current=1, part_total=2)


@pytest.mark.parametrize(("current", "total"), [(0, 2), (3, 2), (1, 1)])
def test_a_part_needs_one_to_total_of_at_least_two(current, total):
    order = make_order(items=(("AC", 1),))
    with pytest.raises(IntegrityError), transaction.atomic():
        BoxLine.objects.create(box=_box(order), item=order.items.get(), unit=1, part_current=current,
                               part_total=total)


def test_each_part_of_a_unit_appears_once():
    order = make_order(items=(("AC", 1),))
    item = order.items.get()
    BoxLine.objects.create(box=_box(order, 1), item=item, unit=1, part_current=1, part_total=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        BoxLine.objects.create(box=_box(order, 2), item=item, unit=1, part_current=1, part_total=2)


def test_box_numbers_are_unique_per_order():
    order = make_order()
    _box(order, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        _box(order, 1)


def test_a_unit_has_one_code_of_each_kind():
    order = make_order(items=(("SHOES", 2),))
    item = order.items.get()
    Instance.objects.create(order=order, item=item, unit=1, kind="CIS", value=CIS)
    with pytest.raises(IntegrityError), transaction.atomic():
        Instance.objects.create(order=order, item=item, unit=1, kind="CIS", value=CIS.replace("aB3", "xY7"))


def test_a_code_is_used_at_most_once_in_an_order():
    order = make_order(items=(("SHOES", 2),))
    item = order.items.get()
    Instance.objects.create(order=order, item=item, unit=1, kind="CIS", value=CIS)
    with pytest.raises(IntegrityError), transaction.atomic():
        Instance.objects.create(order=order, item=item, unit=2, kind="CIS", value=CIS)


@pytest.mark.parametrize("country", ["RUS", "ru", "R1"])
def test_a_country_code_is_two_capital_letters(country):
    order = make_order()
    # PostgreSQL refuses a 3-letter value by its length (DataError), SQLite by the check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Instance.objects.create(order=order, item=order.items.get(), unit=1, kind="RNPT",
                                value="10702070/010124/3012345/001", country_code=country)


def test_a_code_is_stored_exactly_as_scanned():
    order = make_order()
    tricky = "010460123456789321<a&\"b'>" + GS + "93 x\\y"
    inst = Instance.objects.create(order=order, item=order.items.get(), unit=1, kind="CIS", value=tricky)
    inst.refresh_from_db()
    assert inst.value == tricky
    assert GS in inst.value


def test_an_empty_code_is_refused():
    order = make_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        Instance.objects.create(order=order, item=order.items.get(), unit=1, kind="UIN", value="")


def test_an_order_says_whether_it_can_be_packed():
    assert make_order().is_packable and make_order(substatus="PACKAGING").is_packable
    assert make_order(substatus="").is_packable  # synced without a substatus
    assert not make_order(substatus="READY_TO_SHIP").is_packable
    assert not make_order(status="DELIVERY", substatus="").is_packable


def test_bump_version_counts_from_the_database_not_from_a_stale_copy():
    order = make_order()
    stale = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(version=5, layout_version=2)  # someone else's change meanwhile
    stale.current_box = 3
    stale.bump_version(layout=True, save=("current_box",))
    order.refresh_from_db()
    assert (order.version, order.layout_version, order.current_box) == (6, 3, 3)
