"""The order screen's addresses (``order-…`` URL names) for one order, without a reversal per form.

The panel has a form per box, line and code, each with its address: reversing them one by one was a
good part of drawing it (issue 20). Each name is reversed once per process (and script prefix) with a
stand-in id, and the order's id put in its place.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_script_prefix, reverse

_STAND_IN = "918273651"  # no order has this id, and no address has these digits otherwise


@lru_cache(maxsize=256)
def _pattern(prefix: str, name: str) -> str:
    path = reverse(name, args=[int(_STAND_IN)])
    assert path.count(_STAND_IN) == 1, path
    return path


class OrderUrls:
    """``urls.finish`` in a template is ``{% url 'order-finish' order.pk %}``; a dash is written ``_``."""

    __slots__ = ("_pk", "_prefix")

    def __init__(self, order_id: int) -> None:
        self._pk = str(int(order_id))
        self._prefix = get_script_prefix()

    def __getitem__(self, key: str) -> str:
        return _pattern(self._prefix, "order-" + key.replace("_", "-")).replace(_STAND_IN, self._pk)
