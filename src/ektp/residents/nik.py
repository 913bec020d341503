"""NIK and No. KK: parsing and validation as the Kemendagri numbering defines them.

NIK:   PP KK CC DDMMYY SSSS — province, kab/kota, kecamatan of first registration,
       birth date (day + 40 for women), serial (not 0000).
No.KK: PP KK CC DDMMYY SSSS — region, date of issue, serial (not 0000).

Kab/kota segment 01–69 is a kabupaten, 71–99 a kota. A region prefix that the current
Kemendagri list does not know (an old or split region) is a warning, not a refusal;
an unknown province code is a refusal.

Only the ASCII digits 0–9 make a number. Python calls more characters digits: str.isdigit()
accepts superscripts ('²', which int() then refuses), and int() and a regular expression's
digit class accept Arabic-Indic ('١') and fullwidth ('１') digits. Such numbers are refused, not
translated: a NIK is stored, compared, counted and printed in one spelling only, and no
keyboard of an Indonesian office or phone types these characters by mistake.

A NIK typed anywhere (a form, an API body, path or query, a WhatsApp message) goes through
parse_nik alone: NikField wraps it for forms, NikIn for Ninja; decode_nik adds the numbering
rules where a NIK is registered or proves an identity.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Annotated

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from ektp.core.errors import DomainError
from ektp.regions import codes


class InvalidNumber(DomainError, ValueError):
    """A NIK or No. KK breaks a numbering rule; `rule` names it, the message explains it."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@cache
def _known_codes() -> tuple[frozenset[str], frozenset[str]]:
    """Return (province codes, all kab/kota and kecamatan codes, old editions included)."""
    data = resources.files("ektp.regions") / "data" / "wilayah.tsv.gz"
    provinces, others = set(), set()
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        for line in fh:
            code = line.split("\t", 1)[0]
            level = codes.level_of(code)
            if level == 1:
                provinces.add(code)
            elif level <= 3:
                others.add(code)
    return frozenset(provinces), frozenset(others)


@dataclass(frozen=True)
class NikInfo:
    nik: Nik
    province_code: str
    kabkota_code: str
    kecamatan_code: str
    birth_day: int
    birth_month: int
    birth_yy: int
    sex: str  # "L" or "P"
    serial: str
    warnings: tuple[str, ...] = field(default=())

    def birth_date(self, today: dt.date | None = None) -> dt.date:
        """Resolve the century: the latest date not after today."""
        today = today or dt.date.today()
        year = 2000 + self.birth_yy
        if year > today.year or (
            year == today.year and (self.birth_month, self.birth_day) > (today.month, today.day)
        ):
            year -= 100
        return dt.date(year, self.birth_month, self.birth_day)


def is_digits(value: str) -> bool:
    """Tell whether value is made of ASCII digits 0–9 only (and is not empty)."""
    return value.isascii() and value.isdigit()


def _digits(value: str, what: str) -> str:
    value = (value or "").strip()
    if len(value) != 16:
        raise InvalidNumber("length", f"{what} harus 16 digit (yang diisi {len(value)} karakter).")
    if not is_digits(value):
        raise InvalidNumber("digits", f"{what} hanya boleh berisi angka 0–9.")
    return value


class Nik(str):
    """A NIK in its one spelling: 16 ASCII digits. Made by parse_nik; decode_nik reads its parts."""

    __slots__ = ()


# What people type between the groups of a NIK (1809 0157 0590 0001, 1809.0157...): dropped.
NIK_SEPARATORS = re.compile(r"[\s.\-]")


def parse_nik(text: str) -> Nik:
    """Return the NIK written in text (spaces, dots and dashes between digits allowed), or
    raise InvalidNumber saying why it is not one: the one check of every NIK typed in."""
    return Nik(_digits(NIK_SEPARATORS.sub("", text or ""), "NIK"))


def _region_prefix(value: str, what: str) -> tuple[str, str, str, list[str]]:
    province, kab, kec = value[0:2], value[2:4], value[4:6]
    provinces, others = _known_codes()
    if province not in provinces:
        raise InvalidNumber("province", f"{what}: kode provinsi {province} tidak dikenal.")
    kab_number = int(kab)
    if not (1 <= kab_number <= 69 or 71 <= kab_number <= 99):
        raise InvalidNumber(
            "kabkota",
            f"{what}: kode kabupaten/kota {kab} tidak sah (01–69 kabupaten, 71–99 kota).",
        )
    if kec == "00":
        raise InvalidNumber("kecamatan", f"{what}: kode kecamatan tidak boleh 00.")
    kabkota = f"{province}.{kab}"
    kecamatan = f"{kabkota}.{kec}"
    warnings = []
    if kabkota not in others:
        warnings.append(
            f"Kode kabupaten/kota {kabkota} tidak ada dalam daftar wilayah (wilayah lama atau pemekaran?)."
        )
    elif kecamatan not in others:
        warnings.append(
            f"Kode kecamatan {kecamatan} tidak ada dalam daftar wilayah (wilayah lama atau pemekaran?)."
        )
    return province, kabkota, kecamatan, warnings


