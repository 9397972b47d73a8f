"""Marking codes: GS recovery, parsing and validation (no Django)."""

from .cis import GS, Cis, CodeError, normalise, parse_cis, rebuild_gs
from .formats import country_code, gtd, product_gtin, rnpt, uin

__all__ = ["GS", "Cis", "CodeError", "country_code", "gtd", "normalise", "parse_cis", "product_gtin", "rebuild_gs",
           "rnpt", "uin"]
