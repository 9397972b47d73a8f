"""The Shipments screens' long tables, row by row in Python: a shipment of a few hundred orders cost
the template language a URL reversal, filters and a loop per row (issue 17: ~340 reversals a page).
The HTML is exactly what the templates wrote (tests/test_shipment_rows.py renders both)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import template
from django.urls import reverse
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timeuntil
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _

from .. import history

register = template.Library()

_MARK = 987654321  # an id no object has: the reversed URL's place for the real one


def url_pattern(name: str, ids: int = 1) -> str:
    """``name``'s URL with ``{0}``, ``{1}``… where its ``ids`` go: reversed once a page, not once a row."""
    marks = [_MARK + n for n in range(ids)]
    url = reverse(name, args=marks)
    for n, mark in enumerate(marks):
        url = url.replace(str(mark), f"{{{n}}}")
    return url


def _label(text: str) -> SafeString:
    """A column's name as ``{% translate "…" as t_… %}`` gave it to the cells: not escaped."""
    return mark_safe(_(text))  # noqa: S308 - our own translations


def _joined(rows: Iterable[str]) -> SafeString:
    return mark_safe("".join(rows))  # noqa: S308 - every piece below is built by format_html (escaped)


@register.simple_tag
def order_rows(orders: Sequence[Any]) -> SafeString:
    """The rows of "Orders of the shipment": number (a link), seller's number, status, boxes."""
    order_url = url_pattern("order")
    t_order, t_seller, t_status, t_boxes = _label("Order"), _label("Seller's number"), _label("Status"), _label("Boxes")
    rows = []
    for o in orders:
        sub = history.substatus_text(o.substatus)
        status = history.status_text(o.status) + (f": {sub}" if sub else "")
        boxes = ", ".join(b.barcode for b in o.hand_boxes) or "—"
        rows.append(format_html(
            '<tr data-order="{}"><td class="order-no" data-label="{}"><a href="{}">{}</a></td>'
            '<td data-label="{}">{}</td><td data-label="{}">{}</td>\n  <td data-label="{}">{}</td></tr>',
            o.market_id, t_order, order_url.format(o.pk), o.market_id,
            t_seller, o.external_order_id or o.pending_external_id or "—", t_status, status, t_boxes, boxes))
    return _joined(rows)


@register.simple_tag(takes_context=True)
def blocker_rows(context: template.Context, blockers: Sequence[Any], ticks: bool, kept: Sequence[int],
                 is_supervisor: bool, shipment_id: int) -> SafeString:
    """The rows of "Orders that hold the shipment up": a tick (when orders can be moved), the number,
    the seller's number (or its form, for a supervisor), why."""
    order_url = url_pattern("order")
    form_url = url_pattern("shipment-external-id", 2)
    t_order, t_seller, t_why = _label("Order"), _label("Seller's number"), _label("Why")
    token = context.get("csrf_token")  # as {% csrf_token %} renders it
    csrf = (format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
            if token and token != "NOTPROVIDED" else "")  # noqa: S105 - the tag's marker, not a secret
    tick_label, being_sent, set_label = _("Move to the next shipment"), _("being sent"), _("Set")
    kept = set(kept or ())
    rows = []
    for x in blockers:
        o = x.order
        tick = format_html(
            '<td class="pick"><label class="tick"><input type="checkbox" name="orders" value="{}" '
            'form="transfer-form" aria-label="{}"{}></label></td>', x.market_id, tick_label,
            mark_safe(" checked") if x.market_id in kept else "") if ticks else ""
        number = (format_html('<a href="{}">{}</a>', order_url.format(o.pk), x.market_id) if o
                  else conditional_escape(x.market_id))
        if o is not None and o.external_order_id:
            seller = conditional_escape(o.external_order_id)
        elif o is not None and getattr(o, "pending_external_id", ""):
            seller = format_html("{} <small>({})</small>", o.pending_external_id, being_sent)
        elif is_supervisor and o is not None and o.status == "PROCESSING":
            seller = format_html(
                '\n    <form method="post" action="{}" class="inline external-id">{}<input name="external_id" '
                'size="12" maxlength="255" aria-label="{}"><button type="submit" class="small">{}</button></form>',
                form_url.format(shipment_id, o.pk), csrf, t_seller, set_label)
        else:
            seller = "—"
        rows.append(format_html(
            '<tr class="blocker" data-order="{}">\n  {}\n  <td class="order-no" data-label="{}">{}</td>\n'
            '  <td data-label="{}">{}</td>\n  <td data-label="{}">{}</td></tr>\n',
            x.market_id, tick, t_order, number, t_seller, seller, t_why, x.reason))
    return _joined(rows)


@register.simple_tag(takes_context=True)
def shipment_rows(context: template.Context, boards: Sequence[Any]) -> SafeString:
    """The rows of the Shipments screen: one shipment each, its cutoff counting down, its counts."""
    shipment_url = url_pattern("shipment")
    now = context.get("now")
    t = {k: _label(v) for k, v in (("shipment", "Shipment"), ("shop", "Shop"), ("date", "Date"), ("cutoff", "Cutoff"),
                             ("status", "Status"), ("planned", "Planned"), ("packed", "Packed"), ("ready", "Ready"),
                             ("labelled", "Labels printed"), ("not_ready", "Not ready"),
                             ("scanned", "Boxes scanned"))}
    rows = []
    for b in boards:
        s, cutoff = b.shipment, template_localtime(b.cutoff)  # as the date filter shows it
        countdown = format_html(
            ' · <span class="countdown" data-deadline="{}">{}</span>', formats.date_format(cutoff, "c"),
            _("%(left)s left") % {"left": timeuntil(b.cutoff, now)}) if s.status == "OUTBOUND_CREATED" else ""
        not_ready = format_html('<strong class="error">{}</strong>', b.not_ready) if b.not_ready else "0"
        rows.append(format_html(
            '\n  <tr class="{}" data-shipment="{}">\n'
            '    <td class="order-no" data-label="{}"><a href="{}">{}</a></td><td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{}{}</td>\n'
            '    <td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{}</td><td data-label="{}">{}</td><td data-label="{}">{}</td>'
            '<td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{} / {}</td></tr>\n  ',
            "flagged" if b.not_ready else "", s.market_id,
            t["shipment"], shipment_url.format(s.pk), s.market_id, t["shop"], s.campaign.name,
            t["date"], formats.date_format(s.shipment_date, "d.m.Y"),
            t["cutoff"], formats.date_format(cutoff, "H:i"), countdown,
            t["status"], s.get_status_display(),
            t["planned"], b.planned, t["packed"], b.packed, t["ready"], b.ready, t["labelled"], b.labelled,
            t["not_ready"], not_ready,
            t["scanned"], b.scanned_count, b.box_count))
    return _joined(rows)