def _valid_day_month(day: int, month: int, yy: int) -> bool:
    # Any year with this two-digit ending in 1900–2099 makes the date real (29 Feb needs a leap year).
    for century in (1900, 2000):
        try:
            dt.date(century + yy, month, day)
            return True
        except ValueError:
            continue
    return False


def _nik_of_schema(text: str) -> Nik:
    try:
        return parse_nik(text)
    except InvalidNumber as exc:
        raise PydanticCustomError(f"nik_{exc.rule}", exc.message) from None


# A NIK in a Ninja schema, path or query: parse_nik's value, parse_nik's message on a 422.
NikIn = Annotated[
    str,
    Field(max_length=40, description="NIK, 16 angka", examples=["1809011705900001"]),
    AfterValidator(_nik_of_schema),
]


class NikField(forms.CharField):
    """A NIK in a form: a numeric, unremembered input of 16 characters, cleaned by parse_nik.

    max_length, when given, only lets the box take more (a NIK typed with spaces)."""

    default_error_messages = {"required": _("NIK wajib diisi.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("NIK"))
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(inputmode="numeric", maxlength=str(self.max_length or 16), autocomplete="off")
        return attrs

    def to_python(self, value) -> str:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            if self.max_length is not None and len(value) > self.max_length:
                # Judged on what was typed: the parsed NIK is always 16 digits long.
                raise InvalidNumber(
                    "length", f"NIK harus 16 digit (yang diisi {len(value)} karakter)."
                )
            return parse_nik(value)
        except InvalidNumber as exc:
            raise forms.ValidationError(exc.message, code=exc.rule) from None


def decode_nik(value: str) -> NikInfo:
    """Read a NIK's parts, or raise InvalidNumber naming the numbering rule it breaks (a NIK
    being registered; a NIK looked up only needs parse_nik)."""
    nik = parse_nik(value)
    province, kabkota, kecamatan, warnings = _region_prefix(nik, "NIK")
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "L"
    if day > 40:
        day -= 40
        sex = "P"
    if not _valid_day_month(day, month, yy):
        raise InvalidNumber(
            "birth_date",
            f"NIK: tanggal lahir {nik[6:8]}-{nik[8:10]}-{nik[10:12]} bukan tanggal yang ada "
            "(untuk perempuan tanggal ditambah 40).",
        )
    serial = nik[12:16]
    if serial == "0000":
        raise InvalidNumber("serial", "NIK: nomor urut (4 digit terakhir) tidak boleh 0000.")
    return NikInfo(nik, province, kabkota, kecamatan, day, month, yy, sex, serial, tuple(warnings))


def check_nik_matches(info: NikInfo, *, birth_date: dt.date, sex: str) -> None:
    """Raise InvalidNumber when the NIK's date or sex disagrees with the recorded ones."""
    if (info.birth_day, info.birth_month, info.birth_yy) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        raise InvalidNumber(
            "birth_date_mismatch",
            f"Tanggal lahir dalam NIK ({info.birth_day:02d}-{info.birth_month:02d}-{info.birth_yy:02d}) "
            f"tidak sama dengan tanggal lahir yang dicatat ({birth_date:%d-%m-%Y}).",
        )
    if info.sex != sex:
        said = "perempuan" if info.sex == "P" else "laki-laki"
        raise InvalidNumber(
            "sex_mismatch",
            f"NIK menunjukkan jenis kelamin {said}, berbeda dengan yang dicatat.",
        )


def make_nik(*, kecamatan_code: str, birth_date: dt.date, sex: str, serial: int) -> str:
    """Compose a NIK from its parts (used by the seeder and the tests)."""
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{codes.compact(kecamatan_code)}{day:02d}{birth_date:%m}{birth_date.year % 100:02d}{serial:04d}"


@dataclass(frozen=True)
class KkInfo:
    kk_number: str
    kecamatan_code: str
    issued_on: dt.date
    serial: str
    warnings: tuple[str, ...] = field(default=())


def parse_kk(value: str, *, today: dt.date | None = None) -> KkInfo:
    """Parse a No. KK or raise InvalidNumber naming the rule it breaks."""
    kk = _digits(value, "No. KK")
    _, _, kecamatan, warnings = _region_prefix(kk, "No. KK")
    day, month, yy = int(kk[6:8]), int(kk[8:10]), int(kk[10:12])
    today = today or dt.date.today()
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        issued = dt.date(year, month, day)
    except ValueError:
        raise InvalidNumber(
            "issue_date",
            f"No. KK: tanggal terbit {kk[6:8]}-{kk[8:10]}-{kk[10:12]} bukan tanggal yang ada.",
        ) from None
    if issued > today:
        raise InvalidNumber("issue_date", "No. KK: tanggal terbit tidak boleh di masa depan.")
    if kk[12:16] == "0000":
        raise InvalidNumber("serial", "No. KK: nomor urut (4 digit terakhir) tidak boleh 0000.")
    return KkInfo(kk, kecamatan, issued, kk[12:16], tuple(warnings))


def make_kk(*, kecamatan_code: str, issued_on: dt.date, serial: int) -> str:
    """Compose a No. KK from its parts."""
    return f"{codes.compact(kecamatan_code)}{issued_on:%d%m}{issued_on.year % 100:02d}{serial:04d}"
