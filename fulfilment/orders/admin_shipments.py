"""The shipment mirror in the admin: read-only, as the Market described it; the staff's documents
and dock scans beside it (a scan is removed only on the dock screen, with its audit record)."""

from __future__ import annotations

from django.contrib import admin

from .models import HandoverScan, Shipment, ShipmentReport


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["market_id", "campaign", "shipment_date", "status", "draft_count", "planned_count",
                    "pallets_planned", "synced_at"]
    list_filter = ["status", "campaign"]
    search_fields = ["=market_id", "external_id"]
    list_select_related = ["campaign"]
    date_hierarchy = "shipment_date"

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the Market's data: changed by a sync only


@admin.register(ShipmentReport)
class ShipmentReportAdmin(admin.ModelAdmin):
    list_display = ["pk", "shipment", "kind", "state", "requested_by", "requested_at", "finished_at"]
    list_filter = ["kind", "state"]
    exclude = ["file"]
    readonly_fields = ["shipment", "kind", "state", "report_id", "order_ids", "problems", "requested_by",
                       "requested_at", "finished_at"]
    list_select_related = ["shipment", "requested_by"]


@admin.register(HandoverScan)
class HandoverScanAdmin(admin.ModelAdmin):
    list_display = ["barcode", "shipment", "order", "user", "at"]
    search_fields = ["barcode", "=shipment__market_id"]
    list_select_related = ["shipment", "order", "user"]
    readonly_fields = ["shipment", "box", "order", "barcode", "request_id", "user", "at"]
