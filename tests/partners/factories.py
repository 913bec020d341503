"""Partner files for tests: CSV and XLSX bytes written from rows of named cells."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from ektp.partners.files import COLUMNS

VILLAGE = "18.09.01.2001"
OTHER_DISTRICT_VILLAGE = "18.10.01.1001"


def columns(kind: str) -> list[str]:
    required, optional = COLUMNS[kind]
    return [*required, *optional]


def csv_file(kind: str, rows: list[dict], *, header: list[str] | None = None) -> bytes:
    header = header or columns(kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue().encode("utf-8")


def xlsx_file(kind: str, rows: list[dict]) -> bytes:
    header = columns(kind)
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(name) for name in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def marriage_row(husband, wife, *, certificate="0001/2026", married_on="2026-11-20", **over):
    """A KUA line naming two residents (or dicts with name and birth date for strangers)."""

    def person(p, role):
        if isinstance(p, dict):
            return {f"{k}_{role}": v for k, v in p.items()}
        return {
            f"nik_{role}": p.nik,
            f"nama_{role}": p.name,
            f"tanggal_lahir_{role}": p.birth_date.isoformat(),
            f"tempat_lahir_{role}": p.birth_place,
        }

    return {
        "no_akta": certificate,
        "tanggal_nikah": married_on,
        "kua": "KUA GEDONG TATAAN",
        "kode_desa": VILLAGE,
        **person(husband, "suami"),
        **person(wife, "istri"),
        **over,
    }


def voter_row(resident=None, **over):
    row = {}
    if resident is not None:
        row = {
            "nik": resident.nik,
            "nama": resident.name,
            "tanggal_lahir": resident.birth_date.isoformat(),
            "jenis_kelamin": resident.sex,
            "kode_desa": resident.address_region_id,
            "tempat_lahir": resident.birth_place,
            "tps": "001",
        }
    row.update(over)
    return row
