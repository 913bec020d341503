"""Invitations: booking a list of residents into the next free windows."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ektp.appointments.models import (
    ACTIVE_BOOKING,
    Booking,
    Invitation,
    InvitationBatch,
    Service,
    TimeWindow,
)
from ektp.appointments.services.booking import _reserve
from ektp.appointments.services.common import AppointmentError, WindowFull, horizon_days
from ektp.appointments.services.windows import windows_for
from ektp.core.models import AuditEvent, User
from ektp.core.services import record_audit
from ektp.offices.models import ServicePoint
from ektp.residents.models import Citizenship, Resident, years_ago

MAX_INVITATIONS = 5000


def invitation_targets(
    *,
    point: ServicePoint,
    kind: str,
    reference_day: dt.date,
    village_code: str | None,
    today: dt.date,
):
    """Return the residents an invitation of this kind is for, in the point's kab/kota."""
    kabkota = point.office.region_id
    if kind == InvitationBatch.Kind.UNRECORDED_VILLAGE:
        if not village_code:
            raise AppointmentError("Pilih desa/kelurahan tujuan undangan.", rule="village")
        qs = Resident.objects.wajib_ktp(reference_day).filter(
            recorded_on__isnull=True, address_region_id=village_code
        )
    elif kind == InvitationBatch.Kind.FIRST_VOTERS:
        qs = Resident.objects.alive().filter(
            recorded_on__isnull=True,
            birth_date__gt=years_ago(today, 17),
            birth_date__lte=years_ago(reference_day, 17),
        )
        qs = qs.filter(citizenship=Citizenship.WNI) | qs.filter(has_itap=True)
        if village_code:
            qs = qs.filter(address_region_id=village_code)
    else:
        raise AppointmentError("Jenis sasaran undangan tidak dikenal.", rule="kind")
    if village_code and not village_code.startswith(kabkota + "."):
        raise AppointmentError(
            "Desa/kelurahan itu di luar kabupaten/kota kantor ini.", rule="jurisdiction"
        )
    active = Booking.objects.filter(service=Service.RECORDING, status__in=ACTIVE_BOOKING).values(
        "resident_id"
    )
    return qs.filter(kabkota_code=kabkota).exclude(pk__in=active).order_by("birth_date", "nik")


def invite(
    *,
    point: ServicePoint,
    kind: str,
    reference_day: dt.date,
    first_day: dt.date,
    actor: User,
    village_code: str | None = None,
    limit: int = 500,
    now: dt.datetime | None = None,
) -> InvitationBatch:
    """Invite a list of residents, each to the next window with room from a first day on."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not 1 <= limit <= MAX_INVITATIONS:
        raise AppointmentError(
            f"Jumlah undangan harus antara 1 dan {MAX_INVITATIONS}.", rule="limit"
        )
    if first_day <= today:
        raise AppointmentError("Tanggal mulai undangan harus setelah hari ini.", rule="past")
    if first_day > today + dt.timedelta(days=horizon_days()):
        raise AppointmentError(
            f"Tanggal mulai undangan paling jauh {horizon_days()} hari ke depan.", rule="horizon"
        )
    targets = list(
        invitation_targets(
            point=point,
            kind=kind,
            reference_day=reference_day,
            village_code=village_code,
            today=today,
        )[:limit]
    )
    if not targets:
        raise AppointmentError("Tidak ada penduduk sasaran yang perlu diundang.", rule="empty")
    return _book_batch(
        point=point,
        targets=targets,
        kind=kind,
        village_code=village_code,
        reference_day=reference_day,
        first_day=first_day,
        actor=actor,
        now=now,
    )


def invite_residents(
    *,
    point: ServicePoint,
    residents: list[Resident],
    kind: str,
    reference_day: dt.date,
    first_day: dt.date,
    actor: User,
    now: dt.datetime | None = None,
) -> InvitationBatch:
    """Invite named residents (e.g. those a partner's record made wajib KTP) to the next
    windows with room from a first day on; those with an active booking are left out."""
    now = now or timezone.now()
    if first_day <= timezone.localdate(now):
        raise AppointmentError("Tanggal mulai undangan harus setelah hari ini.", rule="past")
    if len(residents) > MAX_INVITATIONS:
        raise AppointmentError(
            f"Jumlah undangan harus antara 1 dan {MAX_INVITATIONS}.", rule="limit"
        )
    active = set(
        Booking.objects.filter(
            service=Service.RECORDING,
            status__in=ACTIVE_BOOKING,
            resident_id__in=[r.pk for r in residents],
        ).values_list("resident_id", flat=True)
    )
    targets = [r for r in residents if r.pk not in active]
    if not targets:
        raise AppointmentError("Tidak ada penduduk sasaran yang perlu diundang.", rule="empty")
    return _book_batch(
        point=point,
        targets=targets,
        kind=kind,
        village_code=None,
        reference_day=reference_day,
        first_day=first_day,
        actor=actor,
        now=now,
    )


def _book_batch(
    *,
    point: ServicePoint,
    targets: list[Resident],
    kind: str,
    village_code: str | None,
    reference_day: dt.date,
    first_day: dt.date,
    actor: User,
    now: dt.datetime,
) -> InvitationBatch:
    """Book each target into the next window with room from first_day on, as one batch."""
    from ektp.appointments.tasks import send_invitation

    with transaction.atomic():
        batch = InvitationBatch.objects.create(
            service_point=point,
            kind=kind,
            village_id=village_code or None,
            reference_day=reference_day,
            first_day=first_day,
            created_by=actor,
            created_at=now,
        )
        day, last_day = first_day, first_day + dt.timedelta(days=horizon_days())
        windows: list[TimeWindow] = []
        invited = []
        pending = iter(targets)
        resident = next(pending, None)
        while resident is not None and day <= last_day:
            if not windows:
                windows = [w for w in windows_for(point=point, day=day) if w.remaining > 0]
                day += dt.timedelta(days=1)
                continue
            window = windows[0]
            try:
                booking = _reserve(
                    resident=resident,
                    window=window,
                    booked_by=None,
                    source=Booking.Source.INVITATION,
                )
            except WindowFull:
                windows.pop(0)
                continue
            window.booked += 1
            if window.remaining <= 0:
                windows.pop(0)
            invited.append(Invitation(batch=batch, resident=resident, booking=booking))
            resident = next(pending, None)
        if not invited:
            raise AppointmentError(
                "Tidak ada jendela waktu yang masih kosong dalam rentang tanggal itu.",
                rule="full",
            )
        Invitation.objects.bulk_create(invited)
        batch.skipped = len(targets) - len(invited)
        batch.save(update_fields=["skipped"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="invitation_batch",
            object_id=str(batch.pk),
            detail={"invited": len(invited), "skipped": batch.skipped},
        )
        ids = [i.pk for i in invited]
        transaction.on_commit(lambda: [send_invitation.enqueue(invitation_id=str(i)) for i in ids])
    return batch
