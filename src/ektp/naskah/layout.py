"""The Kemendagri naskah dinas layout on A4: kop surat, heading, body, signature block.

Built on reportlab's platypus, so every line wraps inside the margins; signed with the
office's PAdES signature through the suket's signing machinery (one key, one certificate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ektp.core.formats import tanggal
from ektp.naskah.models import Letterhead

MARGIN = 20 * mm
FRAME_PADDING = 6  # reportlab's frame keeps 6 pt inside each margin
BLANK = "." * 40  # a field of the signature block the head has not filled in yet

BASE = ParagraphStyle("naskah", fontName="Helvetica", fontSize=11, leading=15)
BODY = ParagraphStyle("body", parent=BASE, alignment=TA_JUSTIFY, spaceAfter=6)
SMALL = ParagraphStyle("small", parent=BASE, fontSize=9, leading=11)
CELL = ParagraphStyle("cell", parent=BASE, fontSize=9.5, leading=12)
CELL_BOLD = ParagraphStyle("cell_bold", parent=CELL, fontName="Helvetica-Bold")
CELL_HEAD = ParagraphStyle("cell_head", parent=CELL_BOLD, fontSize=8, leading=10)
KOP_GOV = ParagraphStyle(
    "kop_gov", parent=BASE, fontName="Helvetica-Bold", fontSize=13, leading=16, alignment=TA_CENTER
)
KOP_AGENCY = ParagraphStyle("kop_agency", parent=KOP_GOV, fontSize=15, leading=19)
KOP_ADDRESS = ParagraphStyle("kop_address", parent=SMALL, alignment=TA_CENTER)
TITLE = ParagraphStyle(
    "title", parent=BASE, fontName="Helvetica-Bold", fontSize=12, alignment=TA_CENTER
)
CENTER = ParagraphStyle("center", parent=BASE, alignment=TA_CENTER)


def text(value: object, style: ParagraphStyle = BASE) -> Paragraph:
    """A paragraph of plain text (escaped: names and addresses are data, not markup)."""
    return Paragraph(escape(str(value)), style)


def kop(letterhead: Letterhead, width: float) -> list[Flowable]:
    """The kop surat: government, agency, address and contacts, then a double rule."""
    office = letterhead.office
    contacts = [office.address] if office.address else []
    if letterhead.phone:
        contacts.append(f"Telepon {letterhead.phone}")
    if letterhead.email:
        contacts.append(f"Surel {letterhead.email}")
    return [
        text(letterhead.government.upper(), KOP_GOV),
        text(letterhead.agency.upper(), KOP_AGENCY),
        text(" · ".join(contacts) or office.name, KOP_ADDRESS),
        Spacer(1, 2 * mm),
        HRFlowable(width=width, thickness=2, color=colors.black, spaceAfter=0.6 * mm),
        HRFlowable(width=width, thickness=0.6, color=colors.black, spaceAfter=5 * mm),
    ]


def place_and_date(letterhead: Letterhead, on: dt.date) -> str:
    return f"{letterhead.city}, {tanggal(on)}"


def letter_heading(
    *,
    letterhead: Letterhead,
    on: dt.date,
    number: str,
    sifat: str,
    lampiran: str,
    perihal: str,
    addressee: Sequence[str],
    width: float,
) -> list[Flowable]:
    """Nomor, sifat, lampiran and perihal on the left; place, date and the addressee on the right."""
    left = Table(
        [
            [text("Nomor"), text(":"), text(number)],
            [text("Sifat"), text(":"), text(sifat)],
            [text("Lampiran"), text(":"), text(lampiran)],
            [text("Perihal"), text(":"), Paragraph(f"<b>{escape(perihal)}</b>", BASE)],
        ],
        colWidths=[22 * mm, 4 * mm, width * 0.55 - 26 * mm],
    )
    left.setStyle(_plain())
    right = [text(place_and_date(letterhead, on)), Spacer(1, 6 * mm), text("Kepada")]
    right += [text(f"Yth. {addressee[0]}")] + [text(line) for line in addressee[1:]]
    table = Table([[left, right]], colWidths=[width * 0.55, width * 0.45])
    table.setStyle(_plain())
    return [table, Spacer(1, 8 * mm)]


def titled_heading(*, title: str, number: str | None) -> list[Flowable]:
    """A centred title (tanda terima, laporan) with its number under it."""
    flow: list[Flowable] = [Paragraph(f"<u>{escape(title)}</u>", TITLE)]
    if number:
        flow.append(text(f"Nomor: {number}", CENTER))
    flow.append(Spacer(1, 6 * mm))
    return flow


def signature_block(
    letterhead: Letterhead,
    *,
    on: dt.date | None,
    signed: bool,
    width: float,
    dated: bool = False,
    lead: str = "",
) -> Flowable:
    """The head's signature block on the right: title, space or e-signature note, name, rank, NIP."""
    lines: list[Flowable] = [text(lead)] if lead else []
    if dated and on is not None:
        lines.append(text(place_and_date(letterhead, on)))
    lines.append(text(letterhead.head_title or "Kepala Dinas", BASE))
    if signed:
        lines.append(text("Ditandatangani secara elektronik", SMALL))
        lines.append(Spacer(1, 4 * mm))
    else:
        lines.append(Spacer(1, 20 * mm))
    lines += [
        Paragraph(f"<b><u>{escape(letterhead.head_name or BLANK)}</u></b>", BASE),
        text(letterhead.head_rank or BLANK),
        text(f"NIP {letterhead.head_nip or BLANK}"),
    ]
    table = Table([["", lines]], colWidths=[width * 0.5, width * 0.5])
    table.setStyle(_plain())
    return KeepTogether([Spacer(1, 8 * mm), table])


