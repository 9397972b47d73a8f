"""Box labels as a real PDF: one page per box with the order number, "box n of m" and a barcode.

Page formats follow ``PageFormatType``: A9_HORIZONTALLY (52×37 mm), A9 (37×52 mm), A7, A4.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4, A7
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

PAGE_FORMATS: dict[str, tuple[float, float]] = {
    "A9_HORIZONTALLY": (52 * mm, 37 * mm),
    "A9": (37 * mm, 52 * mm),
    "A7": A7,
    "A4": A4,
}
DEFAULT_FORMAT = "A7"


def render_labels(order: dict[str, Any], boxes: list[dict[str, Any]], page_format: str, supplier: str) -> bytes:
    """One label per box, in the order the boxes were laid out."""
    width, height = PAGE_FORMATS[page_format]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(width, height))
    pdf.setTitle(f"Order {order['orderId']} labels")
    total = len(boxes)
    scale = min(width, height) / (37 * mm)
    margin = 2 * mm * scale
    for n, box in enumerate(boxes, start=1):
        font = max(5.0, 7 * scale)
        pdf.setFont("Helvetica-Bold", font * 1.3)
        pdf.drawString(margin, height - margin - font * 1.3, f"{order['orderId']}")
        pdf.setFont("Helvetica", font)
        pdf.drawString(margin, height - margin - font * 2.6, f"{n}/{total}  box {box['boxId']}")
        pdf.drawString(margin, height - margin - font * 3.8, supplier[:40])
        barcode = code128.Code128(box["barcode"], barHeight=min(height * 0.35, 30 * mm), barWidth=0.6 * scale)
        bw = barcode.width
        barcode.drawOn(pdf, max(margin, (width - bw) / 2), margin + font)
        pdf.drawCentredString(width / 2, margin, box["barcode"])
        pdf.showPage()
    pdf.save()
    return buf.getvalue()
