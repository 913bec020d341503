"""Tables people can open: CSV for Excel set to Indonesian, XLSX and a printable PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from ektp.core import tables

HEADER = ["Nama", "Cakupan (%)", "Tanggal", "Jumlah"]
ROWS = [
    ["Way Lima", Decimal("75.50"), dt.date(2026, 12, 7), 1200],
    ['=HYPERLINK("x")', 80.25, None, 0],
    ["Gedong Tataan", 100.0, dt.date(2026, 1, 2), 3],
]


def test_csv_opens_in_indonesian_excel_semicolons_decimal_commas_and_a_bom():
    data = tables.to_csv(HEADER, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER
    assert rows[1] == ["Way Lima", "75,50", "07-12-2026", "1200"]
    assert rows[2][1] == "80,25"
    assert rows[3][1] == "100,0"
    assert all(len(r) == 4 for r in rows)


def test_csv_and_xlsx_keep_a_formula_from_running():
    rows = list(
        csv.reader(io.StringIO(tables.to_csv(HEADER, ROWS).decode("utf-8-sig")), delimiter=";")
    )
    assert rows[2][0].startswith("'=")
    sheet = load_workbook(io.BytesIO(tables.to_xlsx(HEADER, ROWS, title="Uji"))).active
    assert sheet["A4"].value.startswith("'=")


def test_xlsx_has_title_header_and_typed_cells():
    sheet = load_workbook(
        io.BytesIO(tables.to_xlsx(HEADER, ROWS, title="Uji", sheet="Cakupan"))
    ).active
    assert sheet.title == "Cakupan"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Uji"
    assert list(values[1]) == HEADER
    assert values[2][1] == 75.5
    assert values[2][2].date() == dt.date(2026, 12, 7)
    assert values[2][3] == 1200


def test_pdf_is_a_pdf_with_every_row():
    data = tables.to_pdf(HEADER, ROWS * 40, title="Uji", subtitle="Per 7 Desember 2026")
    assert data.startswith(b"%PDF-")
    pages = int(re.search(rb"/Count (\d+)", data)[1])
    assert pages >= 2  # 120 rows do not fit one A4 page: the table runs on


def test_xlsx_subtitle_and_footer_sit_around_the_rows_and_are_kept_from_running():
    sheet = load_workbook(
        io.BytesIO(
            tables.to_xlsx(
                HEADER,
                ROWS,
                title="Uji",
                subtitle="=Tanggal",
                footer=[["Jumlah", 3], ["=SUM(A1)", 1]],
            )
        )
    ).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Uji" and values[1][0] == "'=Tanggal"
    assert list(values[2]) == HEADER
    assert values[3 + len(ROWS)] == (None,) * len(HEADER) or not any(values[3 + len(ROWS)])
    assert values[-2][:2] == ("Jumlah", 3) and values[-1][0].startswith("'=")
    assert sheet.freeze_panes == "A4"
