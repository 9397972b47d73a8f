"""Why a shipment document was refused: kept as a code with its values (the worker that finds it has
no reader, and staff read in Russian or English), put into words when someone reads it. What the
Market itself wrote is kept as received and quoted, never translated."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _, gettext_lazy, ngettext

NO_LABELS = "no_labels"
MARKET_FAILED = "market_failed"  # reason: the report's subStatus
MARKET_REFUSED = "market_refused"  # messages: the Market's, as received
TOO_SLOW = "too_slow"
NOT_A_PDF = "not_a_pdf"
PAGE_COUNT = "page_count"  # pages, boxes
OTHER_BOX = "other_box"  # n, found, want
UNREADABLE = "unreadable"  # n, want, dpi
WRONG_BARCODE = "wrong_barcode"  # n, found, want

Problem = dict[str, Any]

# getReportInfo's subStatus (``ReportSubStatusType``) when the report FAILED.
SUB_STATUSES = {
    "NO_DATA": gettext_lazy("there is nothing to put into it"),
    "TOO_LARGE": gettext_lazy("it would be too large"),
    "RESOURCE_NOT_FOUND": gettext_lazy("some of its orders were not found"),
}


def problem(code: str, **values: Any) -> Problem:
    """The stored form of one problem."""
    return {"code": code, **values}


def describe(p: Problem | str) -> str:
    """One problem in the active language (a line stored as text before problems were codes: as it is)."""
    if not isinstance(p, dict):
        return str(p)
    v = {k: val for k, val in p.items() if k != "code"}
    code = p.get("code")
    if code == NO_LABELS:
        return _("No order of this shipment has labels yet: the Market gives them once a box layout is set.")
    if code == MARKET_FAILED:
        reason = SUB_STATUSES.get(str(v.get("reason") or ""))
        if reason is None:  # a reason not known here: the Market's own word is quoted beside
            return _("The Market could not make the document.")
        return _("The Market could not make the document: %(reason)s.") % {"reason": reason}
    if code == MARKET_REFUSED:
        return _("The Market refused the document.")
    if code == TOO_SLOW:
        return _("The Market did not finish the document in time.")
    if code == NOT_A_PDF:
        return _("The labels are not a readable PDF.")
    if code == PAGE_COUNT:
        return ngettext("The labels have %(pages)d page for %(boxes)d boxes.",
                        "The labels have %(pages)d pages for %(boxes)d boxes.", v["pages"]) % v
    if code == OTHER_BOX:
        return _("Label %(n)d carries the barcode of another box (%(found)s) instead of %(want)s.") % v
    if code == UNREADABLE:
        return _("Label %(n)d: the box barcode %(want)s cannot be read at %(dpi)d dpi.") % v
    if code == WRONG_BARCODE:
        return _("Label %(n)d carries %(found)s, not the box barcode %(want)s.") % v
    return str(p)


def quoted(p: Problem | str) -> list[str]:
    """What the Market wrote about this problem, as received (shown in quotes beside the words)."""
    if not isinstance(p, dict):
        return []
    if p.get("code") == MARKET_FAILED and str(p.get("reason") or "") not in SUB_STATUSES:
        return [str(p.get("reason") or "FAILED")]
    return [str(m) for m in p.get("messages", ())]
