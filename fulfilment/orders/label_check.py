"""Label quality: read the barcodes of a labels PDF as the station's printer would print them, before it
is printed, and compare them with the boxes' barcodes.

The Market disconnects shops whose labels its sorting centres cannot read, and a label printed for the
wrong box sends a parcel astray. So each page is rendered at the printer's resolution (LABEL_PRINTER_DPI,
203 dpi for the common thermal printers) without anti-aliasing, as a thermal head prints (a dot is black or
not), and decoded with zxing-cpp. Page n must carry the barcode of box n and no other box's; a page
without a readable box barcode, a missing page or an extra page refuses the whole PDF with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pypdfium2
import zxingcpp
from django.conf import settings

from .report_problems import NOT_A_PDF, OTHER_BOX, PAGE_COUNT, UNREADABLE, WRONG_BARCODE, Problem, describe, problem


@dataclass(frozen=True)
class LabelCheck:
    """What the labels say, page by page, and what is wrong with them (as codes, see
    ``report_problems``; ``problems`` says them in the reader's language; empty when ok)."""

    found: list[Problem] = field(default_factory=list)
    pages: list[list[str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.found

    @property
    def problems(self) -> list[str]:
        return [describe(p) for p in self.found]


def read_pages(pdf: bytes, dpi: int | None = None) -> list[list[str]]:
    """The Code 128 values readable on each page, rendered as a ``dpi`` printer prints it."""
    scale = (dpi or settings.LABEL_PRINTER_DPI) / 72
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            image = page.render(scale=scale, grayscale=True, no_smoothpath=True, no_smoothtext=True,
                                no_smoothimage=True).to_pil()
            pages.append([r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)])
        return pages
    finally:
        document.close()


def check_labels(pdf: bytes, expected: Sequence[str], dpi: int | None = None) -> LabelCheck:
    """Page n of ``pdf`` must carry ``expected[n]`` (the box barcodes in the order of the labels) and no
    other box's barcode; anything else is a problem (a code, put into words when read)."""
    try:
        pages = read_pages(pdf, dpi)
    except pypdfium2.PdfiumError:
        return LabelCheck([problem(NOT_A_PDF)])
    dpi = dpi or settings.LABEL_PRINTER_DPI
    found = []
    if len(pages) != len(expected):
        found.append(problem(PAGE_COUNT, pages=len(pages), boxes=len(expected)))
    boxes = set(expected)
    for n, (want, seen) in enumerate(zip(expected, pages, strict=False), start=1):
        others = sorted((boxes & set(seen)) - {want})
        if others:
            found.append(problem(OTHER_BOX, n=n, found=", ".join(others), want=want))
        elif want not in seen:
            found.append(problem(UNREADABLE, n=n, want=want, dpi=dpi) if not seen else
                         problem(WRONG_BARCODE, n=n, found=", ".join(seen), want=want))
    return LabelCheck(found, pages)
