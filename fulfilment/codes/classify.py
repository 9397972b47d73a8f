"""What kind of code a scan is, decided once for every place that asks (no Django).

The order of the tests matters and is the same everywhere: a command, a Честный ЗНАК code (it
starts with 01 and is longer than any plain number, or carries a GS), Cyrillic letters (a wrong
keyboard layout), a jewelry UIN (16 digits), a product barcode, an RNPT, a GTD, a country code;
anything else may be an order number or a box barcode.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .cis import CYRILLIC, DEFAULT_SUBSTITUTES, GS, normalise
from .formats import GTD_RE, RNPT_RE, UIN_RE, product_gtin

# Every step of the pack station has its command barcode (printed on the scanner sheet). A split
# names its parts; a problem names its kind (the dashboard's Problem values).
COMMANDS = ("CMD-NEW-BOX", "CMD-FINISH", "CMD-READY", "CMD-LABELS", "CMD-NEXT", "CMD-UNDO", "CMD-PHOTO",
            *(f"CMD-SPLIT-{n}" for n in range(2, 7)))
COMMAND_PREFIX = "CMD-"
COUNTRY_SCAN_RE = re.compile(r"[A-Za-z]{2}")
ORDER_NUMBER_RE = re.compile(r"(\d{5,12})(?:-\d+)?")


class Kind(enum.StrEnum):
    EMPTY = "EMPTY"
    COMMAND = "COMMAND"
    CIS = "CIS"
    CYRILLIC = "CYRILLIC"
    UIN = "UIN"
    PRODUCT = "PRODUCT"
    RNPT = "RNPT"
    GTD = "GTD"
    COUNTRY = "COUNTRY"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class Scan:
    """A classified scan. ``value`` is the code with the scanner's GS substitutes undone (a
    command and a country upper-cased); ``gtin`` is the GTIN-14 of a product barcode."""

    kind: Kind
    value: str
    gtin: str = ""


def classify(raw: str, substitutes: Iterable[str] = DEFAULT_SUBSTITUTES) -> Scan:
    """What a scanned or typed text is. Spaces and line ends are stripped at the edges only:
    chr(29) is a separator inside a code, never stripped."""
    value = raw.strip(" \t\r\n")
    if not value:
        return Scan(Kind.EMPTY, "")
    if value.upper().startswith(COMMAND_PREFIX):  # known or not: the scanning code names what it does
        return Scan(Kind.COMMAND, value.upper())
    code = normalise(value, substitutes)
    if code.startswith("01") and (GS in code or not code.isdigit() or len(code) > 16):
        return Scan(Kind.CIS, code)
    if CYRILLIC.search(code):
        return Scan(Kind.CYRILLIC, code)
    if UIN_RE.match(code):
        return Scan(Kind.UIN, code)
    gtin = product_gtin(code)
    if gtin:
        return Scan(Kind.PRODUCT, code, gtin)
    if RNPT_RE.match(code):
        return Scan(Kind.RNPT, code)
    if GTD_RE.match(code):
        return Scan(Kind.GTD, code)
    if COUNTRY_SCAN_RE.fullmatch(code):
        return Scan(Kind.COUNTRY, code.upper())
    return Scan(Kind.OTHER, code)


def order_number(code: str) -> int | None:
    """The order number in a scanned order number or box label (``order-box``), or None."""
    m = ORDER_NUMBER_RE.fullmatch(code)
    return int(m.group(1)) if m else None
