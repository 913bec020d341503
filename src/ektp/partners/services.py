"""Writes for partner data: stage a file, apply it in one transaction, elections, IKD
activations and targets, voters resolved by the office."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.appointments.models import InvitationBatch
from ektp.appointments.services import AppointmentError, invite_residents
from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.coverage.stats import bump_villages, forget_counts
from ektp.offices.models import ServicePoint
from ektp.partners.files import read_lines
from ektp.partners.models import (
    Election,
    IkdActivation,
    IkdDenominator,
    IkdTarget,
    ImportKind,
    MaritalChange,
    Marriage,
    Match,
    PartnerImport,
    StagedRow,
    Voter,
)
from ektp.partners.staging import Checker, marriage_change
from ektp.regions.models import Region
from ektp.residents.models import RECORDED_STATUSES, MaritalStatus, Resident

IMPORTERS = {Role.SUPERVISOR, Role.SYSTEM_ADMIN}
IKD_RECORDERS = {Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN}


class PartnerError(DomainError, ValueError):
    """A partner import, an election, an IKD activation or target breaks a rule."""

    rule = "partner"


class AlreadyApplied(PartnerError):
    rule = "already_applied"
    status = 409


def _require(actor: User, roles: set[str], what: str) -> None:
    if actor.role not in roles:
        raise PartnerError(f"Peran Anda tidak boleh {what}.", rule="role", status=403)


def _district(actor: User, code: str) -> Region:
    region = Region.objects.filter(code=code, level=Region.Level.KABKOTA).first()
    if region is None:
        raise PartnerError(f"Kabupaten/kota {code[:20]} tidak dikenal.", rule="region")
    if not within_jurisdiction(actor, region.code):
        raise PartnerError("Kabupaten/kota itu di luar wilayah kerja Anda.", rule="jurisdiction")
    return region


def create_election(*, actor: User, kabkota_code: str, name: str, polling_day: dt.date) -> Election:
    """Register an election of a district with its polling day (or return the same one)."""
    _require(actor, IMPORTERS, "mencatat pemilihan")
    region = _district(actor, kabkota_code)
    name = " ".join((name or "").split())[:150]
    if not name:
        raise PartnerError("Nama pemilihan wajib diisi.", rule="name")
    election, _created = Election.objects.get_or_create(
        kabkota=region, name=name, polling_day=polling_day, defaults={"created_by": actor}
    )
    return election


def stage_import(
    *,
    actor: User,
    kind: str,
    kabkota_code: str,
    file_name: str,
    content: bytes,
    election: Election | None = None,
    today: dt.date | None = None,
) -> PartnerImport:
    """Read a partner file into staging, check and match every line; change nothing else."""
    _require(actor, IMPORTERS, "mengimpor data mitra")
    region = _district(actor, kabkota_code)
    if kind == ImportKind.VOTERS and election is None:
        raise PartnerError("Daftar pemilih memerlukan pemilihan dan hari pemungutan suaranya.")
    if election is not None and election.kabkota_id != region.code:
        raise PartnerError("Pemilihan itu bukan milik kabupaten/kota ini.", rule="election")
    _header, lines = read_lines(content, kind=kind)
    checker = Checker(
        kind=kind,
        kabkota=region.code,
        today=today or timezone.localdate(),
        election=election if kind == ImportKind.VOTERS else None,
    )
    rows = checker.stage(lines)
    with transaction.atomic():
        staged = PartnerImport.objects.create(
            kind=kind,
            kabkota=region,
            election=election if kind == ImportKind.VOTERS else None,
            file_name=(file_name or "berkas")[-200:],
            sha256=hashlib.sha256(content).hexdigest(),
            total_lines=len(lines),
            created_by=actor,
        )
        for row in rows:
            row.partner_import = staged
        StagedRow.objects.bulk_create(rows, batch_size=5000)
    return staged


def discard_import(*, actor: User, partner_import: PartnerImport) -> PartnerImport:
    """Drop a staged import that will not be applied (its rows go with it)."""
    _require(actor, IMPORTERS, "membatalkan impor")
    with transaction.atomic():
        locked = PartnerImport.objects.select_for_update().get(pk=partner_import.pk)
        if locked.status != PartnerImport.Status.STAGED:
            raise PartnerError("Hanya impor yang belum diterapkan yang dapat dibatalkan.")
        locked.rows.all().delete()
        locked.status = PartnerImport.Status.DISCARDED
        locked.save(update_fields=["status"])
    return locked


def earlier_application(partner_import: PartnerImport) -> PartnerImport | None:
    """Return the import that already applied the same file, if any."""
    return (
        PartnerImport.objects.filter(
            kind=partner_import.kind,
            kabkota_id=partner_import.kabkota_id,
            sha256=partner_import.sha256,
            election_id=partner_import.election_id,
            status=PartnerImport.Status.APPLIED,
        )
        .exclude(pk=partner_import.pk)
        .first()
    )


def apply_import(
    *, actor: User, partner_import: PartnerImport, request=None, now: dt.datetime | None = None
) -> PartnerImport:
    """Apply a staged import in one transaction, audited as one import with its file's hash.

    The same file applied again changes nothing (AlreadyApplied); lines with a problem are
    skipped; a failure anywhere leaves nothing behind."""
    _require(actor, IMPORTERS, "menerapkan impor")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            locked = PartnerImport.objects.select_for_update().get(pk=partner_import.pk)
            _district(actor, locked.kabkota_id)
            if locked.status != PartnerImport.Status.STAGED:
                raise PartnerError("Impor ini sudah diterapkan atau dibatalkan.", rule="status")
            earlier = earlier_application(locked)
            if earlier is not None:
                raise AlreadyApplied(
                    f"Berkas yang sama sudah diterapkan pada {timezone.localtime(earlier.applied_at):%d-%m-%Y %H:%M}"
                    " : tidak ada yang diubah."
                )
            apply = {
                ImportKind.MARRIAGES: _apply_marriages,
                ImportKind.VOTERS: _apply_voters,
                ImportKind.IKD: _apply_ikd,
            }[locked.kind]
            result = apply(locked, actor=actor, now=now)
            locked.status = PartnerImport.Status.APPLIED
            locked.applied_at = now
            locked.applied_by = actor
            locked.result = result
            locked.save(update_fields=["status", "applied_at", "applied_by", "result"])
            record_audit(
                user=actor,
                action=AuditEvent.Action.CREATE,
                object_type="partner_import",
                object_id=str(locked.pk),
                request=request,
                detail={
                    "kind": locked.kind,
                    "file": locked.file_name,
                    "sha256": locked.sha256,
                    **{k: v for k, v in result.items() if isinstance(v, int)},
                },
            )
            transaction.on_commit(forget_counts)
    except IntegrityError:
        # A second apply of the same file (or another write to the same rows) won the race.
        if earlier_application(partner_import) is not None:
            raise AlreadyApplied(
                "Berkas yang sama sudah diterapkan: tidak ada yang diubah."
            ) from None
        raise PartnerError(
            "Impor bertabrakan dengan perubahan lain pada saat yang sama: tidak ada yang "
            "diubah, coba terapkan lagi.",
            rule="conflict",
            status=409,
        ) from None
    return locked


def _usable(partner_import: PartnerImport):
    return partner_import.rows.filter(match__in=[Match.NIK, Match.DEDUP])


def _invitation_point(partner_import: PartnerImport) -> ServicePoint | None:
    points = ServicePoint.objects.filter(
        office__region_id=partner_import.kabkota_id, is_active=True
    ).order_by("code")
    return points.filter(kind=ServicePoint.Kind.OFFICE).first() or points.first()


def _apply_marriages(partner_import: PartnerImport, *, actor: User, now) -> dict:
    rows = list(partner_import.rows.exclude(match=Match.INVALID).order_by("line", "role"))
    by_line: dict[int, list[StagedRow]] = {}
    for row in rows:
        by_line.setdefault(row.line, []).append(row)
    result = {"marriages": 0, "status_changed": 0, "became_wajib_ktp": 0, "invited": 0}
    to_invite: list[Resident] = []
    for line, spouses in sorted(by_line.items()):
        data = spouses[0].data
        husband = next((r for r in spouses if r.role == "suami"), None)
        wife = next((r for r in spouses if r.role == "istri"), None)
        marriage, created = Marriage.objects.get_or_create(
            certificate=data["no_akta"],
            kua=data["kua"],
            defaults={
                "married_on": dt.date.fromisoformat(data["tanggal_nikah"]),
                "husband_id": husband.resident_id if husband else None,
                "wife_id": wife.resident_id if wife else None,
                "partner_import": partner_import,
                "line": line,
            },
        )
        if not created:
            continue  # already evidence of an earlier import: changes nothing
        result["marriages"] += 1
        for row in spouses:
            if row.resident_id is None or row.match not in (Match.NIK, Match.DEDUP):
                continue
            resident = Resident.objects.select_for_update().get(pk=row.resident_id)
            changes = marriage_change(resident, marriage.married_on)
            if not changes:
                continue
            before = resident.marital_status
            resident.marital_status = MaritalStatus.MARRIED
            resident.save(update_fields=["marital_status", "updated_at"])
            MaritalChange.objects.create(
                resident=resident,
                marriage=marriage,
                from_status=before,
                to_status=MaritalStatus.MARRIED,
                became_wajib_ktp="menjadi_wajib_ktp" in changes,
                at=now,
            )
            result["status_changed"] += 1
            if "menjadi_wajib_ktp" in changes:
                result["became_wajib_ktp"] += 1
            if changes.get("diundang_rekam"):
                to_invite.append(resident)
    result.update(_invite(partner_import, to_invite, actor=actor, now=now))
    return result


def _invite(partner_import, residents: list[Resident], *, actor: User, now) -> dict:
    """Invite residents a marriage made wajib KTP; a full calendar does not stop the import
    (the residents stay on the office's list of unrecorded wajib KTP)."""
    if not residents:
        return {"invited": 0}
    point = _invitation_point(partner_import)
    if point is None:
        return {
            "invited": 0,
            "not_invited": len(residents),
            "invitation_note": "Tidak ada titik layanan.",
        }
    try:
        with transaction.atomic():
            batch = invite_residents(
                point=point,
                residents=residents,
                kind=InvitationBatch.Kind.MARRIED,
                reference_day=timezone.localdate(now),
                first_day=timezone.localdate(now) + dt.timedelta(days=1),
                actor=actor,
                now=now,
            )
    except AppointmentError as exc:
        return {"invited": 0, "not_invited": len(residents), "invitation_note": exc.message}
    invited = batch.invitations.count()
    return {
        "invited": invited,
        "not_invited": len(residents) - invited,
        "invitation_batch": str(batch.pk),
    }


def _apply_voters(partner_import: PartnerImport, *, actor: User, now) -> dict:
    election = partner_import.election
    voters = []
    standing = {
        Match.NIK: Voter.Standing.RESIDENT,
        Match.DEDUP: Voter.Standing.RESIDENT,
        Match.NONE: Voter.Standing.UNKNOWN,
        Match.ELSEWHERE: Voter.Standing.ELSEWHERE,
    }
    rows = partner_import.rows.exclude(match=Match.INVALID).values_list(
        "data", "match", "resident_id"
    )
    for data, match, resident_id in rows.iterator(chunk_size=5000):
        voters.append(
            Voter(
                election=election,
                nik=data["nik"],
                name=data["nama"],
                birth_date=dt.date.fromisoformat(data["tanggal_lahir"]),
                village_id=data["kode_desa"],
                tps=data.get("tps", ""),
                resident_id=resident_id,
                standing=standing[match],
            )
        )
    before = Voter.objects.filter(election=election).count()
    # A voter already on this election's list from an earlier file stays as it was.
    Voter.objects.bulk_create(voters, batch_size=5000, ignore_conflicts=True)
    added = Voter.objects.filter(election=election).count() - before
    return {"voters": added, "already_listed": len(voters) - added}


def _apply_ikd(partner_import: PartnerImport, *, actor: User, now) -> dict:
    activations = []
    wanted = {
        row.resident_id: row
        for row in _usable(partner_import).only("resident_id", "data", "changes")
        if row.changes.get("aktivasi_ikd")
    }
    locked = Resident.objects.select_for_update().filter(pk__in=list(wanted)).order_by("pk")
    for resident in locked:
        row = wanted[resident.pk]
        if resident.ktp_status not in RECORDED_STATUSES or resident.ikd_activated_at:
            continue
        activations.append(
            IkdActivation(
                resident=resident,
                channel=row.data["cara"],
                place=row.data["tempat"],
                activated_on=dt.date.fromisoformat(row.data["tanggal_aktivasi"]),
                officer=actor,
                created_at=now,
            )
        )
    created = IkdActivation.objects.bulk_create(activations)
    for activation in created:
        _mark_activated(activation)
    # Marked in bulk, past the residents' save signals: today's kept IKD counts of their
    # villages go stale here, in the import's transaction.
    bump_villages(
        Resident.objects.filter(pk__in=[a.resident_id for a in created])
        .values_list("address_region_id", flat=True)
        .distinct()
    )
    return {"activations": len(created)}


def _activated_at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _mark_activated(activation: IkdActivation) -> None:
    Resident.objects.filter(pk=activation.resident_id, ikd_activated_at__isnull=True).update(
        ikd_activated_at=_activated_at(activation.activated_on)
    )


def record_ikd_activation(
    *,
    actor: User,
    nik: str,
    channel: str,
    place: str,
    activated_on: dt.date,
    request=None,
) -> IkdActivation:
    """Record a resident's IKD activation at a counter or by an outreach team; refused
    unless the resident holds a recorded KTP-el."""
    _require(actor, IKD_RECORDERS, "mencatat aktivasi IKD")
    if channel not in IkdActivation.Channel.values:
        raise PartnerError("Cara aktivasi harus loket atau jemput bola.", rule="channel")
    place = " ".join((place or "").split())[:150]
    if not place:
        raise PartnerError("Tempat aktivasi wajib diisi.", rule="place")
    if activated_on > timezone.localdate():
        raise PartnerError("Tanggal aktivasi tidak boleh di masa depan.", rule="date")
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(nik=nik).first()
        if resident is None or not within_jurisdiction(actor, resident.address_region_id):
            raise PartnerError("Penduduk dengan NIK itu tidak ditemukan.", rule="nik", status=404)
        if resident.ktp_status not in RECORDED_STATUSES or resident.recorded_on is None:
            raise PartnerError(
                "Penduduk ini belum rekam KTP-el: IKD hanya dapat diaktifkan setelah perekaman.",
                rule="not_recorded",
            )
        if activated_on < resident.recorded_on:
            raise PartnerError("Tanggal aktivasi sebelum tanggal perekaman.", rule="date")
        if resident.ikd_activated_at is not None:
            raise PartnerError("IKD penduduk ini sudah aktif.", rule="already_active", status=409)
        activation = IkdActivation.objects.create(
            resident=resident,
            channel=channel,
            place=place,
            activated_on=activated_on,
            officer=actor,
        )
        resident.ikd_activated_at = _activated_at(activated_on)
        resident.save(update_fields=["ikd_activated_at", "updated_at"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="ikd_activation",
            object_id=resident.nik,
            request=request,
            detail={"channel": channel},
        )
    return activation


def set_ikd_target(
    *, actor: User, kecamatan_code: str, rate, denominator: str, due_date: dt.date
) -> IkdTarget:
    """Set (or change) a kecamatan's IKD activation target, saying what it is a share of."""
    _require(actor, IMPORTERS, "menetapkan target IKD")
    region = Region.objects.filter(code=kecamatan_code, level=Region.Level.KECAMATAN).first()
    if region is None:
        raise PartnerError(f"Kecamatan {kecamatan_code[:20]} tidak dikenal.", rule="region")
    if not within_jurisdiction(actor, region.code):
        raise PartnerError("Kecamatan itu di luar wilayah kerja Anda.", rule="jurisdiction")
    if denominator not in IkdDenominator.values:
        raise PartnerError(
            "Penyebut harus pemegang KTP-el atau seluruh wajib KTP.", rule="denominator"
        )
    try:
        rate = Decimal(str(rate).replace(",", "."))
    except InvalidOperation:
        raise PartnerError("Target harus berupa angka persen.", rule="rate") from None
    if not rate.is_finite() or not (0 < rate <= 100):
        raise PartnerError("Target harus lebih dari 0 dan paling banyak 100 %.", rule="rate")
    with transaction.atomic():
        target, _created = IkdTarget.objects.select_for_update().update_or_create(
            kecamatan=region,
            defaults={
                "rate": rate.quantize(Decimal("0.01")),
                "denominator": denominator,
                "due_date": due_date,
                "set_by": actor,
                "set_at": timezone.now(),
            },
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="ikd_target",
            object_id=region.code,
            detail={"rate": str(target.rate), "denominator": denominator},
        )
    return target


def resolve_voter(*, actor: User, voter: Voter, note: str) -> Voter:
    """Mark a voter the registry does not know (or knows elsewhere) as resolved by the office."""
    _require(actor, IMPORTERS | {Role.OPERATOR}, "menindaklanjuti daftar pemilih")
    note = " ".join((note or "").split())[:300]
    if not note:
        raise PartnerError("Tulis tindak lanjutnya.", rule="note")
    with transaction.atomic():
        locked = Voter.objects.select_for_update().get(pk=voter.pk)
        if not within_jurisdiction(actor, locked.village_id):
            raise PartnerError("Pemilih itu di luar wilayah kerja Anda.", rule="jurisdiction")
        locked.resolved_at = timezone.now()
        locked.resolved_note = note
        locked.save(update_fields=["resolved_at", "resolved_note"])
    return locked
