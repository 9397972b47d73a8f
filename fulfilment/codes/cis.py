"""Честный ЗНАК codes as keyboard-wedge scanners deliver them: GS recovery, parsing, validation.

Facts from ../shared/CODES.md. The order matters: normalise what the scanner did to GS (AIM prefix,
substitutes), rebuild a missing GS from the code's structure (only when exactly one reading fits),
then parse with biip, then check what biip does not know (Russian tail lengths, the GS1 character
set, a Cyrillic keyboard layout). The stored value is the code exactly, with chr(29) between its
elements. No Django here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import biip
from biip import ParseConfig

GS = "\x1d"
AIM_PREFIX = "]d2"
DEFAULT_SUBSTITUTES = ("<GS>", "\\x1d", "\\u001d", "~", "|")  # configurable per workstation
KNOWN_SERIAL_LENGTHS = (13, 6, 7)  # most groups; milk (commonly); tobacco
GS1_CHARS = set("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# Tail elements after the serial: AI, value length(s).
TAIL_ELEMENTS: dict[str, tuple[int, ...]] = {"91": (4,), "92": (44, 88), "93": (4,), "8005": (6,), "3103": (6,)}
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


class CodeError(ValueError):
    """A scan that is not a usable code. ``reason`` is a stable key and ``params`` its details: the
    packing screen turns them into a translated message; the English text is for logs."""

    def __init__(self, reason: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class Cis:
    value: str  # exactly as sent to the Market: elements separated by chr(29)
    gtin: str
    serial: str
    tail: dict[str, str] = field(default_factory=dict)
    rebuilt: bool = False  # GS was missing and put back from the structure

    @property
    def identification(self) -> str:
        """The КИ: 01 + GTIN + 21 + serial (what the Market returns as ``cis``)."""
        return f"01{self.gtin}21{self.serial}"


def normalise(raw: str, substitutes: Iterable[str] = DEFAULT_SUBSTITUTES) -> str:
    """Undo what a keyboard-wedge scanner does to a DataMatrix code, without touching its content."""
    value = raw.rstrip("\r\n")
    if value.startswith(AIM_PREFIX):
        value = value[len(AIM_PREFIX):]
    # Longest substitutes first, so that "<GS>" is not broken up by a one-character one.
    for token in sorted(substitutes, key=len, reverse=True):
        if token and token in value:
            value = value.replace(token, GS)
    return value


def _tail_readings(rest: str, prev: str = "", used: frozenset[str] = frozenset()) -> list[list[tuple[str, str]]]:
    """Every way to read ``rest`` as a sequence of known tail elements (each once, 92 right after 91)."""
    if not rest:
        return [[]]
    readings = []
    for ai, lengths in TAIL_ELEMENTS.items():
        if not rest.startswith(ai) or ai in used or (ai == "92" and prev != "91"):
            continue
        for n in lengths:
            value = rest[len(ai):len(ai) + n]
            if len(value) != n:
                continue
            for more in _tail_readings(rest[len(ai) + n:], ai, used | {ai}):
                readings.append([(ai, value), *more])
    return readings


def rebuild_gs(value: str, serial_lengths: Iterable[int] = KNOWN_SERIAL_LENGTHS) -> str:
    """Put back the GS a scanner dropped, from the structure 01+GTIN+21+serial+tail.

    Accepted only when exactly one reading fits; otherwise ``CodeError('ambiguous')`` asks for a rescan.
    """
    if GS in value or not value.startswith("01") or value[16:18] != "21":
        return value
    head, body = value[:18], value[18:]
    readings = set()
    for n in sorted(set(serial_lengths)):
        if n > len(body):
            continue
        serial, rest = body[:n], body[n:]
        for tail in _tail_readings(rest):
            readings.add(GS.join([head + serial, *(ai + v for ai, v in tail)]))
    if len(readings) == 1:
        return readings.pop()
    if not readings:
        raise CodeError("structure", "the code's structure does not fit any known form; scan again")
    raise CodeError("ambiguous", "the GS separator was lost and the code reads more than one way; scan again")


def digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() is true for "²" and "١", which int() then refuses or misreads."""
    return value.isascii() and value.isdigit()


def check_digit(body: str) -> int:
    """GS1 check digit: weights 3,1,3,1… from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_check_digit_ok(gtin: str) -> bool:
    return digits(gtin) and len(gtin) >= 8 and check_digit(gtin[:-1]) == int(gtin[-1])


def parse_cis(raw: str, *, substitutes: Iterable[str] = DEFAULT_SUBSTITUTES,
              serial_lengths: Mapping[str, int] | None = None) -> Cis:
    """A scanned Честный ЗНАК code → ``Cis``, or ``CodeError`` saying what is wrong.

    ``serial_lengths`` maps GTIN → serial length learnt from earlier scans that carried their GS.
    """
    value = normalise(raw, substitutes)
    if CYRILLIC.search(value):
        raise CodeError("cyrillic", "Cyrillic letters: switch the keyboard layout to English")
    if not value.startswith("01"):
        raise CodeError("not_cis", "not a Chestny ZNAK code")
    gtin = value[2:16]
    if not digits(gtin) or len(gtin) != 14:
        raise CodeError("placeholder", "14 digits must follow 01: this looks like a documentation placeholder")
    if not gtin_check_digit_ok(gtin):
        should = check_digit(gtin[:-1])
        raise CodeError("check_digit", f"bad GTIN check digit in {gtin}, should be {should}", gtin=gtin,
                        should=should)
    if value[16:18] != "21":
        raise CodeError("no_serial", "AI 21 must follow the GTIN")
    rebuilt = False
    if GS not in value:
        lengths = list(KNOWN_SERIAL_LENGTHS)
        if serial_lengths and gtin in serial_lengths:
            lengths = [serial_lengths[gtin]]
        fixed = rebuild_gs(value, lengths)
        rebuilt = fixed != value
        value = fixed
    bad = sorted({c for c in value if c != GS and c not in GS1_CHARS})
    if bad:
        raise CodeError("charset", f"characters outside the GS1 set: {' '.join(bad)}", chars=" ".join(bad))
    result = biip.parse(value, config=ParseConfig(separator_chars=[GS]))
    if result.gs1_message is None:
        raise CodeError("structure", f"cannot parse the code: {result.gs1_message_error}")
    elements = {es.ai.ai: es.value for es in result.gs1_message.element_strings}
    serial = elements.get("21", "")
    if not serial or len(serial) > 20:
        raise CodeError("no_serial", "no serial number")
    tail = {ai: v for ai, v in elements.items() if ai not in ("01", "21")}
    for ai, v in tail.items():
        allowed = TAIL_ELEMENTS.get(ai)
        if allowed is None:
            raise CodeError("unknown_ai", f"unknown element ({ai})", ai=ai)
        if len(v) not in allowed:
            want = "/".join(str(n) for n in allowed)
            raise CodeError("length", f"element ({ai}) is {len(v)} characters long, not {want}", ai=ai, want=want,
                            got=len(v))
    if "92" in tail and "91" not in tail:
        raise CodeError("structure", "element (92) without (91)")
    return Cis(value=value, gtin=gtin, serial=serial, tail=tail, rebuilt=rebuilt)
