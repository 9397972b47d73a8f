"""Admin: the notification log, and on each business the URL to paste into the Market's cabinet
and the health of its notifications.

The Business admin is the orders app's, extended here (orders knows nothing of notifications).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _, ngettext

from fulfilment.market.notification_values import NotificationType
from fulfilment.orders.admin import BusinessAdmin
from fulfilment.orders.models import Business, new_notification_secret

from . import refreshing
from .models import NotificationEvent
from .tasks import refresh_from_notifications_task

HEALTH_FIELDS = ["notification_health", "last_notification_at", "last_ping_at", "notifications_last_hour",
                 "notification_failures", "last_notification_failure", "last_notification_failure_at"]


def notification_base_url(request: HttpRequest, business: Business) -> str:
    """What to paste into the Market's cabinet; the Market appends ``/notification`` itself."""
    path = reverse("market-notification", args=[business.notification_secret]).removesuffix("/notification")
    return request.build_absolute_uri(path)


@admin.action(description=_("Issue a new notification URL (the old one stops working)"))
def new_notification_url(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Business]) -> None:
    for business in queryset:
        Business.objects.filter(pk=business.pk).update(notification_secret=new_notification_secret())
    modeladmin.message_user(request, _("Paste the new URL into the Market's cabinet."), messages.WARNING)


admin.site.unregister(Business)


@admin.register(Business)
class BusinessWithNotificationsAdmin(BusinessAdmin):
    change_form_template = "notifications/business_change_form.html"
    list_display = [*BusinessAdmin.list_display, "notification_health"]
    readonly_fields = [*BusinessAdmin.readonly_fields, *HEALTH_FIELDS]
    fieldsets = [*BusinessAdmin.fieldsets, (_("Market notifications"), {"fields": HEALTH_FIELDS})]
    actions = [new_notification_url]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        business = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if business is not None:
            extra["notification_url"] = notification_base_url(request, business)
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description=_("notifications"))
    def notification_health(self, obj: Business) -> str:
        now = timezone.now()
        if obj.notifications_healthy(now):
            return _("arriving")
        if obj.last_notification_at is None:
            return _("never received")
        return format_html('<span class="bad">{}</span>', _("silent or failing: polling every minute"))

    @admin.display(description=_("events in the last hour"))
    def notifications_last_hour(self, obj: Business) -> int:
        since = timezone.now() - dt.timedelta(hours=1)
        return NotificationEvent.objects.filter(business=obj, received_at__gte=since).count()


class NotificationTypeFilter(admin.SimpleListFilter):
    """The documented types, not ``SELECT DISTINCT`` over every event ever received."""

    title = _("type")
    parameter_name = "notification_type__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(t.value, t.value) for t in NotificationType]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(notification_type=self.value()) if self.value() else queryset


class HasOrderFilter(admin.SimpleListFilter):
    title = _("about an order")
    parameter_name = "order"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("yes")), ("no", _("no"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(order_market_id__isnull=self.value() == "no")
        return queryset


@admin.register(NotificationEvent)
class NotificationEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "business", "notification_type", "order_market_id", "event_time", "state",
                    "copies", "attempts", "last_error"]
    list_filter = ["state", NotificationTypeFilter, HasOrderFilter, "business", "received_at"]
    actions = ["refresh_again"]
    show_full_result_count = False
    search_fields = ["=order_market_id", "notification_type"]
    list_select_related = ["business"]
    readonly_fields = [f.name for f in NotificationEvent._meta.fields]
    # A date filter rather than date_hierarchy, whose links read SELECT DISTINCT over every event.

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: NotificationEvent | None = None) -> bool:
        return False

    @admin.action(description=_("Refresh the selected orders again (events whose refresh gave up)"))
    def refresh_again(self, request: HttpRequest, queryset: QuerySet[NotificationEvent]) -> None:
        with transaction.atomic():
            per_business = refreshing.retry_failed(list(queryset.values_list("pk", flat=True)))
            for business_id in per_business:
                transaction.on_commit(lambda b=business_id: refresh_from_notifications_task.delay(b))
        n = sum(per_business.values())
        self.message_user(request, ngettext("%(n)d event will be refreshed again.",
                                            "%(n)d events will be refreshed again.", n) % {"n": n},
                          messages.SUCCESS if n else messages.WARNING)
        if queryset.count() > n:
            self.message_user(request, _("Only an event whose refresh gave up is refreshed again; "
                                         "the others were left as they are."), messages.WARNING)
