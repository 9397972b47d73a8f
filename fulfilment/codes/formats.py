"""The other identifiers a packer scans or types: product barcodes, jewelry UIN, RNPT, GTD, country."""

from __future__ import annotations

import re

from .cis import CYRILLIC, CodeError, digits, gtin_check_digit_ok
from .countries import is_country

UIN_RE = re.compile(r"^\d{16}$", re.ASCII)
RNPT_RE = re.compile(r"^\d{8}/\d{6}/\d{7}/\d{3}$", re.ASCII)
GTD_RE = re.compile(r"^\d{8}/\d{6}/\d{7}$", re.ASCII)
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def valid_gtin(gtin: str) -> bool:
    """A GTIN that can name a product: digits, a right check digit, not all zeros (a placeholder
    some labels print, whose check digit happens to be right)."""
    return digits(gtin) and gtin_check_digit_ok(gtin) and gtin.strip("0") != ""


def product_gtin(scan: str) -> str | None:
    """An EAN-8/UPC-A/EAN-13/GTIN-14 product barcode → its GTIN-14, or None if it is not one."""
    value = scan.strip()
    if len(value) not in (8, 12, 13, 14) or not valid_gtin(value):
        return None
    return value.zfill(14)


def uin(value: str) -> str:
    if not UIN_RE.match(value):
        raise CodeError("uin", f"a UIN is 16 digits, got {len(value)} characters", got=len(value))
    return value


def rnpt(value: str) -> str:
    if not RNPT_RE.match(value):
        raise CodeError("rnpt", "RNPT looks like XXXXXXXX/DDMMYY/XXXXXXX/XXX")
    return value


def gtd(value: str) -> str:
    if not GTD_RE.match(value):
        raise CodeError("gtd", "GTD looks like XXXXXXXX/DDMMYY/XXXXXXX")
    return value


def country_code(value: str) -> str:
    if CYRILLIC.search(value):
        raise CodeError("cyrillic", "the country code is in Latin letters")
    if not COUNTRY_RE.match(value):
        raise CodeError("country", "a country code is two capital letters (ISO 3166-1), e.g. CN")
    if not is_country(value):
        raise CodeError("country", f"{value} is not an ISO 3166-1 country code")
    return value
