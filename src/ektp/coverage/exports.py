"""CSV and XLSX exports of coverage tables (through ektp.core.tables)."""

from __future__ import annotations

from ektp.core import tables
from ektp.core.errors import DomainError
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
    ("ikd_rate", "IKD ÷ rekam (%)"),
]
HEADER = [label for _key, label in COLUMNS]


def _cells(row: CoverageRow) -> list:
    data = row.as_dict()
    out = []
    for key, _label in COLUMNS:
        value = data[key]
        out.append(float(value) if key.endswith("rate") and value is not None else value)
    return out


def to_csv(rows: list[CoverageRow]) -> bytes:
    """Return the rows as CSV for Excel set to Indonesian (`;`, decimal comma, BOM)."""
    return tables.to_csv(HEADER, (_cells(r) for r in rows))


def to_xlsx(rows: list[CoverageRow], *, title: str) -> bytes:
    """Return the rows as an XLSX workbook with one sheet."""
    return tables.to_xlsx(HEADER, (_cells(r) for r in rows), title=title, sheet="Cakupan")


PEOPLE_HEADER = [
    "No.",
    "NIK",
    "Nama",
    "L/P",
    "Tanggal lahir",
    "Desa/kelurahan",
    "RT",
    "RW",
    "Alamat",
    "Nomor HP",
]
# A longer list is for a smaller region: a PDF is printed and carried, a sheet is worked on.
MAX_ROWS = {"csv": 100_000, "xlsx": 100_000, "pdf": 5_000}
FORMATS = tuple(MAX_ROWS)


class TooManyRows(DomainError):
    """The list is longer than its format may carry; the message says what to do."""

    rule = "too_many_rows"


def people_rows(qs, *, fmt: str):
    """Return the rows of a list of residents for an export (NIK masked as on the pages),
    or raise TooManyRows when the list is longer than the format may carry."""
    limit = MAX_ROWS[fmt]
    people = list(
        qs.select_related("address_region").order_by("address_region_id", "rw", "rt", "name")[
            : limit + 1
        ]
    )
    if len(people) > limit:
        raise TooManyRows(
            f"Daftar lebih dari {limit:,} orang untuk {fmt.upper()}".replace(",", ".")
            + ": pilih wilayah yang lebih kecil (kecamatan atau desa)."
        )
    return [
        [
            i,
            p.masked_nik,
            p.name,
            p.sex,
            p.birth_date,
            p.address_region.name,
            p.rt,
            p.rw,
            p.street,
            p.phone,
        ]
        for i, p in enumerate(people, start=1)
    ]


def people_table(qs, *, fmt: str, title: str, subtitle: str = "") -> bytes:
    """Write a list of residents in a format: csv, xlsx or pdf."""
    rows = people_rows(qs, fmt=fmt)
    if fmt == "csv":
        return tables.to_csv(PEOPLE_HEADER, rows)
    if fmt == "xlsx":
        return tables.to_xlsx(PEOPLE_HEADER, rows, title=title, sheet="Daftar")
    return tables.to_pdf(PEOPLE_HEADER, rows, title=title, subtitle=subtitle, wide=True)
