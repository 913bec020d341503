"""Writes for residents: create and update with every registry rule checked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
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
from ektp.residents.nik import InvalidNumber, check_nik_matches, decode_nik, parse_kk


class ResidentInvalid(DomainError, ValueError):
    """The data breaks one or more registry rules; `errors` maps field -> messages."""

    rule = "resident_invalid"

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        # The API names each broken rule on its own: "field: message; field: message".
        self.message = "; ".join(f"{f}: {m}" for f, ms in errors.items() for m in ms)


# \A and \Z: "$" would also match before a final line break ("0812...\n").
NAME_RE = re.compile(r"\A[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F .,'`-]*\Z")
RT_RW_RE = re.compile(r"\A[0-9]{1,3}\Z")
PHONE_RE = re.compile(r"\A(\+62|62|0)8[0-9]{7,12}\Z")

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


@dataclass
class _Draft:
    """One resident's input as the rules read it, and what they make of it."""

    data: Mapping[str, Any]
    actor: User
    existing: Resident | None
    today: dt.date
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kk_number: str | None = None

    def text(self, name: str) -> str:
        return _text(self.data, name)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _lengths_within_limits(draft: _Draft) -> None:
    for name, limit in MAX_LENGTHS.items():
        if len(draft.text(name)) > limit:
            draft.fail(name, f"Paling banyak {limit} karakter.")


def _names_are_letters(draft: _Draft) -> None:
    for name in ("name", "mother_name"):
        text = " ".join(draft.text(name).split()).upper()
        if not text:
            draft.fail(name, "Wajib diisi.")
        elif not NAME_RE.match(text):
            draft.fail(name, "Hanya huruf, spasi, titik, koma, apostrof dan tanda hubung.")
        draft.values[name] = text


def _birth_place_given(draft: _Draft) -> None:
    birth_place = draft.text("birth_place").upper()
    if not birth_place:
        draft.fail("birth_place", "Wajib diisi.")
    draft.values["birth_place"] = birth_place


def _birth_date_is_a_past_date(draft: _Draft) -> None:
    birth_date = draft.data.get("birth_date")
    if isinstance(birth_date, str):
        try:
            birth_date = dt.date.fromisoformat(birth_date)
        except ValueError:
            birth_date = None
            draft.fail("birth_date", "Tanggal lahir bukan tanggal yang sah (format TTTT-BB-HH).")
    if isinstance(birth_date, dt.datetime):
        birth_date = birth_date.date()
    if birth_date is None and "birth_date" not in draft.errors:
        draft.fail("birth_date", "Wajib diisi.")
    elif birth_date is not None:
        if birth_date > draft.today:
            draft.fail("birth_date", "Tanggal lahir tidak boleh di masa depan.")
        elif birth_date.year < 1900:
            draft.fail("birth_date", "Tanggal lahir sebelum tahun 1900 tidak diterima.")
    draft.values["birth_date"] = birth_date


# An empty answer to these questions means the usual case.
CHOICE_DEFAULTS = {
    "life_status": LifeStatus.ALIVE,
    "family_relation": FamilyRelation.HEAD,
    "citizenship": Citizenship.WNI,
    "marital_status": MaritalStatus.SINGLE,
}


def _choices_are_known(draft: _Draft) -> None:
    for name, choices in CHOICES.items():
        value = draft.text(name) or CHOICE_DEFAULTS.get(name, "")
        if value not in choices.values:
            draft.fail(name, "Pilih salah satu pilihan yang tersedia.")
        draft.values[name] = value


def _free_text_kept(draft: _Draft) -> None:
    """Never refuses: the free-text fields only have their shape set (length is checked above)."""
    draft.values["has_itap"] = bool(draft.data.get("has_itap"))
    draft.values["occupation"] = draft.text("occupation").upper()
    draft.values["street"] = draft.text("street")


def _rt_rw_are_numbers(draft: _Draft) -> None:
    for name in ("rt", "rw"):
        value = draft.text(name)
        if not RT_RW_RE.match(value) or int(value) == 0:
            draft.fail(name, f"{name.upper()} berupa angka 1–3 digit, bukan 0.")
        draft.values[name] = value.zfill(3) if value.isdigit() else value


