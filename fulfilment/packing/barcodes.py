"""Which SKU of a shop a product's GTIN is: learnt at the packing table (``ProductBarcode``).

A GTIN not yet known for the shop is learnt when the order leaves no doubt (one item whose SKU
has no barcode yet), otherwise the packer is asked once which item it is.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from fulfilment.orders.models import ProductBarcode

from .kernel import Feedback, Operation, Refused
from .state import ItemState


def mapping(op: Operation, gtin: str) -> ProductBarcode | None:
    return ProductBarcode.objects.filter(campaign_id=op.order.campaign_id, gtin=gtin).first()


def resolve(op: Operation, gtin: str, raw: str, kind: str | None = None, forced: int | None = None,
            known: ProductBarcode | None = None) -> ItemState | Feedback:
    """The item a GTIN belongs to (``forced``: the packer's answer); learns GTIN → SKU for the
    campaign when the order leaves no doubt, or returns the question to ask."""
    state = op.state
    if forced is not None:
        st = state.items.get(forced)
        if st is None:
            raise Refused(_("That item is not in this order."))
        learn(op, gtin, st.item.offer_id, known)
        return st
    known = known if known is not None else mapping(op, gtin)
    if known is not None and known.offer_id:
        matches = [st for st in state.items.values() if st.item.offer_id == known.offer_id]
        if not matches:
            raise Refused(_("Wrong product: %(sku)s (barcode %(gtin)s) is not in this order.")
                          % {"sku": known.offer_id, "gtin": gtin})
        return next((st for st in matches if st.unplaced > 0), matches[0])
    with_barcode = set(ProductBarcode.objects.filter(campaign_id=op.order.campaign_id, offer_id__in=[
        st.item.offer_id for st in state.items.values()]).exclude(offer_id="").values_list("offer_id", flat=True))
    candidates = [st for st in state.items.values()
                  if st.item.offer_id not in with_barcode and (kind is None or kind in st.accepted)]
    if len(candidates) == 1:
        st = candidates[0]
        learn(op, gtin, st.item.offer_id, known)
        op.notes.append(_("Barcode %(gtin)s is remembered as %(sku)s.") % {"gtin": gtin, "sku": st.item.offer_id})
        return st
    if not candidates:
        raise Refused(_("Wrong product: barcode %(gtin)s is not in this order.") % {"gtin": gtin})
    return Feedback(False, _("New barcode %(gtin)s: which item is it? Choose once, it will be remembered.")
                    % {"gtin": gtin}, prompt={"code": raw, "gtin": gtin, "items": [st.item for st in candidates]})


def learn(op: Operation, gtin: str, offer_id: str, known: ProductBarcode | None) -> None:
    if known is None:
        ProductBarcode.objects.update_or_create(campaign_id=op.order.campaign_id, gtin=gtin,
                                                defaults={"offer_id": offer_id, "learnt_by": op.user})
    elif known.offer_id != offer_id:
        known.offer_id = offer_id
        known.learnt_by = op.user
        known.save(update_fields=["offer_id", "learnt_by"])


def remember_serial_length(op: Operation, gtin: str, length: int) -> None:
    """A code seen with its GS separators gives the serial length, for codes of this GTIN that lose them."""
    ProductBarcode.objects.filter(campaign_id=op.order.campaign_id, gtin=gtin).exclude(
        serial_length=length).update(serial_length=length)
