"""Template filters that put the dashboard's codes into words (see ``packing.history``)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django import template
from django.db import models

from fulfilment.orders.models import AuditEvent

from .. import history

register = template.Library()


@functools.cache
def _labels(field: models.Field) -> dict[Any, Any]:
    return dict(field.flatchoices)


@register.filter
def display(obj: models.Model, name: str) -> str:
    """``obj.get_<name>_display()`` from a dict built once per field: Django's builds the field's
    choices into a new dict at every call, which a page of rows paid per row and column (issue 17)."""
    field = obj._meta.get_field(name)
    value = getattr(obj, field.attname)
    return str(_labels(field).get(value, value))


@register.filter
def status_text(value: str) -> str:
    return history.status_text(value)


@register.filter
def substatus_text(value: str) -> str:
    return history.substatus_text(value)


@register.filter
def kinds_text(values: Iterable[str]) -> str:
    return history.kinds_text(values or ())


@register.filter
def label_format_text(value: str) -> str:
    return history.label_format_text(value)


@register.filter
def event_text(event: AuditEvent) -> str:
    return history.event_text(event)


@register.filter
def event_title(event: AuditEvent) -> str:
    """The event's sentence with its codes in full (the hover title of a shortened one)."""
    return history.event_text(event, full=True)


@register.filter
def event_who(event: AuditEvent) -> str:
    return history.event_who(event)
