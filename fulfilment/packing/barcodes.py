"""Which SKU of a shop a product's GTIN is (``ProductBarcode``): the links come from the seller's
catalogue (``orders.catalogue``) or from a person who confirmed them; a scan alone never makes one.

A GTIN no link names is refused as not in this order, unless the packer switched on the teach
mode of the order screen: then they are asked which item it is, and their answer is the link
(audited). A GTIN that the catalogue gives to an SKU not in this order is refused either way, and
an invalid GTIN (check digit, all zeros) is never linked.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from fulfilment.accounts.roles import is_supervisor
from fulfilment.codes.formats import valid_gtin
from fulfilment.orders.catalogue import BarcodeFacts, barcode_facts, confirm_link
from fulfilment.orders.models import ProductBarcode

from .kernel import Feedback, Operation, Refused
from .state import ItemState


def facts(op: Operation, gtin: str) -> BarcodeFacts:
    """The shop's link and catalogue for this GTIN, as of one moment (one statement): read with the
    order's lock when the scan named it (``kernel.locked``), else now."""
    found = op.facts.get(gtin)
    return found if found is not None else barcode_facts(op.order.campaign_id, op.order.campaign.business_id, gtin)


def resolve(op: Operation, gtin: str, raw: str, kind: str | None = None, forced: int | None = None,
            known: BarcodeFacts | None = None, teach: bool = False) -> ItemState | Feedback:
    """The item a GTIN belongs to, or the question to ask in teach mode. ``forced`` is the answer
    to that question: it links the GTIN to the item's SKU, for the packer in teach mode or a supervisor."""
    state = op.state
    if not valid_gtin(gtin):
        raise Refused(_("Barcode %(gtin)s is not a valid product barcode (check digit or all zeros).")
                      % {"gtin": gtin})
    known = known if known is not None else facts(op, gtin)
    in_order = {st.item.offer_id for st in state.items.values()}
    if known.offer_id:
        matches = [st for st in state.items.values() if st.item.offer_id == known.offer_id]
        if not matches:
            raise Refused(_("Wrong product: %(sku)s (barcode %(gtin)s) is not in this order.")
                          % {"sku": known.offer_id, "gtin": gtin})
        return next((st for st in matches if st.unplaced > 0), matches[0])
    # Not linked (unknown, unlinked, or given to two SKUs): the catalogue may still name its SKU.
    listed = known.listed
    if listed and not listed & in_order:
        raise Refused(_("Wrong product: %(sku)s (barcode %(gtin)s) is not in this order.")
                      % {"sku": ", ".join(sorted(listed)), "gtin": gtin})
    candidates = [st for st in state.items.values() if (kind is None or kind in st.accepted)
                  and (not listed or st.item.offer_id in listed)]
    if forced is not None:
        st = state.items.get(forced)
        if st is None or forced not in {c.item.pk for c in candidates}:
            raise Refused(_("That item is not in this order."))
        if not (teach or (op.user is not None and is_supervisor(op.user))):
            raise Refused(_("Only a supervisor, or a packer in teach mode, may link a barcode to an item."))
        confirm_link(op.order.campaign_id, gtin, st.item.offer_id, op.user)
        op.taught = True
        op.notes.append(_("Barcode %(gtin)s is now linked to %(sku)s.") % {"gtin": gtin, "sku": st.item.offer_id})
        return st
    if not candidates:
        raise Refused(_("Wrong product: barcode %(gtin)s is not in this order.") % {"gtin": gtin})
    if not teach:
        raise Refused(_("Barcode %(gtin)s is not in this order: no item of it has this barcode. If it is "
                        "one of its items, a supervisor links it, or switch on “Teach a barcode”.") % {"gtin": gtin})
    return Feedback(False, _("Teach a barcode: which item is %(gtin)s? Your answer links it for the whole shop.")
                    % {"gtin": gtin}, prompt={"code": raw, "gtin": gtin, "items": [st.item for st in candidates]})


def remember_serial_length(op: Operation, gtin: str, length: int) -> None:
    """A code seen with its GS separators gives the serial length, for codes of this GTIN that lose them."""
    ProductBarcode.objects.filter(campaign_id=op.order.campaign_id, gtin=gtin).exclude(
        serial_length=length).update(serial_length=length)
