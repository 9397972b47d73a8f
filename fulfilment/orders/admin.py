"""Django admin for the mirror of the Market and the packing work.

The API token is write-only here: the form never renders the saved value back, and the list and
detail pages show only whether one is set. It is stored encrypted (orders/encryption.py).
"""

from __future__ import annotations

import json
from functools import cached_property

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from fulfilment.market.enums import BuyerType

from . import admin_outbox  # noqa: F401 - registers the outbox's admin
from .admin_rows import PlainCheckboxMixin
from .barcode_file import ProductBarcodeResource
from .catalogue import correct_link
from .models import (
    AuditEvent,
    Box,
    BoxLine,
    Business,
    Campaign,
    CatalogueOffer,
    DeliveryType,
    Instance,
    MarketReturn,
    Order,
    OrderItem,
    OrderSubstatus,
    PackingPhoto,
    ProductBarcode,
    ReturnUnit,
)


class BusinessForm(forms.ModelForm):
    api_base_url = forms.URLField(label=_("API base URL"), assume_scheme="https",
                                  initial="https://api.partner.market.yandex.ru",
                                  help_text=_("The Partner API, or the sandbox Market for training."))
    api_token = forms.CharField(
        label=_("API token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the saved token. The saved token is never shown."),
    )
    clear_token = forms.BooleanField(label=_("Remove the saved token"), required=False)

    class Meta:
        model = Business
        fields = ["market_id", "name", "is_active", "api_base_url", "auth_scheme", "api_token", "credentials_error"]

    def clean_api_token(self) -> str:
        new_token = self.cleaned_data.get("api_token", "")
        # An empty field means "unchanged", never "erase".
        return new_token or (self.instance.api_token if self.instance.pk else "")

    def save(self, commit: bool = True) -> Business:
        if self.cleaned_data.get("clear_token"):
            self.instance.api_token = ""
        return super().save(commit=commit)


def _sync_status(obj: Business | Campaign) -> str:
    if obj.credentials_error:
        return format_html('<span class="bad">{}</span>', _("credentials rejected"))
    if obj.sync_started_at:
        return _("running")
    if obj.last_sync_error:
        return format_html('<span class="bad">{}</span>', _("error"))
    if obj.last_sync_success_at:
        return _("ok")
    return _("never synced")


class CampaignInline(admin.TabularInline):
    model = Campaign
    extra = 0
    fields = ["market_id", "name", "placement_model", "is_active"]
    show_change_link = True


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    form = BusinessForm
    list_display = [
        "name", "market_id", "api_base_url", "token_state", "is_active", "sync_status", "last_sync_success_at",
    ]
    list_filter = ["is_active", "auth_scheme"]
    search_fields = ["name", "=market_id"]
    inlines = [CampaignInline]
    readonly_fields = [
        "token_state", "sync_watermark", "sync_started_at", "last_sync_success_at",
        "last_sync_error", "last_sync_error_at", "last_sync_orders",
    ]
    fieldsets = [
        (None, {"fields": ["market_id", "name", "is_active"]}),
        (_("Market API"), {"fields": ["api_base_url", "auth_scheme", "token_state", "api_token", "clear_token",
                                      "credentials_error"]}),
        (_("Sync"), {"fields": ["sync_watermark", "sync_started_at", "last_sync_success_at", "last_sync_error",
                                "last_sync_error_at", "last_sync_orders"]}),
    ]

    @admin.display(description=_("API token"))
    def token_state(self, obj: Business) -> str:
        return _("set") if obj.has_token else _("not set")

    @admin.display(description=_("sync"))
    def sync_status(self, obj: Business) -> str:
        return _sync_status(obj)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "market_id", "business", "placement_model", "is_active", "sync_status",
                    "last_sync_success_at"]
    list_filter = ["placement_model", "is_active", "business"]
    search_fields = ["name", "=market_id", "business__name"]
    list_select_related = ["business"]
    readonly_fields = ["sync_watermark", "sync_started_at", "last_sync_success_at", "last_sync_error",
                       "last_sync_error_at", "last_sync_orders"]

    @admin.display(description=_("sync"))
    def sync_status(self, obj: Campaign) -> str:
        return _sync_status(obj)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = ["market_item_id", "offer_id", "name", "count", "buyer_price", "required_instance_types", "tags"]
    readonly_fields = fields
    can_delete = False


class BoxInline(admin.TabularInline):
    model = Box
    extra = 0
    fields = ["number", "market_box_id", "barcode"]
    show_change_link = True


class JsonReadonlyMixin:
    @admin.display(description=_("payload from the Market"))
    def raw_pretty(self, obj: Order) -> str:
        return format_html('<pre class="payload">{}</pre>',
                           json.dumps(obj.raw, ensure_ascii=False, indent=2))