def _address_is_a_current_village_in_reach(draft: _Draft) -> None:
    region_code = draft.text("address_region")
    region = Region.objects.filter(code=region_code).first() if region_code else None
    if region is None:
        draft.fail("address_region", f"Kode desa/kelurahan '{region_code[:20]}' tidak dikenal.")
    elif region.level != Region.Level.DESA:
        draft.fail(
            "address_region",
            "Alamat harus berupa desa/kelurahan (kode 10 digit, mis. 18.09.01.2001).",
        )
    elif region.valid_to is not None:
        draft.fail("address_region", "Kode desa/kelurahan ini sudah tidak berlaku.")
    elif not within_jurisdiction(draft.actor, region.code):
        draft.fail("address_region", "Desa/kelurahan ini berada di luar wilayah kerja Anda.")
    draft.values["address_region"] = region


def _phone_is_a_mobile_number(draft: _Draft) -> None:
    phone = re.sub(r"[\s-]", "", draft.text("phone"))
    if phone and not PHONE_RE.match(phone):
        draft.fail("phone", "Nomor HP tidak sah (contoh: 081234567890 atau +6281234567890).")
    draft.values["phone"] = phone


def _email_is_an_address(draft: _Draft) -> None:
    email = draft.text("email")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            draft.fail("email", "Alamat email tidak sah.")
    draft.values["email"] = email.lower()


def _nik_is_new_and_matches(draft: _Draft) -> None:
    """A new resident's NIK is well formed, unused and agrees with the birth date and sex;
    an existing resident's NIK (which does not change) must still agree with them."""
    birth_date, sex = draft.values["birth_date"], draft.values.get("sex")
    if draft.existing is None:
        nik = draft.text("nik")
        try:
            info = decode_nik(nik)
            nik = info.nik
            draft.warnings.extend(info.warnings)
            if birth_date and sex in ("L", "P") and "birth_date" not in draft.errors:
                check_nik_matches(info, birth_date=birth_date, sex=sex)
            if Resident.objects.filter(nik=nik).exists():
                draft.fail("nik", f"NIK {nik} sudah terdaftar.")
        except InvalidNumber as exc:
            draft.fail("nik", exc.message)
        draft.values["nik"] = nik
    elif birth_date and sex in ("L", "P"):
        try:
            check_nik_matches(decode_nik(draft.existing.nik), birth_date=birth_date, sex=sex)
        except InvalidNumber as exc:
            draft.fail("birth_date" if exc.rule == "birth_date_mismatch" else "sex", exc.message)


def _kk_number_is_valid(draft: _Draft) -> None:
    draft.kk_number = draft.text("kk_number") or None
    if draft.kk_number:
        try:
            kk = parse_kk(draft.kk_number, today=draft.today)
            draft.warnings.extend(w for w in kk.warnings if w not in draft.warnings)
        except InvalidNumber as exc:
            draft.fail("kk_number", exc.message)


# The registry rules, in the order they run: later rules read the values earlier ones made
# (the NIK is checked against the birth date and sex), and the order of the fields in the
# values is the order an update reports its changed fields in.
RULES: tuple[Callable[[_Draft], None], ...] = (
    _lengths_within_limits,
    _names_are_letters,
    _birth_place_given,
    _birth_date_is_a_past_date,
    _choices_are_known,
    _free_text_kept,
    _rt_rw_are_numbers,
    _address_is_a_current_village_in_reach,
    _phone_is_a_mobile_number,
    _email_is_an_address,
    _nik_is_new_and_matches,
    _kk_number_is_valid,
)


def validate_resident(
    data: Mapping[str, Any],
    *,
    actor: User,
    existing: Resident | None = None,
    today: dt.date | None = None,
) -> Checked:
    """Check resident data against every rule; raise ResidentInvalid listing each broken one."""
    draft = _Draft(data=data, actor=actor, existing=existing, today=today or dt.date.today())
    for rule in RULES:
        rule(draft)
    if draft.errors:
        raise ResidentInvalid(draft.errors)
    return Checked(values=draft.values, warnings=draft.warnings, kk_number=draft.kk_number)


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
