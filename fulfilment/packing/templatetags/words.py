"""Template filters that put the dashboard's codes into words (see ``packing.history``)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from fulfilment.orders.models import AuditEvent

from .. import history

register = template.Library()


@register.filter
def status_text(value: str) -> str:
    return history.status_text(value)


@register.filter
def kinds_text(values: Iterable[str]) -> str:
    return history.kinds_text(values or ())


@register.filter
def label_format_text(value: str) -> str:
    return history.label_format_text(value)


@register.filter
def event_text(event: AuditEvent) -> str:
    return history.event_text(event)
