"""Translated messages for what the codes module refuses (it has no Django, so it gives reasons)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from fulfilment.codes.cis import CodeError
from fulfilment.codes.classify import ScanTextError


def code_error_message(exc: CodeError) -> str:
    """The packer's message for a refused code: what is wrong and what to do."""
    p = exc.params
    messages = {
        "ambiguous": lambda: _("The GS separator was lost and the code reads more than one way: scan it again."),
        "structure": lambda: _("The code's structure does not fit a Chestny ZNAK code: scan it again."),
        "cyrillic": lambda: _("Cyrillic letters in the code: switch the scanner's or the keyboard's layout to "
                              "English."),
        "not_cis": lambda: _("This is not a Chestny ZNAK code."),
        "placeholder": lambda: _("14 digits must follow 01: this looks like a sample from the documentation, not a "
                                 "real code."),
        "check_digit": lambda: _("Wrong check digit in GTIN %(gtin)s: it should be %(should)s.") % p,
        "no_serial": lambda: _("The serial number (21) is missing after the GTIN."),
        "charset": lambda: _("Characters not allowed in a marking code: %(chars)s") % p,
        "unknown_ai": lambda: _("Unknown element (%(ai)s) in the code.") % p,
        "length": lambda: _("Element (%(ai)s) must be %(want)s characters long, the code has %(got)s.") % p,
        "uin": lambda: _("A jewelry UIN is 16 digits; %(got)s characters were entered.") % p,
        "rnpt": lambda: _("An RNPT looks like XXXXXXXX/DDMMYY/XXXXXXX/XXX."),
        "gtd": lambda: _("A GTD looks like XXXXXXXX/DDMMYY/XXXXXXX."),
        "country": lambda: _("A country code is two capital Latin letters (ISO 3166-1), e.g. CN."),
    }
    make = messages.get(exc.reason)
    return make() if make else str(exc)


def scan_text_message(exc: ScanTextError) -> str:
    """The packer's message for a scan that is not text a scanner sends."""
    p = exc.params
    if exc.reason == "length":
        return _("Too long for a scan (%(got)s characters, at most %(max)s): scan the code again.") % p
    if exc.reason == "control":
        return _("The scan has characters a scanner does not send (%(chars)s): check the scanner's settings "
                 "and scan again.") % p
    return _("A scan must be text.")
