# ruff: noqa: E501 - the templates' loops are kept here as they were, line for line
"""The Shipments screens' rows written in Python (templatetags/shipment_rows.py) are exactly the HTML the
templates' loops wrote: each loop is kept here as it was and rendered beside the tag, for rows of
every kind (an order not in the dashboard, a seller's number set, on its way or to type, ticks kept,
markup in the data, a shipment counting down or formed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from fulfilment.orders.models import Campaign, Order, Shipment
from fulfilment.packing.shipment_board import Blocker, Counts, HandBox

LABELS = ('{% load i18n words %}{% translate "Order" as t_order %}{% translate "Seller\'s number" as t_seller %}'
          '{% translate "Status" as t_status %}{% translate "Boxes" as t_boxes %}{% translate "Why" as t_why %}')
OLD_BLOCKERS = LABELS + """{% for x in b.blockers %}<tr class="blocker" data-order="{{ x.market_id }}">
  {% if is_supervisor and can_transfer %}<td class="pick"><label class="tick"><input type="checkbox" name="orders" value="{{ x.market_id }}" form="transfer-form" aria-label="{% translate 'Move to the next shipment' %}"{% if x.market_id in kept.orders %} checked{% endif %}></label></td>{% endif %}
  <td class="order-no" data-label="{{ t_order }}">{% if x.order %}<a href="{% url 'order' x.order.pk %}">{{ x.market_id }}</a>{% else %}{{ x.market_id }}{% endif %}</td>
  <td data-label="{{ t_seller }}">{% if x.order.external_order_id %}{{ x.order.external_order_id }}{% elif x.order.pending_external_id %}{{ x.order.pending_external_id }} <small>({% translate "being sent" %})</small>{% elif is_supervisor and x.order and x.order.status == "PROCESSING" %}
    {% url 'shipment-external-id' shipment.pk x.order.pk as u %}<form method="post" action="{{ u }}" class="inline external-id">{% csrf_token %}<input name="external_id" size="12" maxlength="255" aria-label="{% translate "Seller's number" %}"><button type="submit" class="small">{% translate "Set" %}</button></form>{% else %}—{% endif %}</td>
  <td data-label="{{ t_why }}">{{ x.reason }}</td></tr>
{% endfor %}"""
OLD_ORDERS = LABELS + """{% for o in b.orders %}<tr data-order="{{ o.market_id }}"><td class="order-no" data-label="{{ t_order }}"><a href="{% url 'order' o.pk %}">{{ o.market_id }}</a></td><td data-label="{{ t_seller }}">{{ o.external_order_id|default:o.pending_external_id|default:"—" }}</td><td data-label="{{ t_status }}">{{ o.status|status_text }}{% with sub=o.substatus|substatus_text %}{% if sub %}: {{ sub }}{% endif %}{% endwith %}</td>
  <td data-label="{{ t_boxes }}">{% for box in o.hand_boxes %}{{ box.barcode }}{% if not forloop.last %}, {% endif %}{% empty %}—{% endfor %}</td></tr>{% endfor %}"""
OLD_SHIPMENTS = ('{% load i18n %}{% translate "Shipment" as t_shipment %}{% translate "Shop" as t_shop %}'
                 '{% translate "Date" as t_date %}{% translate "Cutoff" as t_cutoff %}{% translate "Status" as t_status %}'
                 '{% translate "Planned" as t_planned %}{% translate "Packed" as t_packed %}{% translate "Ready" as t_ready %}'
                 '{% translate "Labels printed" as t_labelled %}{% translate "Not ready" as t_not_ready %}'
                 '{% translate "Boxes scanned" as t_scanned %}') + """{% for b in boards %}{% with s=b.shipment %}
  <tr class="{% if b.not_ready %}flagged{% endif %}" data-shipment="{{ s.market_id }}">
    <td class="order-no" data-label="{{ t_shipment }}"><a href="{% url 'shipment' s.pk %}">{{ s.market_id }}</a></td><td data-label="{{ t_shop }}">{{ s.campaign.name }}</td>
    <td data-label="{{ t_date }}">{{ s.shipment_date|date:"d.m.Y" }}</td>
    <td data-label="{{ t_cutoff }}">{{ b.cutoff|date:"H:i" }}{% if s.status == "OUTBOUND_CREATED" %} · <span class="countdown" data-deadline="{{ b.cutoff|date:'c' }}">{% blocktranslate with left=b.cutoff|timeuntil:now %}{{ left }} left{% endblocktranslate %}</span>{% endif %}</td>
    <td data-label="{{ t_status }}">{{ s.get_status_display }}</td>
    <td data-label="{{ t_planned }}">{{ b.planned }}</td><td data-label="{{ t_packed }}">{{ b.packed }}</td><td data-label="{{ t_ready }}">{{ b.ready }}</td><td data-label="{{ t_labelled }}">{{ b.labelled }}</td>
    <td data-label="{{ t_not_ready }}">{% if b.not_ready %}<strong class="error">{{ b.not_ready }}</strong>{% else %}0{% endif %}</td>
    <td data-label="{{ t_scanned }}">{{ b.scanned_count }} / {{ b.box_count }}</td></tr>
  {% endwith %}{% endfor %}"""


def orders() -> list[Order]:
    out = []
    for n, (status, substatus, external, pending, boxes) in enumerate([
            ("PROCESSING", "STARTED", "", "", []),
            ("PROCESSING", "READY_TO_SHIP", "S-1", "", ["B1", "B2"]),
            ("PROCESSING", "STARTED", "", "S-<2>", []),
            ("CANCELLED", "", "", "", ["<b>&"]),
            ("DELIVERED", "", "", "", ["X"]),
            ("PROCESSING", "ODD", "a\"b", "", [])], start=1):
        o = Order(pk=100 + n, market_id=5000 + n, status=status, substatus=substatus, external_order_id=external)
        o.pending_external_id = pending
        o.hand_boxes = [HandBox(code, o, i) for i, code in enumerate(boxes, start=1)]
        out.append(o)
    return out


def blockers(found: list[Order]) -> list[Blocker]:
    return [Blocker(o, o.market_id, f"why <{o.pk}> & more") for o in found] + [Blocker(None, 777, "Not here")]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize(("is_supervisor", "ticks"), [(True, True), (True, False), (False, False)])
def test_the_blocker_rows_are_the_templates(lang, is_supervisor, ticks):
    found = orders()
    ctx = {"b": {"blockers": blockers(found)}, "is_supervisor": is_supervisor, "can_transfer": ticks,
           "kept": {"orders": [5002, 777]}, "shipment": Shipment(pk=9), "csrf_token": "TOKEN"}
    with translation.override(lang):
        old = Template(OLD_BLOCKERS).render(Context(ctx))
        new = Template("{% load shipment_rows %}{% blocker_rows b.blockers ticks kept.orders is_supervisor 9 %}"
                       ).render(Context({**ctx, "ticks": is_supervisor and ticks}))
    assert new == old
    assert ("external-id" in new) is is_supervisor and ('name="orders"' in new) is ticks


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_order_rows_are_the_templates(lang):
    ctx = {"b": {"orders": orders()}}
    with translation.override(lang):
        old = Template(OLD_ORDERS).render(Context(ctx))
        new = Template("{% load shipment_rows %}{% order_rows b.orders %}").render(Context(ctx))
    assert new == old and "&lt;b&gt;&amp;" in new


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_shipment_rows_are_the_templates(lang):
    shop = Campaign(pk=1, name="Shop <1>", shipment_cutoff=dt.time(10, 0))
    today = timezone.localdate()
    boards = [Counts(Shipment(pk=n, campaign=shop, market_id=900 + n, shipment_date=today + dt.timedelta(days=n),
                              status=status), planned=n + 3, packed=n, ready=n, labelled=1, not_ready=not_ready,
                     box_count=7, scanned_count=2)
              for n, (status, not_ready) in enumerate([("OUTBOUND_CREATED", 3), ("OUTBOUND_READY_FOR_CONFIRMATION", 0),
                                                       ("OUTBOUND_CREATED", 0)])]
    ctx = {"boards": boards, "now": timezone.now()}
    with translation.override(lang):
        old = Template(OLD_SHIPMENTS).render(Context(ctx))
        new = Template("{% load shipment_rows %}{% shipment_rows boards %}").render(Context(ctx))
    assert new == old and "Shop &lt;1&gt;" in new and new.count("countdown") == 2
