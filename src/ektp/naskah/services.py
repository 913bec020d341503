"""Writes for naskah dinas: the letterhead a head of office keeps, and numbers for letters.

A number is taken under a row lock on the office's sequence of the year, so two clerks who
number letters at the same moment get consecutive numbers, never the same one, never a gap.
"""

from __future__ import annotations

import datetime as dt
import re
import string

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from ektp.core.access import within_jurisdiction
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.naskah.errors import NaskahError, NaskahForbidden
from ektp.naskah.models import Letter, Letterhead, LetterSequence
from ektp.offices.models import Office

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
NUMBER_FIELDS = {"kode", "nomor", "bulan", "tahun"}
LETTERHEAD_EDITORS = {Role.SUPERVISOR, Role.SYSTEM_ADMIN}
NIP = re.compile(r"[0-9]{18}")


def _check_office(actor: User, office: Office) -> None:
    if not within_jurisdiction(actor, office.region_id):
        raise NaskahForbidden(f"{office.name} berada di luar wilayah kerja Anda.")


def check_number_format(text: str) -> str:
    """Return a letter-number format that names only known parts and holds {nomor} once."""
    text = (text or "").strip()
    if not text or len(text) > 100:
        raise NaskahError("Format nomor surat wajib diisi, paling banyak 100 karakter.")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise NaskahError("Format nomor surat tidak sah: periksa tanda kurung kurawal.") from None
    names = [name for _, name, _, _ in parts if name is not None]
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in NUMBER_FIELDS or spec or conversion:
            raise NaskahError(
                f"Unsur {{{name}}} tidak dikenal; pakai {{kode}}, {{nomor}}, {{bulan}}, {{tahun}}."
            )
    if names.count("nomor") != 1:
        raise NaskahError("Format nomor surat harus memuat {nomor} tepat satu kali.")
    return text


def format_letter_number(letterhead: Letterhead, *, sequence: int, on: dt.date) -> str:
    """Write a letter number from the office's format, e.g. 470/0001/Disdukcapil/XII/2026."""
    return letterhead.number_format.format(
        kode=letterhead.classification,
        nomor=f"{sequence:04d}",
        bulan=ROMAN[on.month - 1],
        tahun=on.year,
    )


def check_nip(nip: str) -> str:
    nip = "".join((nip or "").split())
    if not NIP.fullmatch(nip):
        raise NaskahError("NIP harus 18 angka.")
    try:
        dt.date(int(nip[:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        raise NaskahError(
            "NIP tidak sah: 8 angka pertama harus tanggal lahir (TTTTBBHH)."
        ) from None
    if not 1 <= int(nip[12:14]) <= 12 or nip[14] not in "12":
        raise NaskahError("NIP tidak sah: bulan pengangkatan atau kode jenis kelamin salah.")
    return nip


def _text(value: str, label: str, limit: int, *, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise NaskahError(f"{label} wajib diisi.")
    if len(value) > limit:
        raise NaskahError(f"{label} paling banyak {limit} karakter.")
    return value


def save_letterhead(
    *,
    actor: User,
    office: Office,
    government: str,
    agency: str,
    address: str,
    phone: str,
    email: str,
    city: str,
    head_name: str,
    head_title: str,
    head_rank: str,
    head_nip: str,
    classification: str,
    number_format: str,
    request=None,
) -> Letterhead:
    """Keep the office's letterhead and the head's signature block (head of office only)."""
    if actor.role not in LETTERHEAD_EDITORS:
        raise NaskahForbidden("Hanya kepala dinas / supervisor yang boleh mengubah kop surat.")
    _check_office(actor, office)
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise NaskahError("Alamat surel tidak sah.") from None
    fields = {
        "government": _text(government, "Baris pemerintah", 150),
        "agency": _text(agency, "Nama dinas", 150),
        "phone": _text(phone, "Telepon", 40, required=False),
        "email": email[:100],
        "city": _text(city, "Tempat surat", 60),
        "head_name": _text(head_name, "Nama kepala dinas", 100),
        "head_title": _text(head_title, "Jabatan", 150),
        "head_rank": _text(head_rank, "Pangkat/golongan", 60),
        "head_nip": check_nip(head_nip),
        "classification": _text(classification, "Kode klasifikasi", 20),
        "number_format": check_number_format(number_format),
        "updated_by": actor,
    }
    address = _text(address, "Alamat kantor", 250)
    with transaction.atomic():
        letterhead, _ = Letterhead.objects.update_or_create(office=office, defaults=fields)
        if office.address != address:
            office.address = address
            office.save(update_fields=["address"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="letterhead",
            object_id=str(office.pk),
            request=request,
            detail={"head_nip": fields["head_nip"], "number_format": fields["number_format"]},
        )
    return letterhead


def number_letter(
    *, office: Office, kind: str, subject_id, perihal: str, actor: User, on: dt.date | None = None
) -> Letter:
    """Give a document its letter number, once: the same document keeps the number it got."""
    from ektp.naskah.selectors import letter_for, letterhead_of

    _check_office(actor, office)
    if kind not in Letter.Kind.values:
        raise NaskahError(f"Jenis surat '{str(kind)[:20]}' tidak dikenal.")
    existing = letter_for(kind=kind, subject_id=subject_id)
    if existing is not None:
        return existing
    on = on or timezone.localdate()
    with transaction.atomic():
        LetterSequence.objects.get_or_create(office=office, year=on.year)
        sequence = LetterSequence.objects.select_for_update().get(office=office, year=on.year)
        # Under the lock: a second request for the same document waited here and finds it.
        existing = letter_for(kind=kind, subject_id=subject_id)
        if existing is not None:
            return existing
        sequence.last += 1
        sequence.save(update_fields=["last"])
        number = format_letter_number(letterhead_of(office), sequence=sequence.last, on=on)
        return Letter.objects.create(
            office=office,
            year=on.year,
            sequence=sequence.last,
            number=number,
            kind=kind,
            subject_id=str(subject_id),
            perihal=perihal[:200],
            created_by=actor,
        )


def number_request_letter(*, blank_request, actor: User) -> Letter:
    """Number the letter of a submitted blank request (dated the day it was submitted)."""
    from ektp.naskah.documents import REQUEST_PERIHAL

    if blank_request.submitted_at is None:
        raise NaskahError("Permohonan ini masih draf; nomor surat diberikan saat diajukan.")
    return number_letter(
        office=blank_request.office,
        kind=Letter.Kind.BLANK_REQUEST,
        subject_id=blank_request.pk,
        perihal=REQUEST_PERIHAL,
        actor=actor,
        on=timezone.localdate(blank_request.submitted_at),
    )


def number_receipt(*, card, actor: User) -> Letter:
    """Number the tanda terima of a handed-over card (dated the day of the hand-over)."""
    from ektp.naskah.documents import RECEIPT_PERIHAL

    if card.handed_over_at is None:
        raise NaskahError("Kartu ini belum diserahkan; tanda terima dibuat saat penyerahan.")
    return number_letter(
        office=card.service_point.office,
        kind=Letter.Kind.HANDOVER_RECEIPT,
        subject_id=card.pk,
        perihal=f"{RECEIPT_PERIHAL} {card.resident.name}",
        actor=actor,
        on=timezone.localdate(card.handed_over_at),
    )
