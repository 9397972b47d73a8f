"""Issue 17: the orders' and audit events' changelists write each row's action checkbox directly,
the same HTML Django renders through the forms renderer (a template a row)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from fulfilment.orders.models import AuditEvent, Order

from .builders import make_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_checkbox_is_the_one_django_renders(language):
    order = make_order()
    event = AuditEvent.objects.create(order=order, action='scan <&"\'> ок')
    with translation.override(language):
        for obj in (order, event):
            model_admin = admin.site._registry[type(obj)]
            assert model_admin.action_checkbox(obj) == admin.ModelAdmin.action_checkbox(model_admin, obj)


def test_the_changelists_show_the_checkboxes(admin_client):
    order = make_order()
    AuditEvent.objects.create(order=order, action="scan")
    for model in (Order, AuditEvent):
        page = admin_client.get(reverse(f"admin:orders_{model._meta.model_name}_changelist")).content.decode()
        assert page.count('class="action-select"') == 1, model
        assert 'id="action-toggle"' in page
