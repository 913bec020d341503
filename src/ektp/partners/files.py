"""Partner files (CSV or XLSX) read into lines of named cells, and the columns of each kind."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook

from ektp.core.errors import DomainError
from ektp.partners.models import ImportKind

MAX_BYTES = 50 * 1024 * 1024
MAX_LINES = 200_000

# Per kind: the columns a file must have, then those it may have.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ImportKind.MARRIAGES: (
        (
            "no_akta",
            "tanggal_nikah",
            "kua",
            "kode_desa",
            "nik_suami",
            "nama_suami",
            "tanggal_lahir_suami",
            "nik_istri",
            "nama_istri",
            "tanggal_lahir_istri",
        ),
        ("tempat_lahir_suami", "tempat_lahir_istri"),
    ),
    ImportKind.VOTERS: (
        ("nik", "nama", "tanggal_lahir", "jenis_kelamin", "kode_desa"),
        ("tempat_lahir", "tps"),
    ),
    ImportKind.IKD: (("nik", "tanggal_aktivasi", "cara", "tempat"), ()),
}


class FileRejected(DomainError, ValueError):
    """The file as a whole cannot be read (format, size, columns); nothing is staged."""

    rule = "file_rejected"


@dataclass(frozen=True)
class Line:
    number: int  # the line in the file as a spreadsheet shows it (the header is line 1)
    cells: dict[str, object]


def _header(cells) -> list[str]:
    return [str(c or "").strip().lower().replace(" ", "_") for c in cells]


def _is_xlsx(content: bytes) -> bool:
    if not content.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _xlsx_rows(content: bytes):
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileRejected(f"Berkas XLSX tidak dapat dibaca: {type(exc).__name__}.") from None
    try:
        yield from book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()


def _csv_rows(content: bytes):
    if b"\x00" in content[:4096]:
        raise FileRejected("Berkas bukan CSV atau XLSX (isi biner).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected("Berkas CSV harus berenkode UTF-8.") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    yield from csv.reader(io.StringIO(text), delimiter=delimiter)


def read_lines(content: bytes, *, kind: str) -> tuple[list[str], list[Line]]:
    """Return the header and the non-empty lines of a partner file, or raise FileRejected
    saying why the file cannot be read (wrong format, too big, columns missing)."""
    if kind not in COLUMNS:
        raise FileRejected("Jenis impor tidak dikenal (kua, kpu atau ikd).")
    if not content:
        raise FileRejected("Berkas kosong.")
    if len(content) > MAX_BYTES:
        raise FileRejected(f"Berkas lebih dari {MAX_BYTES // (1024 * 1024)} MB.")
    if content.startswith(b"PK\x03\x04") and not _is_xlsx(content):
        raise FileRejected("Berkas ZIP ini bukan buku kerja XLSX.")
    rows = _xlsx_rows(content) if _is_xlsx(content) else _csv_rows(content)
    try:
        header = _header(next(rows))
    except StopIteration:
        raise FileRejected("Berkas kosong.") from None
    except csv.Error as exc:
        raise FileRejected(f"Berkas CSV rusak: {exc}.") from None
    required, optional = COLUMNS[kind]
    missing = [c for c in required if c not in header]
    if missing:
        raise FileRejected("Kolom wajib tidak ada: " + ", ".join(missing) + ".")
    wanted = {name: header.index(name) for name in (*required, *optional) if name in header}
    lines = []
    try:
        for number, row in enumerate(rows, start=2):
            if not any(str(c or "").strip() for c in row):
                continue
            if len(lines) >= MAX_LINES:
                raise FileRejected(f"Berkas lebih dari {MAX_LINES:,} baris.".replace(",", "."))
            cells = {name: (row[i] if i < len(row) else None) for name, i in wanted.items()}
            lines.append(Line(number, cells))
    except csv.Error as exc:
        raise FileRejected(f"Berkas CSV rusak: {exc}.") from None
    return header, lines


DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def parse_day(value) -> dt.date:
    """Return a date written in a cell (a spreadsheet date, TTTT-BB-HH, HH-BB-TTTT or
    HH/BB/TTTT), or raise ValueError with the reason in Bahasa Indonesia."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError("kosong")
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{text[:20]}' bukan tanggal yang ada (TTTT-BB-HH atau HH-BB-TTTT)")


def text(value, limit: int = 100) -> str:
    return " ".join(str(value if value is not None else "").split())[:limit]