def grid(
    rows: Sequence[Sequence[object]], *, widths: Sequence[float], header_rows: int = 1
) -> Table:
    """A ruled table of figures; the first row(s) bold and repeated on a new page."""
    body = [
        [
            cell
            if isinstance(cell, Flowable)
            else text(cell, CELL_BOLD if i < header_rows else CELL)
            for cell in row
        ]
        for i, row in enumerate(rows)
    ]
    table = Table(body, colWidths=list(widths), repeatRows=header_rows)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def facts(rows: Sequence[tuple[str, object]], *, width: float) -> Table:
    """Label : value lines, as in the body of a letter."""
    table = Table(
        [[text(label), text(":"), text(value)] for label, value in rows],
        colWidths=[60 * mm, 4 * mm, width - 64 * mm],
    )
    table.setStyle(_plain())
    return table


def _plain() -> TableStyle:
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
    )


@dataclass
class Page:
    """The frame a document is drawn in; `width` is what its flowables may use."""

    title: str
    author: str
    subject: str = ""
    wide: bool = False
    story: list[Flowable] = field(default_factory=list)

    @property
    def size(self) -> tuple[float, float]:
        return landscape(A4) if self.wide else A4

    @property
    def width(self) -> float:
        return self.size[0] - 2 * MARGIN - 2 * FRAME_PADDING

    def render(self) -> bytes:
        buffer = BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=self.size,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=15 * mm,
            bottomMargin=15 * mm,
            title=self.title,
            author=self.author,
            subject=self.subject,
            pageCompression=1,
        )
        doc.build(self.story, onFirstPage=_page_number, onLaterPages=_page_number)
        return buffer.getvalue()


def _page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.drawRightString(doc.pagesize[0] - MARGIN, 8 * mm, f"Halaman {doc.page}")
    canvas.restoreState()


def sign(pdf: bytes, *, reason: str, location: str) -> bytes:
    """Add the office's PAdES signature (the suket's keys and certificate) to a document."""
    from ektp.suket import signing

    return signing.sign_pdf(pdf, signing.office_keys(), reason=reason, location=location)