class FixedChoicesFilter(admin.SimpleListFilter):
    """A field's filter from a fixed list of the values the dashboard knows, not ``SELECT DISTINCT``
    over every order ever synced; ``?<field>__exact=`` still filters any value, known or not."""

    field = ""
    known: list[tuple[str, str]] = []  # not "choices": SimpleListFilter.choices() renders the links

    def lookups(self, request, model_admin):
        return self.known

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class DeliveryTypeFilter(FixedChoicesFilter):
    title, parameter_name, field = _("delivery type"), "delivery_type__exact", "delivery_type"
    known = DeliveryType.choices


class SubstatusFilter(FixedChoicesFilter):
    title, parameter_name, field = _("substatus"), "substatus__exact", "substatus"
    known = OrderSubstatus.choices


class BuyerTypeFilter(FixedChoicesFilter):
    title, parameter_name, field = _("buyer type"), "buyer_type__exact", "buyer_type"
    known = [(BuyerType.PERSON, _("individual")), (BuyerType.BUSINESS, _("business buyer"))]


def _order_number(search_term: str) -> int | None:
    """The term as an order number (what a scanner or a copy from the Market gives), else None."""
    term = search_term.strip()
    return int(term) if term.isdigit() and 0 < int(term) < 2**63 else None


class CappedPaginator(Paginator):
    """Counts the results no further than ``CAP`` (COUNT over a LIMITed subquery): a filter that
    matches much of the history does not make every page of the changelist count all of it."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Without the list's ORDER BY: how many rows there are does not depend on it, and with it the
        # status filter sorted all of the day's 5 000 PROCESSING orders before counting them (a Seq
        # Scan and a Sort, 46 ms at 10 000 orders) instead of an Index Only Scan of order_queue_idx (1.7 ms).
        return self.object_list.order_by()[:self.CAP + 1].count()


def _changelist(request) -> bool:
    return getattr(request.resolver_match, "url_name", "").endswith("_changelist")


# Issue 17: a changelist row costs the admin ~0.5 ms of rendering (a cell at a time): 25 rows a
# page, not 100, and no stored payload decoded for rows that do not show it.
LIST_PER_PAGE = 25


@admin.register(Order)
class OrderAdmin(PlainCheckboxMixin, JsonReadonlyMixin, admin.ModelAdmin):
    list_display = ["market_id", "campaign", "status", "substatus", "shipment_date", "buyer_type",
                    "cancel_requested", "fake", "flagged"]
    # Fixed lists for the text fields: Django's own filter for them reads SELECT DISTINCT over the history.
    list_filter = ["status", SubstatusFilter, "campaign", BuyerTypeFilter, DeliveryTypeFilter, "fake",
                   "cancel_requested", "shipment_date"]
    search_fields = ["=market_id", "external_order_id", "items__offer_id", "items__name"]
    list_select_related = ["campaign"]
    # No date_hierarchy: its year links read SELECT DISTINCT over every order ever synced; the
    # shipment date filter (today, this week, this month…) asks nothing of the table.
    exclude = ["raw"]
    readonly_fields = ["raw_pretty", "synced_at", "version"]
    inlines = [OrderItemInline, BoxInline]
    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = LIST_PER_PAGE

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.defer("raw") if _changelist(request) else qs

    @admin.display(description=_("needs attention"), boolean=True)
    def flagged(self, obj: Order) -> bool:
        return bool(obj.flag_reason)

    def get_search_results(self, request, queryset, search_term):
        # A number is an order number: the market_id index, no text cast, no LIKE over every item.
        # Otherwise Django says "may have duplicates" exactly when the term reached the items,
        # so the changelist is DISTINCT only then.
        number = _order_number(search_term)
        if number is not None:
            return queryset.filter(market_id=number), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(OrderItem)
class OrderItemAdmin(admin.ModelAdmin):
    list_display = ["offer_id", "name", "order", "count", "buyer_price"]
    search_fields = ["offer_id", "name", "=order__market_id"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]


class BoxLineInline(admin.TabularInline):
    model = BoxLine
    extra = 0
    raw_id_fields = ["item"]


@admin.register(Box)
class BoxAdmin(admin.ModelAdmin):
    list_display = ["order", "number", "market_box_id", "barcode"]
    search_fields = ["=order__market_id", "barcode"]
    raw_id_fields = ["order"]
    inlines = [BoxLineInline]


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = ["order", "item", "unit", "kind", "value", "country_code", "verification", "scanned_by",
                    "scanned_at"]
    list_filter = ["kind", "verification"]
    search_fields = ["=order__market_id", "value", "item__offer_id"]
    raw_id_fields = ["order", "item", "box"]
    list_select_related = ["order", "item", "scanned_by"]


class AuditActionFilter(admin.SimpleListFilter):
    """A fixed list of the families of actions (the part before the first dot), not
    ``SELECT DISTINCT action`` over every event; ``?action__exact=`` still filters one action."""

    title = _("action")
    parameter_name = "action_family"
    FAMILIES = ["scan", "pack", "problem", "item", "order", "cancellation", "codes", "digital", "labels",
                "barcode", "flagged", "outbox"]

    def lookups(self, request, model_admin):
        return [(family, family) for family in self.FAMILIES]

    def queryset(self, request, queryset):
        family = self.value()
        if not family:
            return queryset
        return queryset.filter(Q(action=family) | Q(action__startswith=f"{family}."))


@admin.register(AuditEvent)
class AuditEventAdmin(PlainCheckboxMixin, admin.ModelAdmin):
    list_display = ["at", "user", "action", "order"]
    list_filter = [AuditActionFilter, "user", "at"]
    search_fields = ["=order__market_id", "action", "user__username"]
    show_full_result_count = False
    paginator = CappedPaginator
    raw_id_fields = ["order"]
    list_select_related = ["user", "order"]
    readonly_fields = ["order", "user", "action", "at", "payload"]
    list_per_page = LIST_PER_PAGE

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.defer("order__raw") if _changelist(request) else qs

    def get_search_results(self, request, queryset, search_term):
        # A number is an order number: ``order__market_id = n`` through the market_id index, not a
        # join of every event with every order on a text cast.
        number = _order_number(search_term)
        if number is not None:
            return queryset.filter(order__market_id=number), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProductBarcode)
class ProductBarcodeAdmin(ImportExportMixin, admin.ModelAdmin):
    """Every barcode link per shop; a change here is a person's correction, kept in the audit trail.
    Import and export as CSV or XLSX (``barcode_file``): a file is previewed first, and one with a
    refused row changes nothing."""

    resource_classes = [ProductBarcodeResource]
    formats = [CSV, XLSX]

    list_display = ["gtin", "offer_id", "campaign", "source", "learnt_by", "updated_at"]
    list_filter = ["campaign", "source"]
    search_fields = ["gtin", "offer_id"]
    fields = ["campaign", "gtin", "offer_id", "source", "serial_length", "learnt_by", "learnt_at", "updated_at"]
    readonly_fields = ["campaign", "gtin", "source", "serial_length", "learnt_by", "learnt_at", "updated_at"]
    actions = ["unlink"]

    def has_add_permission(self, request) -> bool:
        return False  # links come from the catalogue, a confirmation at the packing table, or an import

    def get_import_data_kwargs(self, **kwargs):
        # The confirmed import too is all or nothing (the preview already refused any bad row).
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def save_model(self, request, obj: ProductBarcode, form, change) -> None:
        if "offer_id" in form.changed_data:  # the form set it already: correct the stored row
            correct_link(ProductBarcode.objects.select_related("campaign").get(pk=obj.pk), obj.offer_id, request.user)

    @admin.action(description=_("Unlink the selected barcodes (the packer will be asked)"))
    def unlink(self, request, queryset) -> None:
        for link in queryset.select_related("campaign"):
            correct_link(link, "", request.user)


@admin.register(CatalogueOffer)
class CatalogueOfferAdmin(admin.ModelAdmin):
    list_display = ["offer_id", "name", "business", "in_catalogue", "fetched_at"]
    list_filter = ["business", "in_catalogue"]
    search_fields = ["offer_id", "name"]
    readonly_fields = ["business", "offer_id", "name", "barcodes", "picture", "in_catalogue", "fetched_at"]

    def has_add_permission(self, request) -> bool:
        return False  # read from the Market



class ReturnUnitInline(admin.TabularInline):
    model = ReturnUnit
    extra = 0
    can_delete = False
    fields = readonly_fields = ["offer_id", "identity", "barcode", "match", "grade", "note", "scanned_by", "scanned_at"]


@admin.register(MarketReturn)
class MarketReturnAdmin(admin.ModelAdmin):
    list_display = ["market_id", "order_market_id", "campaign", "kind", "shipment_status", "refund_status",
                    "pickup_till", "received_at"]
    list_filter = ["campaign", "kind", "shipment_status"]
    search_fields = ["=market_id", "=order_market_id"]
    readonly_fields = ["campaign", "market_id", "order_market_id", "order", "kind", "refund_status", "shipment_status",
                       "pickup_point", "pickup_address", "pickup_instruction", "pickup_till", "created_at_market",
                       "updated_at_market", "payload", "received_at", "received_by", "synced_at"]
    inlines = [ReturnUnitInline]

    def has_add_permission(self, request) -> bool:
        return False  # read from the Market; units are received on the returns screen


@admin.register(PackingPhoto)
class PackingPhotoAdmin(admin.ModelAdmin):
    list_display = ["order", "box_number", "reason", "taken_by", "taken_at"]
    list_filter = ["reason"]
    search_fields = ["=order__market_id"]
    list_select_related = ["order", "taken_by"]
    readonly_fields = ["order", "box_number", "image", "content_type", "reason", "taken_by", "taken_at"]

    def has_add_permission(self, request) -> bool:
        return False  # taken by the workstation's camera at packing
from . import admin_shipments  # noqa: E402, F401 - registers the shipment models (a module of its own for size)
