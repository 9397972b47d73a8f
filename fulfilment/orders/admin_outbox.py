"""The outbox in the admin: every change for the Market with its state, attempts and the Market's
answer; sending a refused one again (the order screen's "Send again") and withdrawing one that
waits or was refused, with a reason asked on a page of its own and kept in the audit trail.
Imported by ``admin.py``, which Django loads."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _, gettext_lazy, ngettext

from . import outbox
from .models import OutboxAction

State = OutboxAction.State


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is it not to be sent?"), max_length=500, strip=True,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text=gettext_lazy("Kept in the order's audit trail with your name."))


def _order_number(search_term: str) -> int | None:
    term = search_term.strip()
    return int(term) if term.isdigit() and 0 < int(term) < 2**63 else None


@admin.register(OutboxAction)
class OutboxActionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "campaign", "order", "attempts", "created_at", "delivered_at", "error"]
    list_filter = ["kind", "state", "campaign", "created_at"]  # a date filter, not date_hierarchy's DISTINCT
    search_fields = ["=order__market_id"]
    list_select_related = ["campaign", "order"]
    raw_id_fields = ["order"]
    show_full_result_count = False
    exclude = ["payload", "result", "market_errors"]
    readonly_fields = ["campaign", "order", "kind", "state", "attempts", "next_attempt_at", "claimed_at",
                       "last_error", "market_messages", "what_to_send", "answer", "created_by", "created_at",
                       "delivered_at"]
    actions = ["send_again", "cancel_with_reason"]

    @admin.display(description=gettext_lazy("last error"))
    def error(self, obj: OutboxAction) -> str:
        return obj.last_error[:120]

    @admin.display(description=gettext_lazy("the Market's messages"))
    def market_messages(self, obj: OutboxAction) -> str:
        return "; ".join(" ".join(filter(None, (e.get("code"), e.get("message")))) for e in obj.market_errors) or "—"

    @admin.display(description=gettext_lazy("what to send"))
    def what_to_send(self, obj: OutboxAction) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>",
                           json.dumps(obj.payload, ensure_ascii=False, indent=2))

    @admin.display(description=gettext_lazy("the Market's answer"))
    def answer(self, obj: OutboxAction) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>",
                           json.dumps(obj.result, ensure_ascii=False, indent=2))

    def get_search_results(self, request, queryset, search_term):
        number = _order_number(search_term)
        if number is not None:
            return queryset.filter(order__market_id=number), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the dashboard writes them, in the transaction of the change that causes them

    def has_delete_permission(self, request: HttpRequest, obj: OutboxAction | None = None) -> bool:
        return False  # what was asked of the Market stays on record; withdraw it instead

    @admin.action(description=gettext_lazy("Send the selected refused actions again"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxAction]) -> None:
        refused = list(queryset.filter(state=State.FAILED))
        for action in refused:
            outbox.retry_failed(action, request.user)
        self.message_user(request, ngettext("%(n)d action will be sent again.", "%(n)d actions will be sent again.",
                                            len(refused)) % {"n": len(refused)},
                          messages.SUCCESS if refused else messages.WARNING)
        skipped = queryset.count() - len(refused)
        if skipped:
            self.message_user(request, ngettext(
                "%(n)d action was left as it is: only an action the Market refused is sent again.",
                "%(n)d actions were left as they are: only an action the Market refused is sent again.",
                skipped) % {"n": skipped}, messages.WARNING)

    @admin.action(description=gettext_lazy("Cancel the selected actions (asks for a reason)"), permissions=["change"])
    def cancel_with_reason(self, request: HttpRequest, queryset: QuerySet[OutboxAction]) -> HttpResponse | None:
        form = CancelForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            done = [a for a in queryset.order_by("id") if outbox.cancel(a, form.cleaned_data["reason"], request.user)]
            self.message_user(request, ngettext("%(n)d action cancelled: it will not be sent.",
                                                "%(n)d actions cancelled: they will not be sent.", len(done))
                              % {"n": len(done)}, messages.SUCCESS if done else messages.WARNING)
            left = queryset.count() - len(done)
            if left:
                self.message_user(request, ngettext(
                    "%(n)d action was left as it is: one being sent or already answered cannot be cancelled.",
                    "%(n)d actions were left as they are: one being sent or already answered cannot be cancelled.",
                    left) % {"n": left}, messages.WARNING)
            return None
        return TemplateResponse(request, "admin/orders/outboxaction/cancel_selected.html", {
            **self.admin_site.each_context(request), "title": _("Cancel actions for the Market"),
            "opts": self.model._meta, "form": form, "actions": list(queryset.order_by("id")),
            "cancellable": (State.PENDING, State.FAILED), "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }, status=400 if form.is_bound else 200)
