"""Writes for suket: rules, issuance with a locked per-office number, voiding and revocation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.offices.models import Office
from ektp.regions.models import Region
from ektp.residents.models import Resident
from ektp.suket import signing
from ektp.suket.models import (
    Authority,
    RuleMode,
    Suket,
    SuketCounter,
    SuketRule,
    mask_name,
    mask_nik,
)
from ektp.suket.policy import Decision, SuketNotAllowed, decide, rule_in_force

__all__ = [
    "SuketForbidden",
    "SuketInvalid",
    "SuketNotAllowed",
    "issue_suket",
    "revoke_suket",
    "void_suket_for",
]

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
CLASSIFICATION = "474.11"
MAX_TEXT = 250


class SuketInvalid(DomainError, ValueError):
    """Input to a suket service breaks a rule (named in the message)."""

    rule = "suket_invalid"


class SuketForbidden(SuketNotAllowed):
    """The actor's role or jurisdiction does not allow the action, whatever the suket's state."""

    rule = "suket_forbidden"
    status = 403


def node_name() -> str:
    return settings.EKTP_NODE_ID


def _clean(text: str | None, *, limit: int = MAX_TEXT) -> str:
    return " ".join((text or "").split())[:limit]


def _check_office(actor: User, office: Office) -> None:
    if not within_jurisdiction(actor, office.region_id):
        raise SuketNotAllowed(f"{office.name} di luar wilayah kerja Anda.")


def format_number(*, office: Office, sequence: int, on: dt.date) -> str:
    """Write a suket number: 474.11/0001/SKT/1809/XI/2026 (the kab/kota code keeps it unique)."""
    region = office.region_id.replace(".", "")
    return f"{CLASSIFICATION}/{sequence:04d}/SKT/{region}/{ROMAN[on.month - 1]}/{on.year}"


def next_number(*, office: Office, on: dt.date) -> str:
    """Take the next number of the office's year; the counter row is locked until commit."""
    SuketCounter.objects.get_or_create(office=office, year=on.year)
    counter = SuketCounter.objects.select_for_update().get(office=office, year=on.year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return format_number(office=office, sequence=counter.last, on=on)


def address_of(resident: Resident) -> str:
    """Write a resident's address with RT/RW, village, kecamatan and kab/kota."""
    region = resident.address_region
    parts = [resident.street] if resident.street else []
    parts.append(f"RT {resident.rt}/RW {resident.rw}")
    while region is not None and region.level >= Region.Level.KABKOTA:
        parts.append(region.name)
        region = region.parent
    return ", ".join(parts)[:400]


def payload_fields(suket: Suket) -> dict[str, str]:
    """The fields the QR carries: number, masked NIK and name, last valid day, status at issue."""
    return {
        "number": suket.number,
        "nik": mask_nik(suket.nik),
        "name": mask_name(suket.name),
        "valid_until": suket.valid_until.isoformat(),
        "status": suket.status,
    }


def issue_suket(
    *,
    resident: Resident,
    office: Office,
    officer: User,
    technical_failure: str = "",
    purpose: str = "",
    at: dt.datetime | None = None,
    request=None,
) -> Suket:
    """Issue a suket when the rule in force allows it, or raise SuketNotAllowed with the reason.

    `at` is the time of issue where it happened (an edge node replaying); default now."""
    if officer.role not in (Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        raise SuketForbidden("Hanya operator atau supervisor kantor yang dapat menerbitkan suket.")
    _check_office(officer, office)
    technical_failure = _clean(technical_failure)
    purpose = _clean(purpose, limit=100)
    keys = signing.office_keys()
    with transaction.atomic():
        locked = (
            Resident.objects.select_for_update(of=("self",))
            .select_related("address_region__parent__parent")
            .get(pk=resident.pk)
        )
        if locked.kabkota_code != office.region_id:
            raise SuketNotAllowed(f"{locked.name} bukan penduduk wilayah {office.name}.")
        now = at or timezone.now()
        today = timezone.localdate(now)
        Suket.objects.filter(
            resident=locked, status=Suket.Status.VALID, valid_until__lt=today
        ).update(status=Suket.Status.EXPIRED, status_changed_at=now)
        current = Suket.objects.filter(resident=locked, status=Suket.Status.VALID).first()
        if current is not None:
            raise SuketNotAllowed(
                f"{locked.name} masih memiliki suket {current.number} yang berlaku sampai "
                f"{current.valid_until:%d-%m-%Y}."
            )
        decision: Decision = decide(
            resident=locked,
            office=office,
            on=today,
            technical_failure=technical_failure,
            purpose=purpose,
        )
        suket = Suket(
            number=next_number(office=office, on=today),
            resident=locked,
            nik=locked.nik,
            name=locked.name,
            birth_place=locked.birth_place,
            birth_date=locked.birth_date,
            sex=locked.sex,
            address=address_of(locked),
            recorded_on=locked.recorded_on,
            reason=decision.reason,
            reason_note=decision.note,
            purpose=purpose,
            rule=decision.in_force.rule,
            rule_source=decision.in_force.source,
            issued_at=now,
            issued_on=today,
            valid_until=decision.valid_until,
            office=office,
            officer=officer,
            kabkota_code=locked.kabkota_code,
            province_code=locked.province_code,
            node=node_name(),
        )
        suket.qr_payload = signing.sign_qr_payload(payload_fields(suket), keys.qr_private)
        suket.save(force_insert=True)
        record_audit(
            user=officer,
            action=AuditEvent.Action.CREATE,
            object_type="suket",
            object_id=suket.pk,
            request=request,
            detail={"number": suket.number, "nik": locked.nik, "reason": suket.reason},
        )
        suket_id = str(suket.pk)
        transaction.on_commit(lambda: _enqueue_delivery(suket_id))
    return suket


def _enqueue_delivery(suket_id: str) -> None:
    from ektp.suket.tasks import deliver_suket

    deliver_suket.enqueue(suket_id=suket_id)


def void_suket_for(resident: Resident, reason: str, *, actor: User | None = None) -> int:
    """Void the resident's valid suket (the card has been printed); return how many."""
    reason = _clean(reason) or "KTP-el sudah dicetak"
    with transaction.atomic():
        sukets = list(
            Suket.objects.select_for_update().filter(
                resident_id=resident.pk, status=Suket.Status.VALID
            )
        )
        now = timezone.now()
        for suket in sukets:
            suket.status = Suket.Status.VOIDED
            suket.status_reason = reason
            suket.status_changed_at = now
            suket.status_changed_by = actor
            suket.save(
                update_fields=[
                    "status",
                    "status_reason",
                    "status_changed_at",
                    "status_changed_by",
                ]
            )
            record_audit(
                user=actor,
                action=AuditEvent.Action.UPDATE,
                object_type="suket",
                object_id=suket.pk,
                detail={"number": suket.number, "status": "voided", "reason": reason},
            )
    return len(sukets)


def revoke_suket(*, suket: Suket, reason: str, actor: User, request=None) -> Suket:
    """Revoke a valid suket with a reason (supervisor)."""
    if actor.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        raise SuketForbidden("Hanya kepala dinas/supervisor yang dapat mencabut suket.")
    reason = _clean(reason)
    if len(reason) < 5:
        raise SuketInvalid("Alasan pencabutan wajib diisi (paling sedikit 5 karakter).")
    with transaction.atomic():
        locked = Suket.objects.select_for_update().select_related("office").get(pk=suket.pk)
        _check_office(actor, locked.office)
        today = timezone.localdate()
        if locked.current_status(today) != Suket.Status.VALID:
            raise SuketNotAllowed(
                f"Suket {locked.number} berstatus {locked.current_status_label(today).lower()}: "
                "tidak dapat dicabut."
            )
        locked.status = Suket.Status.REVOKED
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.status_changed_by = actor
        locked.save(
            update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"]
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="suket",
            object_id=locked.pk,
            request=request,
            detail={"number": locked.number, "status": "revoked", "reason": reason},
        )
    return locked


RULE_FIELDS = (
    "authority",
    "region",
    "title",
    "reference",
    "mode",
    "purpose",
    "effective_from",
    "effective_to",
    "issue_until",
    "valid_until",
    "valid_months",
)


def _parse_date(value: Any, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise SuketInvalid(f"{label}: tanggal tidak sah (format TTTT-BB-HH).") from exc


def _rule_region(*, actor: User, authority: str, code: Any) -> Region | None:
    """Return the region a rule of this authority covers (none for the ministry's), after
    checking that the actor may make such a rule there."""
    region_code = _clean(code or "", limit=13) or None
    if authority == Authority.MINISTRY:
        if region_code:
            raise SuketInvalid("Kebijakan kementerian berlaku nasional: wilayah harus kosong.")
        if actor.role != Role.SYSTEM_ADMIN or actor.jurisdiction_code is not None:
            raise SuketForbidden("Hanya admin sistem nasional yang membuat kebijakan kementerian.")
        return None
    level = Region.Level.PROVINSI if authority == Authority.PROVINCE else Region.Level.KABKOTA
    region = Region.objects.filter(code=region_code or "", level=level).first()
    if region is None:
        what = "provinsi" if level == Region.Level.PROVINSI else "kabupaten/kota"
        raise SuketInvalid(f"Wilayah harus kode {what} yang ada.")
    if not within_jurisdiction(actor, region.code):
        raise SuketForbidden(f"{region.name} di luar wilayah kerja Anda.")
    allowed = {
        Authority.PROVINCE: {Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN},
        Authority.OFFICE: {Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN},
    }[authority]
    if actor.role not in allowed:
        raise SuketForbidden("Peran Anda tidak dapat membuat kebijakan suket ini.")
    return region


def _rule_dates(
    data: dict[str, Any],
) -> tuple[dt.date, dt.date | None, dt.date | None, dt.date | None]:
    """Return a rule's effective_from, effective_to, issue_until and valid_until, in order."""
    effective_from = _parse_date(data.get("effective_from"), "Berlaku sejak")
    if effective_from is None:
        raise SuketInvalid("Berlaku sejak: wajib diisi.")
    effective_to = _parse_date(data.get("effective_to"), "Berlaku sampai")
    issue_until = _parse_date(data.get("issue_until"), "Penerbitan sampai")
    valid_until = _parse_date(data.get("valid_until"), "Suket berlaku sampai")
    if effective_to and effective_to < effective_from:
        raise SuketInvalid("Berlaku sampai tidak boleh sebelum berlaku sejak.")
    if issue_until and issue_until < effective_from:
        raise SuketInvalid("Penerbitan sampai tidak boleh sebelum berlaku sejak.")
    if valid_until and not issue_until:
        raise SuketInvalid("Tanggal akhir berlaku suket memerlukan tanggal akhir penerbitan.")
    if valid_until and issue_until and valid_until < issue_until:
        raise SuketInvalid("Suket berlaku sampai tidak boleh sebelum penerbitan sampai.")
    return effective_from, effective_to, issue_until, valid_until


def create_rule(*, actor: User, **data: Any) -> SuketRule:
    """Create a suket rule within the actor's authority, checking every field."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise SuketInvalid(f"Kolom tidak dikenal: {', '.join(sorted(unknown))}.")
    authority = data.get("authority")
    if authority not in Authority.values:
        raise SuketInvalid("Penerbit kebijakan harus ministry, province atau office.")
    region = _rule_region(actor=actor, authority=authority, code=data.get("region"))
    mode = data.get("mode")
    if mode not in RuleMode.values:
        raise SuketInvalid("Ketentuan harus allow, purpose_only atau forbid.")
    title = _clean(data.get("title"), limit=150)
    if not title:
        raise SuketInvalid("Judul kebijakan wajib diisi.")
    purpose = _clean(data.get("purpose"), limit=100)
    if mode == RuleMode.PURPOSE_ONLY and not purpose:
        raise SuketInvalid("Kebijakan 'hanya untuk keperluan' harus menyebut keperluannya.")
    effective_from, effective_to, issue_until, valid_until = _rule_dates(data)
    try:
        valid_months = int(data.get("valid_months") or 6)
    except (TypeError, ValueError) as exc:
        raise SuketInvalid("Masa berlaku (bulan) harus bilangan bulat.") from exc
    if not 1 <= valid_months <= 24:
        raise SuketInvalid("Masa berlaku (bulan) harus antara 1 dan 24.")
    with transaction.atomic():
        rule = SuketRule.objects.create(
            authority=authority,
            region=region,
            title=title,
            reference=_clean(data.get("reference"), limit=150),
            mode=mode,
            purpose=purpose,
            effective_from=effective_from,
            effective_to=effective_to,
            issue_until=issue_until,
            valid_until=valid_until,
            valid_months=valid_months,
            created_by=actor,
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="suket_rule",
            object_id=rule.pk,
            detail={"authority": authority, "region": region.code if region else "", "mode": mode},
        )
    return rule


__all__ += ["create_rule", "rule_in_force"]
