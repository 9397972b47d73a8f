"""The Market's vocabulary as choices, and the few durations its rules name."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlacementModel(models.TextChoices):
    FBS = "FBS", "FBS"
    EXPRESS = "EXPRESS", "Express"
    DBS = "DBS", "DBS"
    # Logistics as a service: the Market delivers for the shop; only here may the recipient and the
    # courier interval be changed (updateOrder is tagged laas in the spec).
    LAAS = "LAAS", "LaaS"


class OrderStatus(models.TextChoices):
    """``OrderStatusType``; the values a packing team meets, the rest kept as text."""

    PLACING = "PLACING", _("Being placed")
    RESERVED = "RESERVED", _("Reserved")
    UNPAID = "UNPAID", _("Unpaid")
    PROCESSING = "PROCESSING", _("Processing")
    DELIVERY = "DELIVERY", _("In delivery")
    PICKUP = "PICKUP", _("At pickup point")
    DELIVERED = "DELIVERED", _("Delivered")
    CANCELLED = "CANCELLED", _("Cancelled")
    PENDING = "PENDING", _("Pending")
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED", _("Partially returned")
    RETURNED = "RETURNED", _("Returned")
    UNKNOWN = "UNKNOWN", _("Unknown")


class OrderSubstatus(models.TextChoices):
    """``OrderSubstatusType``; the values packing meets, the rest kept as text."""

    STARTED = "STARTED", _("Started")
    PACKAGING = "PACKAGING", _("Packaging")
    READY_TO_SHIP = "READY_TO_SHIP", _("Ready to ship")
    SHIPPED = "SHIPPED", _("Shipped")
    SHOP_FAILED = "SHOP_FAILED", _("Cancelled by the shop")


# Substatuses of PROCESSING in which the seller packs (the Market's STARTED, then PACKAGING).
PACKING_SUBSTATUSES = (OrderSubstatus.STARTED, OrderSubstatus.PACKAGING)
# The Market's deadlines: keys for digital goods within 30 minutes of PROCESSING; a buyer's
# cancellation request is decided within 48 hours or the Market cancels the order itself.
DIGITAL_WINDOW = dt.timedelta(minutes=30)
CANCELLATION_DEADLINE = dt.timedelta(hours=48)


class DeliveryType(models.TextChoices):
    """``OrderDeliveryType``; the values the dashboard acts on, the rest kept as text."""

    DELIVERY = "DELIVERY", _("Courier delivery")
    PICKUP = "PICKUP", _("Pickup point")
    POST = "POST", _("Post")
    DIGITAL = "DIGITAL", _("Digital goods")


class InstanceType(models.TextChoices):
    """``OrderItemInstanceType`` as required by an item."""

    CIS = "CIS", _("Chestny ZNAK code")
    CIS_OPTIONAL = "CIS_OPTIONAL", _("Chestny ZNAK code (optional)")
    UIN = "UIN", _("Jewelry UIN")
    RNPT = "RNPT", _("RNPT")
    GTD = "GTD", _("Customs declaration (GTD)")


class InstanceKind(models.TextChoices):
    """Which field of ``BriefOrderItemInstanceDTO`` a scanned code fills."""

    CIS = "CIS", _("Chestny ZNAK code")
    UIN = "UIN", _("Jewelry UIN")
    RNPT = "RNPT", _("RNPT")
    GTD = "GTD", _("Customs declaration (GTD)")


class Verification(models.TextChoices):
    """Where a code is at the Market. DELIVERED: the Market accepted the request that carried it and
    checks it no further (an RNPT or GTD in a layout, every code of a DBS order); OK: checked and
    accepted (a CIS or UIN of an FBS/Express layout, asynchronously)."""

    NOT_SENT = "NOT_SENT", _("Not sent")
    PROCESSING = "PROCESSING", _("Being checked")
    OK = "OK", _("Accepted")
    DELIVERED = "DELIVERED", _("Accepted by the Market")
    ERROR = "ERROR", _("Rejected")


class Problem(models.TextChoices):
    """Why a packer took an order out of the packing flow."""

    MISSING = "MISSING", _("Item missing")
    DEFECTIVE = "DEFECTIVE", _("Item defective")
    WRONG_PRODUCT = "WRONG_PRODUCT", _("Wrong product")
    OTHER = "OTHER", _("Other problem")


class OutboxState(models.TextChoices):
    """Where an outbox action is on its way to the Market (``OutboxAction.State``)."""

    PENDING = "PENDING", _("waiting to be sent")
    SENDING = "SENDING", _("being sent")
    DELIVERED = "DELIVERED", _("delivered")
    FAILED = "FAILED", _("refused by the Market")
    SUPERSEDED = "SUPERSEDED", _("replaced by a newer one")
    CANCELLED = "CANCELLED", _("cancelled")
