"""Box labels as a real PDF: one page per box with the order number, «Коробка n/m» and the box's
barcode; with the seller's own order number, that number too (and its barcode, see
``shipment_rules.barcode_order_number``). Many orders' labels go into one PDF for the mass labels report.

Page formats follow ``PageFormatType``: A9_HORIZONTALLY (52×37 mm), A9 (37×52 mm), A7, A4.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4, A7
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from .doc_pdf import _font
from .shipment_rules import barcode_order_number

PAGE_FORMATS: dict[str, tuple[float, float]] = {
    "A9_HORIZONTALLY": (52 * mm, 37 * mm),
    "A9": (37 * mm, 52 * mm),
    "A7": A7,
    "A4": A4,
}
DEFAULT_FORMAT = "A7"


def render_labels(order: dict[str, Any], boxes: list[dict[str, Any]], page_format: str, supplier: str) -> bytes:
    """One label per box, in the order the boxes were laid out."""
    return render_many([(order, boxes)], page_format, supplier, title=f"Order {order['orderId']} labels")


def render_many(orders: list[tuple[dict[str, Any], list[dict[str, Any]]]], page_format: str, supplier: str,
                title: str = "Labels") -> bytes:
    """The labels of many orders in one PDF, order by order in the order given, box by box."""
    width, height = PAGE_FORMATS[page_format]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(width, height))
    pdf.setTitle(title)
    for order, boxes in orders:
        for n, box in enumerate(boxes, start=1):
            _label(pdf, order, box, n, len(boxes), width, height, supplier)
            pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _label(pdf: canvas.Canvas, order: dict[str, Any], box: dict[str, Any], n: int, total: int, width: float,
           height: float, supplier: str) -> None:
    scale = min(width, height) / (37 * mm)
    margin = 2 * mm * scale
    font = max(5.0, 7 * scale)
    pdf.setFont("Helvetica-Bold", font * 1.3)
    pdf.drawString(margin, height - margin - font * 1.3, f"{order['orderId']}")
    # In Russian, as the Market's own labels are; without a Cyrillic font, the numbers alone.
    face = _font()
    pdf.setFont(face, font)
    word = "Коробка " if face != "Helvetica" else ""
    pdf.drawString(margin, height - margin - font * 2.6, f"{word}{n}/{total} · {box['boxId']}")
    external = order.get("externalOrderId")
    number_sign = "№" if face != "Helvetica" else "No."
    third = f"{number_sign} {external}" if external and external.isascii() else supplier
    pdf.drawString(margin, height - margin - font * 3.8, third[:40])
    barcode = code128.Code128(box["barcode"], barHeight=min(height * 0.35, 30 * mm), barWidth=0.6 * scale)
    barcode.drawOn(pdf, max(margin, (width - barcode.width) / 2), margin + font)
    pdf.drawCentredString(width / 2, margin, box["barcode"])
    if external:  # the seller's number in its own barcode (the Market's id when it is not ASCII)
        _order_barcode(pdf, order, margin + font + barcode.barHeight, height - margin - font * 4.3, width, margin,
                       scale)


def _order_barcode(pdf: canvas.Canvas, order: dict[str, Any], bottom: float, top: float, width: float,
                   margin: float, scale: float) -> None:
    value = barcode_order_number(order)
    bar_height = min(top - bottom - 2 * mm * scale, 8 * mm * scale)
    if bar_height < 3 * mm:
        return
    bar_width = 0.45 * scale
    probe = code128.Code128(value, barHeight=bar_height, barWidth=bar_width, quiet=False)
    if probe.width > width - 2 * margin:
        bar_width *= (width - 2 * margin) / probe.width
    barcode = code128.Code128(value, barHeight=bar_height, barWidth=bar_width, quiet=False)
    barcode.drawOn(pdf, (width - barcode.width) / 2, bottom + 1.5 * mm * scale)
