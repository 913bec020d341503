"""Tables people can open: CSV for Excel set to Indonesian, XLSX, and a printable A4 PDF.

Excel with Indonesian regional settings reads a CSV with `;` between fields and `,` before
decimals; the UTF-8 byte order mark makes it read accents right. XLSX carries numbers as
numbers and opens the same everywhere, so pages offer it first."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ektp.core.formats import tanggal

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


def safe(value):
    """Keep a spreadsheet from reading a cell as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_cell(value) -> str:
    """Write one value the way Indonesian Excel reads it: 75,5 and 31-12-2024."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, float):
        text = format(value, "f").rstrip("0")
        return (text + "0" if text.endswith(".") else text).replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    return str(safe(value))


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """Return a table as UTF-8 CSV with a BOM, `;` between fields and decimal commas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence],
    *,
    title: str,
    sheet: str = "Data",
    subtitle: str = "",
    footer: Iterable[Sequence] = (),
) -> bytes:
    """Return a table as an XLSX workbook: a title row (and a subtitle row), the header, the
    rows, then after an empty row the footer's lines (a total told apart, say)."""
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append([safe(title)])
    ws["A1"].font = Font(bold=True)
    if subtitle:
        ws.append([safe(subtitle)])
    ws.append([safe(v) for v in header])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)

    def cells(row: Sequence) -> list:
        return [float(v) if isinstance(v, Decimal) else safe(v) for v in row]

    for row in rows:
        ws.append(cells(row))
    footer = list(footer)
    if footer:
        ws.append([])
        for row in footer:
            ws.append(cells(row))
    for column in ws.iter_cols(min_row=header_row + 1, max_row=ws.max_row):
        for cell in column:
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD-MM-YYYY"
    ws.column_dimensions["A"].width = max(
        12, min(40, max(len(str(c.value or "")) for c in ws["A"][header_row - 1 :]))
    )
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(
    header: Sequence[str],
    rows: Iterable[Sequence],
    *,
    title: str,
    subtitle: str = "",
    wide: bool = False,
) -> bytes:
    """Return a table as a printable A4 PDF, the header repeated on every page."""
    buffer = io.BytesIO()
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
    )
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    head = cell.clone("head", fontName="Helvetica-Bold")
    data = [[Paragraph(escape(str(h)), head) for h in header]]
    for row in rows:
        data.append([Paragraph(escape(pdf_cell(v)), cell) for v in row])
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story = [Paragraph(escape(title), styles["Heading2"])]
    if subtitle:
        story.append(Paragraph(escape(subtitle), styles["BodyText"]))
    story += [Spacer(1, 4 * mm), table]
    doc.build(story)
    return buffer.getvalue()


def pdf_cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.date):
        return tanggal(value)
    return csv_cell(value)


def download(content: bytes, *, stem: str, fmt: str) -> HttpResponse:
    """Return an attachment response for a table made by one of the writers above."""
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": XLSX_TYPE,
        "pdf": "application/pdf",
    }
    response = HttpResponse(content, content_type=types[fmt])
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response
