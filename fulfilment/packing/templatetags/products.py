"""The catalogue's facts beside an item (``orders.catalogue.product_facts``), looked up by its SKU."""

from __future__ import annotations

from django import template

from fulfilment.orders.catalogue import ProductFacts

register = template.Library()
NONE = ProductFacts(None, "")


@register.filter
def product(facts: dict[str, ProductFacts] | None, offer_id: str) -> ProductFacts:
    return (facts or {}).get(offer_id, NONE)
