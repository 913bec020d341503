"""CSV and XLSX of an election's figures per village (through ektp.core.tables)."""

from __future__ import annotations

from ektp.core import tables
from ektp.partners.models import Election
from ektp.partners.selectors import VillageVoters, voters_by_village

HEADER = [
    "Kode desa",
    "Desa/kelurahan",
    "Pemilih terdaftar (penduduk)",
    "Pemilih pemula",
    "Pemilih pemula belum rekam",
    "Pemilih belum rekam",
]


def _cells(v: VillageVoters) -> list:
    return [v.code, v.name, v.listed, v.first_time, v.first_time_not_recorded, v.not_recorded]


def totals(villages: list[VillageVoters]) -> dict[str, int]:
    return {
        name: sum(getattr(v, name) for v in villages)
        for name in ("listed", "first_time", "first_time_not_recorded", "not_recorded")
    }


def villages_table(election: Election, *, fmt: str) -> bytes:
    rows = [_cells(v) for v in voters_by_village(election)]
    if fmt == "csv":
        return tables.to_csv(HEADER, rows)
    return tables.to_xlsx(HEADER, rows, title=str(election), sheet="Pemilih pemula")
