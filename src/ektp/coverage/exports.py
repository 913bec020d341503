"""CSV and XLSX exports of coverage tables."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from ektp.coverage.stats import CoverageRow

COLUMNS = [
    ("code", "Kode wilayah"),
    ("name", "Nama wilayah"),
    ("wajib_ktp", "Wajib KTP"),
    ("recorded", "Sudah rekam"),
    ("missing", "Belum rekam"),
    ("rate", "Cakupan (%)"),
    ("zone", "Zona"),
    ("printed", "Sudah cetak"),
    ("printed_rate", "Cetak ÷ rekam (%)"),
    ("prr", "PRR (siap cetak)"),
    ("ikd", "Aktivasi IKD"),
]


def _cells(row: CoverageRow) -> list:
    data = row.as_dict()
    out = []
    for key, _label in COLUMNS:
        value = data[key]
        out.append(float(value) if key.endswith("rate") and value is not None else value)
    return out


def _safe(value):
    """Keep a spreadsheet from reading a cell as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(rows: list[CoverageRow]) -> bytes:
    """Return the rows as UTF-8 CSV with a BOM (spreadsheets then read the accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _key, label in COLUMNS])
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in _cells(row)])
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(rows: list[CoverageRow], *, title: str) -> bytes:
    """Return the rows as an XLSX workbook with one sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Cakupan"
    sheet.append([title])
    sheet.append([label for _key, label in COLUMNS])
    for row in rows:
        sheet.append([_safe(v) for v in _cells(row)])
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
