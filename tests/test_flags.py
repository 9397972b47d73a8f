"""Sync's flags are stored as codes and read in each reader's language; other text is shown as written."""

from django.utils import translation

from fulfilment.orders import flags


def test_a_flag_reads_in_the_active_language():
    stored = flags.flag(flags.ITEM_REDUCED, sku="MUG-001", count=1)
    with translation.override("en"):
        assert flags.describe(stored) == ["MUG-001: item reduced to 1"]
    with translation.override("ru"):
        assert flags.describe(stored) == ["Товар MUG-001: количество уменьшено до 1"]


def test_the_same_flag_is_added_once_and_text_from_elsewhere_stays_as_written():
    legacy = "Заказ отменён, пока его собирали / cancelled while packing"
    line = flags.flag(flags.CANCELLED_WHILE_PACKING)
    both = flags.add(legacy, line)
    assert both == legacy + "\n" + line and flags.add(both, line) is None
    with translation.override("en"):
        assert flags.describe(both) == [legacy, "Order cancelled while packing"]
    odd = '{"flag": "no_such_flag"}\n{"flag": "item_removed"}\n{not json'
    assert flags.describe(odd) == odd.splitlines()  # unknown, incomplete or broken: as written
