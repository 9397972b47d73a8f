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

from .cis import CYRILLIC, DEFAULT_SUBSTITUTES, GS, digits, normalise
from .formats import GTD_RE, RNPT_RE, UIN_RE, product_gtin

# Every step of the pack station has its command barcode (printed on the scanner sheet). A split
# names its parts; a problem names its kind (the dashboard's Problem values).
COMMANDS = ("CMD-NEW-BOX", "CMD-FINISH", "CMD-READY", "CMD-LABELS", "CMD-NEXT", "CMD-UNDO", "CMD-PHOTO",
            *(f"CMD-SPLIT-{n}" for n in range(2, 7)))
COMMAND_PREFIX = "CMD-"
# Longer than any code a packer scans (a Честный ЗНАК code with its crypto tail is under 160): the
# rest is junk, refused before it reaches a parser, a query or the audit trail.
MAX_SCAN_LENGTH = 256
# What the audit trail keeps of a refused scan, escaped where it is not printable.
SHOWN_LENGTH = 120
# Characters a scanner or a keyboard sends: the printable ones, GS inside a code, spaces and line ends.
_ALLOWED_CONTROLS = frozenset("\t\r\n" + GS)
COUNTRY_SCAN_RE = re.compile(r"[A-Za-z]{2}")
ORDER_NUMBER_RE = re.compile(r"(\d{5,12})(?:-\d+)?", re.ASCII)


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


class ScanTextError(ValueError):
    """A scan that is not text a scanner or keyboard sends; ``reason`` and ``params`` say why."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def scanned_text(raw: object) -> str:
    """The scanned text as sent, checked at the door of every place that takes a scan: text, at most
    ``MAX_SCAN_LENGTH`` characters, no NUL or other control characters (GS excepted) and no lone
    surrogates (neither can be stored, nor come from a scanner)."""
    if not isinstance(raw, str):
        raise ScanTextError("type")
    if len(raw) > MAX_SCAN_LENGTH:
        raise ScanTextError("length", got=len(raw), max=MAX_SCAN_LENGTH)
    bad = sorted({c for c in raw if _unscannable(c)})
    if bad:
        raise ScanTextError("control", chars=" ".join(f"U+{ord(c):04X}" for c in bad[:5]))
    return raw


def _unscannable(c: str) -> bool:
    n = ord(c)
    return (n < 32 and c not in _ALLOWED_CONTROLS) or 0x7F <= n < 0xA0 or 0xD800 <= n <= 0xDFFF


def shown(raw: object, limit: int = SHOWN_LENGTH) -> str:
    """A scan as it may be stored and shown, whatever it was: printable (escaped where not), capped."""
    text = raw if isinstance(raw, str) else repr(raw)
    cut = len(text) > limit
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return f"{text}… (+{len(raw if isinstance(raw, str) else repr(raw)) - limit})" if cut else text


def classify(raw: str, substitutes: Iterable[str] = DEFAULT_SUBSTITUTES) -> Scan:
    """What a scanned or typed text is. Spaces and line ends are stripped at the edges only:
    chr(29) is a separator inside a code, never stripped."""
    value = raw.strip(" \t\r\n")
    if not value:
        return Scan(Kind.EMPTY, "")
    if value.upper().startswith(COMMAND_PREFIX):  # known or not: the scanning code names what it does
        return Scan(Kind.COMMAND, value.upper())
    code = normalise(value, substitutes)
    # Customs numbers first: one may start with 01, and a Честный ЗНАК code never has their digits/slashes shape.
    if RNPT_RE.match(code):
        return Scan(Kind.RNPT, code)
    if GTD_RE.match(code):
        return Scan(Kind.GTD, code)
    if code.startswith("01") and (GS in code or not digits(code) or len(code) > 16):
        return Scan(Kind.CIS, code)
    if CYRILLIC.search(code):
        return Scan(Kind.CYRILLIC, code)
    if UIN_RE.match(code):
        return Scan(Kind.UIN, code)
    gtin = product_gtin(code)
    if gtin:
        return Scan(Kind.PRODUCT, code, gtin)
    if COUNTRY_SCAN_RE.fullmatch(code):
        return Scan(Kind.COUNTRY, code.upper())
    return Scan(Kind.OTHER, code)


def order_number(code: str) -> int | None:
    """The order number in a scanned order number or box label (``order-box``), or None."""
    m = ORDER_NUMBER_RE.fullmatch(code)
    return int(m.group(1)) if m else None
