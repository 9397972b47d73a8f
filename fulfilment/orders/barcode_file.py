"""Product barcodes in and out of the admin as a file (CSV or XLSX, django-import-export).

One row a link: the shop's campaign id at the Market, the GTIN, the SKU. An imported row is a
person's confirmation (``catalogue.confirm_link``, audited), checked as one: the GTIN's check digit,
a shop that exists, an SKU, and no barcode that belongs to another SKU of the same shop (a link
already made, or the seller's catalogue). A file with any refused row changes nothing; the library's
dry run shows what would change first.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from fulfilment.codes.formats import valid_gtin

from .catalogue import barcode_facts, confirm_link
from .models import Campaign, ProductBarcode


def _text(value: Any) -> str:
    """A cell as text: a spreadsheet gives a long number as an int or a float (4601234567893.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def normal_gtin(value: Any) -> str | None:
    """The cell as a GTIN-14 (a spreadsheet drops leading zeros; the check digit does not mind them),
    or None if it is not a product barcode."""
    text = _text(value)
    if not text.isdigit() or len(text) > 14:
        return None
    gtin = text.zfill(14)
    return gtin if valid_gtin(gtin) else None


class ProductBarcodeResource(resources.ModelResource):
    campaign = fields.Field(attribute="campaign", column_name="campaign",
                            widget=widgets.ForeignKeyWidget(Campaign, "market_id"))
    gtin = fields.Field(attribute="gtin", column_name="gtin")
    offer_id = fields.Field(attribute="offer_id", column_name="sku")
    source = fields.Field(attribute="get_source_display", column_name="source", readonly=True)
    updated_at = fields.Field(attribute="updated_at", column_name="changed", readonly=True,
                              widget=widgets.DateTimeWidget())

    class Meta:
        model = ProductBarcode
        fields = ("campaign", "gtin", "offer_id", "source", "updated_at")
        import_id_fields = ("campaign", "gtin")
        use_transactions = True  # the dry run, and a file with a refused row, leave nothing behind
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        errors = {}
        gtin = normal_gtin(row.get("gtin"))
        if gtin is None:
            errors["gtin"] = _("%(value)s is not a product barcode: 8 to 14 digits with a right check digit.") % {
                "value": _text(row.get("gtin")) or "—"}
        else:
            row["gtin"] = gtin
        campaign = _text(row.get("campaign"))
        if not campaign.isdigit() or not Campaign.objects.filter(market_id=int(campaign)).exists():
            errors["campaign"] = _("No shop with the campaign id %(value)s here.") % {"value": campaign or "—"}
        else:
            row["campaign"] = campaign
        row["sku"] = _text(row.get("sku"))
        if not row["sku"]:
            errors["offer_id"] = _("The SKU is empty: to unlink a barcode, use the action in the list.")
        if errors:
            raise ValidationError(errors)

    def import_instance(self, instance: ProductBarcode, row: dict[str, Any], **kwargs: Any) -> None:
        linked_to = instance.offer_id if instance.pk else ""
        super().import_instance(instance, row, **kwargs)
        if linked_to and linked_to != instance.offer_id:
            raise ValidationError({"offer_id": _(
                "The barcode %(gtin)s belongs to %(other)s in this shop: correct that link in the list first.")
                % {"gtin": instance.gtin, "other": linked_to}})
        listed = set(barcode_facts(instance.campaign_id, instance.campaign.business_id, instance.gtin).listed) - {
            instance.offer_id}
        if listed:
            raise ValidationError({"offer_id": _(
                "The seller's catalogue lists the barcode %(gtin)s for %(other)s.")
                % {"gtin": instance.gtin, "other": ", ".join(sorted(listed))}})

    def save_instance(self, instance: ProductBarcode, is_create: bool, row: dict[str, Any], **kwargs: Any) -> None:
        # A person's link, made as the packing table's confirmation makes it (audited); the dry run's
        # transaction is rolled back by the library.
        confirm_link(instance.campaign_id, instance.gtin, instance.offer_id, kwargs.get("user"))
