"""Writes for jemput bola: special-needs flags, zone closures, visit plans and results."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.offices.models import ServicePoint
from ektp.outreach.models import OutreachVisit, SpecialNeed, ZoneClosure
from ektp.outreach.selectors import closure_for
from ektp.regions import codes
from ektp.regions.models import Region
from ektp.residents.models import Resident


class OutreachError(DomainError, ValueError):
    """A jemput bola write breaks a rule; the message says which, in Indonesian."""

    rule = "outreach"


PLANNERS = {Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}
RECORDERS = {Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN}


def _require(actor: User, roles: set[str], what: str) -> None:
    if actor.role not in roles:
        raise OutreachError(f"Peran Anda tidak boleh {what}.")


def _region(actor: User, code: str) -> Region:
    code = (code or "").strip()
    if not codes.is_valid_code(code):
        raise OutreachError(f"Kode wilayah '{code[:20]}' tidak berbentuk kode Kemendagri.")
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise OutreachError(f"Wilayah {code} tidak dikenal.")
    if not within_jurisdiction(actor, code):
        raise OutreachError(f"Wilayah {code} berada di luar wilayah kerja Anda.")
    return region


def _count(value, *, label: str, maximum: int = 100_000) -> int:
    if isinstance(value, bool):
        raise OutreachError(f"{label} harus bilangan bulat.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise OutreachError(f"{label} harus bilangan bulat.") from None
    if number < 0 or number > maximum:
        raise OutreachError(f"{label} harus antara 0 dan {maximum:,}.".replace(",", "."))
    return number


@transaction.atomic
def flag_special_need(*, actor: User, nik: str, kind: str, note: str = "") -> SpecialNeed:
    """Mark a resident for door-to-door service (disability, ODGJ, long illness)."""
    _require(actor, RECORDERS, "menandai kebutuhan khusus")
    if kind not in SpecialNeed.Kind.values:
        raise OutreachError("Jenis kebutuhan khusus harus disabilitas, odgj atau sakit_menahun.")
    resident = Resident.objects.filter(nik=(nik or "").strip()[:16]).first()
    if resident is None or not within_jurisdiction(actor, resident.address_region_id):
        raise OutreachError("Penduduk dengan NIK ini tidak ditemukan di wilayah kerja Anda.")
    need, created = SpecialNeed.objects.get_or_create(
        resident=resident, kind=kind, defaults={"note": (note or "")[:200], "created_by": actor}
    )
    if not created:
        raise OutreachError("Penduduk ini sudah ditandai dengan kebutuhan khusus yang sama.")
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="special_need",
        object_id=resident.nik,
    )
    return need


@transaction.atomic
def close_zone(
    *, actor: User, region_code: str, starts_on: dt.date, ends_on: dt.date | None, reason: str
) -> ZoneClosure:
    """Forbid visits to a region for a period."""
    _require(actor, PLANNERS, "menutup wilayah")
    region = _region(actor, region_code)
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 200:
        raise OutreachError("Alasan penutupan wajib diisi (paling banyak 200 karakter).")
    if ends_on is not None and ends_on < starts_on:
        raise OutreachError("Tanggal akhir penutupan tidak boleh sebelum tanggal mulai.")
    closure = ZoneClosure.objects.create(
        region=region, starts_on=starts_on, ends_on=ends_on, reason=reason, created_by=actor
    )
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="zone_closure",
        object_id=str(closure.pk),
        detail={"region": region.code, "reason": reason},
    )
    return closure


@transaction.atomic
def end_closure(*, actor: User, closure_id: int, ends_on: dt.date) -> ZoneClosure:
    """Open a closed region again from the day after `ends_on`."""
    _require(actor, PLANNERS, "membuka kembali wilayah")
    closure = ZoneClosure.objects.select_for_update().filter(pk=closure_id).first()
    if closure is None or not within_jurisdiction(actor, closure.region_id):
        raise OutreachError("Penutupan wilayah tidak ditemukan di wilayah kerja Anda.")
    if ends_on < closure.starts_on:
        raise OutreachError("Tanggal akhir penutupan tidak boleh sebelum tanggal mulai.")
    if closure.ends_on is not None and ends_on > closure.ends_on:
        raise OutreachError(
            f"Penutupan ini sudah berakhir {closure.ends_on:%d-%m-%Y}; tanggal akhir hanya "
            "boleh dimajukan."
        )
    closure.ends_on = ends_on
    closure.save(update_fields=["ends_on"])
    record_audit(
        user=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="zone_closure",
        object_id=str(closure.pk),
        detail={"ends_on": ends_on.isoformat()},
    )
    return closure


@transaction.atomic
def plan_visit(
    *,
    actor: User,
    village_code: str,
    date: dt.date,
    service_point_id,
    team: str,
    expected_people,
    blanks_to_carry,
    today: dt.date | None = None,
) -> OutreachVisit:
    """Plan a visit of a mobile unit of the village's own office to an open village."""
    _require(actor, PLANNERS, "merencanakan jemput bola")
    today = today or timezone.localdate()
    village = _region(actor, village_code)
    if village.level != Region.Level.DESA:
        raise OutreachError("Kunjungan direncanakan per desa/kelurahan.")
    if village.valid_to is not None:
        raise OutreachError("Desa/kelurahan ini sudah tidak berlaku.")
    if date < today:
        raise OutreachError("Tanggal kunjungan tidak boleh di masa lalu.")
    closure = closure_for(village.code, date)
    if closure is not None:
        raise OutreachError(
            f"Wilayah {closure.region_id} ditutup untuk kunjungan pada tanggal itu: {closure.reason}."
        )
    point = (
        ServicePoint.objects.select_related("office")
        .filter(pk=service_point_id, is_active=True)
        .first()
        if _is_uuid(service_point_id)
        else None
    )
    if point is None:
        raise OutreachError("Mobil keliling tidak ditemukan atau tidak aktif.")
    if point.kind != ServicePoint.Kind.MOBILE:
        raise OutreachError("Jemput bola memakai titik layanan berjenis mobil keliling.")
    if point.office.region_id != village.code[:5]:
        raise OutreachError("Mobil keliling harus milik kantor kabupaten/kota desa tersebut.")
    team = " ".join((team or "").split())
    if not team or len(team) > 300:
        raise OutreachError("Tim wajib diisi (paling banyak 300 karakter).")
    expected = _count(expected_people, label="Perkiraan orang")
    blanks = _count(blanks_to_carry, label="Blangko dibawa")
    try:
        with transaction.atomic():
            visit = OutreachVisit.objects.create(
                village=village,
                kabkota_code=village.code[:5],
                province_code=village.code[:2],
                date=date,
                service_point=point,
                team=team,
                expected_people=expected,
                blanks_to_carry=blanks,
                created_by=actor,
            )
    except IntegrityError:
        raise OutreachError(
            "Mobil keliling ini sudah dijadwalkan ke desa yang sama pada tanggal itu."
        ) from None
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="outreach_visit",
        object_id=str(visit.pk),
        detail={"village": village.code, "date": date.isoformat()},
    )
    return visit


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@transaction.atomic
def record_result(
    *, actor: User, visit_id, recorded_people, cards_printed=0, note: str = ""
) -> OutreachVisit:
    """Record what a visit achieved; a visit has one result."""
    _require(actor, RECORDERS, "mencatat hasil jemput bola")
    visit = (
        OutreachVisit.objects.select_for_update().filter(pk=visit_id).first()
        if _is_uuid(visit_id)
        else None
    )
    if visit is None or not within_jurisdiction(actor, visit.village_id):
        raise OutreachError("Kunjungan tidak ditemukan di wilayah kerja Anda.")
    if visit.status != OutreachVisit.Status.PLANNED:
        raise OutreachError("Hasil kunjungan ini sudah dicatat atau kunjungan dibatalkan.")
    if visit.date > timezone.localdate():
        raise OutreachError("Hasil tidak dapat dicatat sebelum tanggal kunjungan.")
    recorded = _count(recorded_people, label="Orang direkam")
    printed = _count(cards_printed, label="Kartu dicetak")
    if printed > visit.blanks_to_carry:
        raise OutreachError(
            f"Kartu dicetak ({printed}) melebihi blangko yang dibawa ({visit.blanks_to_carry})."
        )
    visit.recorded_people = recorded
    visit.cards_printed = printed
    visit.result_note = (note or "")[:500]
    visit.status = OutreachVisit.Status.DONE
    visit.result_recorded_at = timezone.now()
    visit.save()
    record_audit(
        user=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="outreach_visit",
        object_id=str(visit.pk),
        detail={"recorded": recorded, "printed": printed},
    )
    return visit
