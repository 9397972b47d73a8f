"""A shipment's documents as real PDFs: the reception-transfer act, the inbound act, the assembly
list and the pallet labels. Text is set in DejaVu Sans when the system has it (Cyrillic names);
otherwise in Helvetica, which cannot show Cyrillic (those letters become "?")."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .clock import MSK

A8 = (52 * mm, 74 * mm)
FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf")


def _font() -> str:
    for path in FONT_PATHS:
        if Path(path).exists():
            if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("DejaVuSans", path))
            return "DejaVuSans"
    return "Helvetica"


def _text(font: str, value: str) -> str:
    return value if font != "Helvetica" else value.encode("latin-1", "replace").decode("latin-1")


@dataclass(frozen=True)
class ActLine:
    """One order of an act: the Market's and the seller's numbers, value, weight and boxes."""

    order_id: int
    external_id: str
    value: Decimal
    weight_kg: Decimal
    boxes: int


@dataclass(frozen=True)
class ShipmentHeader:
    shipment_id: int
    date: dt.date
    sender: str
    executor: str
    warehouse: str


class _Sheet:
    """An A4 page that writes lines top to bottom and turns the page when full."""

    def __init__(self, title: str) -> None:
        self.buf = io.BytesIO()
        self.pdf = canvas.Canvas(self.buf, pagesize=A4)
        self.pdf.setTitle(title)
        self.font = _font()
        self.y = A4[1] - 20 * mm

    def line(self, text: str, size: float = 9, indent: float = 0) -> None:
        if self.y < 20 * mm:
            self.pdf.showPage()
            self.y = A4[1] - 20 * mm
        self.pdf.setFont(self.font, size)
        self.pdf.drawString(15 * mm + indent, self.y, _text(self.font, text))
        self.y -= size * 1.5

    def done(self) -> bytes:
        self.pdf.showPage()
        self.pdf.save()
        return self.buf.getvalue()


def _header(sheet: _Sheet, title: str, head: ShipmentHeader, moment: dt.datetime) -> None:
    sheet.line(title, 14)
    sheet.line(f"Shipment {head.shipment_id} of {head.date.strftime('%d.%m.%Y')}, "
               f"printed {moment.astimezone(MSK).strftime('%d.%m.%Y %H:%M')}")
    sheet.line(f"Sender: {head.sender}; warehouse: {head.warehouse}")
    sheet.line(f"Executor: {head.executor}")
    sheet.line("")


def render_act(head: ShipmentHeader, lines: list[ActLine], moment: dt.datetime, *, inbound: bool = False,
               signatory: str = "") -> bytes:
    """The reception-transfer act (or, ``inbound``, what the sorting centre accepted): one line per order."""
    title = "Inbound act" if inbound else "Reception transfer act"
    sheet = _Sheet(f"{title} {head.shipment_id}")
    _header(sheet, title, head, moment)
    sheet.line("No.  Order  External id  Declared value  Weight, kg  Boxes", 9)
    for n, ln in enumerate(lines, start=1):
        sheet.line(f"{n}.  {ln.order_id}  {ln.external_id or '-'}  {ln.value:.2f}  {ln.weight_kg:.1f}  {ln.boxes}")
    sheet.line("")
    sheet.line(f"Orders: {len(lines)}  Boxes: {sum(ln.boxes for ln in lines)}  "
               f"Declared value: {sum((ln.value for ln in lines), Decimal(0)):.2f}", 10)
    sheet.line("")
    if signatory:
        sheet.line(f"Signed electronically by {signatory}")
    else:
        sheet.line("Sender: ____________________    Executor: ____________________")
    return sheet.done()


@dataclass(frozen=True)
class ListLine:
    """One item of the assembly list."""

    order_id: int
    external_id: str
    offer_id: str
    name: str
    count: int
    boxes: int


def render_assembly_list(head: ShipmentHeader, lines: list[ListLine], moment: dt.datetime) -> bytes:
    """The assembly list: each order's items and boxes, orders oldest first."""
    sheet = _Sheet(f"Assembly list {head.shipment_id}")
    _header(sheet, "Assembly list", head, moment)
    last = None
    orders = set()
    for ln in lines:
        if ln.order_id != last:
            sheet.line(f"Order {ln.order_id}  {('No. ' + ln.external_id) if ln.external_id else ''}  "
                       f"boxes: {ln.boxes}", 10)
            last = ln.order_id
            orders.add(ln.order_id)
        sheet.line(f"{ln.offer_id}  {ln.name}  x {ln.count}", 9, indent=6 * mm)
    sheet.line("")
    sheet.line(f"Orders: {len(orders)}  Items: {sum(ln.count for ln in lines)}", 10)
    return sheet.done()


def pallet_code(shipment_id: int, n: int) -> str:
    return f"PALLET-{shipment_id}-{n}"


def render_pallet_labels(head: ShipmentHeader, count: int, orders: int, boxes: int, page_format: str) -> bytes:
    """One label per pallet: A8 one a page, A4 sixteen a page (4 × 4)."""
    buf = io.BytesIO()
    size = A4 if page_format == "A4" else A8
    pdf = canvas.Canvas(buf, pagesize=size)
    pdf.setTitle(f"Pallet labels {head.shipment_id}")
    font = _font()
    cell_w, cell_h = (A4[0] / 4, A4[1] / 4) if page_format == "A4" else A8
    for n in range(1, count + 1):
        slot = (n - 1) % 16 if page_format == "A4" else 0
        x0, y0 = (slot % 4) * cell_w, size[1] - (slot // 4 + 1) * cell_h
        pdf.setFont(font, 8)
        top = y0 + cell_h - 5 * mm
        for i, text in enumerate((f"Shipment {head.shipment_id}", f"{head.date.strftime('%d.%m.%Y')}",
                                  f"Pallet {n}/{count}", f"Orders: {orders}  Boxes: {boxes}", head.executor[:24])):
            pdf.drawString(x0 + 3 * mm, top - i * 4 * mm, _text(font, text))
        code = pallet_code(head.shipment_id, n)
        barcode = code128.Code128(code, barHeight=cell_h * 0.3, barWidth=0.5)
        barcode.drawOn(pdf, x0 + max(1 * mm, (cell_w - barcode.width) / 2), y0 + 6 * mm)
        pdf.drawCentredString(x0 + cell_w / 2, y0 + 2 * mm, code)
        if page_format != "A4" or slot == 15 or n == count:
            pdf.showPage()
    if count == 0:
        pdf.showPage()
    pdf.save()
    return buf.getvalue()
