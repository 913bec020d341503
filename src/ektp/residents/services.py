"""Writes for residents: create and update with every registry rule checked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, User
from ektp.core.services import record_audit
from ektp.regions.models import Region
from ektp.residents.models import (
    Citizenship,
    Family,
    FamilyRelation,
    LifeStatus,
    MaritalStatus,
    Religion,
    Resident,
    Sex,
)
from ektp.residents.nik import InvalidNumber, check_nik_matches, parse_kk, parse_nik


class ResidentInvalid(DomainError, ValueError):
    """The data breaks one or more registry rules; `errors` maps field -> messages."""

    rule = "resident_invalid"

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        # The API names each broken rule on its own: "field: message; field: message".
        self.message = "; ".join(f"{f}: {m}" for f, ms in errors.items() for m in ms)


NAME_RE = re.compile(r"^[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F .,'`-]*$")
RT_RW_RE = re.compile(r"^[0-9]{1,3}$")
PHONE_RE = re.compile(r"^(\+62|62|0)8[0-9]{7,12}$")

EDITABLE_FIELDS = [
    "name",
    "birth_place",
    "birth_date",
    "sex",
    "marital_status",
    "religion",
    "occupation",
    "citizenship",
    "has_itap",
    "mother_name",
    "address_region",
    "rt",
    "rw",
    "street",
    "phone",
    "email",
    "life_status",
    "family_relation",
]
MAX_LENGTHS = {
    "name": 100,
    "birth_place": 60,
    "occupation": 60,
    "mother_name": 100,
    "street": 200,
    "phone": 20,
    "email": 120,
}
CHOICES = {
    "sex": Sex,
    "marital_status": MaritalStatus,
    "religion": Religion,
    "citizenship": Citizenship,
    "life_status": LifeStatus,
    "family_relation": FamilyRelation,
}


@dataclass
class Checked:
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    kk_number: str | None = None


def _text(data: Mapping, name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def validate_resident(
    data: Mapping[str, Any],
    *,
    actor: User,
    existing: Resident | None = None,
    today: dt.date | None = None,
) -> Checked:
    """Check resident data against every rule; raise ResidentInvalid listing each broken one."""
    today = today or dt.date.today()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    warnings: list[str] = []

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, limit in MAX_LENGTHS.items():
        if len(_text(data, name)) > limit:
            fail(name, f"Paling banyak {limit} karakter.")

    for name in ("name", "mother_name"):
        text = " ".join(_text(data, name).split()).upper()
        if not text:
            fail(name, "Wajib diisi.")
        elif not NAME_RE.match(text):
            fail(name, "Hanya huruf, spasi, titik, koma, apostrof dan tanda hubung.")
        values[name] = text
    birth_place = _text(data, "birth_place").upper()
    if not birth_place:
        fail("birth_place", "Wajib diisi.")
    values["birth_place"] = birth_place

    birth_date = data.get("birth_date")
    if isinstance(birth_date, str):
        try:
            birth_date = dt.date.fromisoformat(birth_date)
        except ValueError:
            birth_date = None
            fail("birth_date", "Tanggal lahir bukan tanggal yang sah (format TTTT-BB-HH).")
    if isinstance(birth_date, dt.datetime):
        birth_date = birth_date.date()
    if birth_date is None and "birth_date" not in errors:
        fail("birth_date", "Wajib diisi.")
    elif birth_date is not None:
        if birth_date > today:
            fail("birth_date", "Tanggal lahir tidak boleh di masa depan.")
        elif birth_date.year < 1900:
            fail("birth_date", "Tanggal lahir sebelum tahun 1900 tidak diterima.")
    values["birth_date"] = birth_date

    for name, choices in CHOICES.items():
        value = _text(data, name)
        if not value and name in (
            "life_status",
            "family_relation",
            "citizenship",
            "marital_status",
        ):
            value = {
                "life_status": LifeStatus.ALIVE,
                "family_relation": FamilyRelation.HEAD,
                "citizenship": Citizenship.WNI,
                "marital_status": MaritalStatus.SINGLE,
            }[name]
        if value not in choices.values:
            fail(name, "Pilih salah satu pilihan yang tersedia.")
        values[name] = value
    values["has_itap"] = bool(data.get("has_itap"))
    values["occupation"] = _text(data, "occupation").upper()
    values["street"] = _text(data, "street")

    for name in ("rt", "rw"):
        value = _text(data, name)
        if not RT_RW_RE.match(value) or int(value) == 0:
            fail(name, f"{name.upper()} berupa angka 1–3 digit, bukan 0.")
        values[name] = value.zfill(3) if value.isdigit() else value

    region_code = _text(data, "address_region")
    region = Region.objects.filter(code=region_code).first() if region_code else None
    if region is None:
        fail("address_region", f"Kode desa/kelurahan '{region_code[:20]}' tidak dikenal.")
    elif region.level != Region.Level.DESA:
        fail(
            "address_region",
            "Alamat harus berupa desa/kelurahan (kode 10 digit, mis. 18.09.01.2001).",
        )
    elif region.valid_to is not None:
        fail("address_region", "Kode desa/kelurahan ini sudah tidak berlaku.")
    elif not within_jurisdiction(actor, region.code):
        fail("address_region", "Desa/kelurahan ini berada di luar wilayah kerja Anda.")
    values["address_region"] = region

    phone = re.sub(r"[\s-]", "", _text(data, "phone"))
    if phone and not PHONE_RE.match(phone):
        fail("phone", "Nomor HP tidak sah (contoh: 081234567890 atau +6281234567890).")
    values["phone"] = phone
    email = _text(data, "email")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            fail("email", "Alamat email tidak sah.")
    values["email"] = email.lower()

    if existing is None:
        nik = _text(data, "nik")
        try:
            info = parse_nik(nik)
            warnings.extend(info.warnings)
            if birth_date and values.get("sex") in ("L", "P") and "birth_date" not in errors:
                check_nik_matches(info, birth_date=birth_date, sex=values["sex"])
            if Resident.objects.filter(nik=nik).exists():
                fail("nik", f"NIK {nik} sudah terdaftar.")
        except InvalidNumber as exc:
            fail("nik", exc.message)
        values["nik"] = nik
    elif birth_date and values.get("sex") in ("L", "P"):
        try:
            check_nik_matches(parse_nik(existing.nik), birth_date=birth_date, sex=values["sex"])
        except InvalidNumber as exc:
            fail("birth_date" if exc.rule == "birth_date_mismatch" else "sex", exc.message)

    kk_number = _text(data, "kk_number") or None
    if kk_number:
        try:
            kk = parse_kk(kk_number, today=today)
            warnings.extend(w for w in kk.warnings if w not in warnings)
        except InvalidNumber as exc:
            fail("kk_number", exc.message)

    if errors:
        raise ResidentInvalid(errors)
    return Checked(values=values, warnings=warnings, kk_number=kk_number)


def _family_for(checked: Checked) -> Family | None:
    if not checked.kk_number:
        return None
    family = Family.objects.filter(kk_number=checked.kk_number).first()
    if family is None:
        v = checked.values
        family = Family(
            kk_number=checked.kk_number,
            issued_on=parse_kk(checked.kk_number).issued_on,
            address_region=v["address_region"],
            rt=v["rt"],
            rw=v["rw"],
            street=v["street"],
        )
        family.set_region_codes()
        family.save()
    return family


def create_resident(
    *, actor: User, data: Mapping[str, Any], request=None
) -> tuple[Resident, list[str]]:
    """Register a new resident; return it with any warnings (e.g. an old region prefix)."""
    checked = validate_resident(data, actor=actor)
    try:
        with transaction.atomic():
            resident = Resident(created_by=actor, **checked.values)
            resident.family = _family_for(checked)
            resident.set_region_codes()
            resident.save()
            record_audit(
                user=actor,
                action=AuditEvent.Action.CREATE,
                object_type="resident",
                object_id=resident.nik,
                request=request,
            )
    except IntegrityError:
        # A second operator registered the same NIK between our check and our insert.
        raise ResidentInvalid({"nik": [f"NIK {checked.values['nik']} sudah terdaftar."]}) from None
    return resident, checked.warnings


def update_resident(
    *, actor: User, resident: Resident, data: Mapping[str, Any], request=None
) -> tuple[Resident, list[str]]:
    """Change a resident's data (not the NIK); audit which fields changed."""
    if not within_jurisdiction(actor, resident.address_region_id):
        raise ResidentInvalid({"__all__": ["Penduduk ini berada di luar wilayah kerja Anda."]})
    checked = validate_resident(data, actor=actor, existing=resident)
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        changed = []
        for name, value in checked.values.items():
            before = getattr(locked, name)
            if before != value:
                changed.append(name)
                setattr(locked, name, value)
        family = _family_for(checked)
        if family is not None and locked.family_id != family.id:
            locked.family = family
            changed.append("family")
        locked.set_region_codes()
        locked.save()
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="resident",
            object_id=locked.nik,
            request=request,
            detail={"fields": changed},
        )
    return locked, checked.warnings
