"""A changelist row's action checkbox without a template (issue 17: Django renders the checkbox of
every row through the forms renderer, a template each: a third of the orders' and audit events'
changelist time). The same HTML, written directly."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


def action_checkbox(obj: Any) -> SafeString:
    """As ``ModelAdmin.action_checkbox`` renders it (``django/forms/widgets/checkbox.html``)."""
    label = format_html(_("Select this object for an action - {}"), str(obj))
    return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                       helpers.ACTION_CHECKBOX_NAME, str(obj.pk), label)


class PlainCheckboxMixin:
    """A ModelAdmin whose rows' checkboxes are written without the forms renderer."""

    def action_checkbox(self, obj: Any) -> SafeString:
        return action_checkbox(obj)
