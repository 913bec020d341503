"""Reads for recording pages and the API, limited to the reader's jurisdiction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ektp.core.dates import KTP_EL_BEGAN, check_day
from ektp.core.models import User
from ektp.enrollment.models import Enrollment, Penunggalan, StatusChange
from ektp.offices.calendar import Opening, opening
from ektp.offices.models import Device, ServicePoint
from ektp.offices.selectors import devices_for, points_for
from ektp.residents.models import KtpStatus, Resident
from ektp.residents.nik import is_digits
from ektp.residents.selectors import residents_for


def recording_kits_for(user: User) -> QuerySet[Device]:
    """Return the recording kits this user may record with (any status, to show why not)."""
    return (
        devices_for(user)
        .filter(kind=Device.Kind.RECORDING_KIT, service_point__is_active=True)
        .select_related("service_point")
        .order_by("service_point__name", "serial_number")
    )


def residents_to_record(*, user: User, query: str) -> QuerySet[Resident]:
    """Find residents awaiting (re-)recording by exact NIK or by name: not recorded, failed,
    or marked BIO_CAPTURED with no biometrics stored."""
    query = " ".join((query or "").split())[:100]
    qs = residents_for(user).filter(
        Q(ktp_status__in=[KtpStatus.BELUM_REKAM, KtpStatus.ENROLL_FAILURE])
        | Q(ktp_status=KtpStatus.BIO_CAPTURED, enrollment__isnull=True)
    )
    if not query:
        return qs.none()
    if is_digits(query):
        return qs.filter(nik=query)
    return qs.filter(name__icontains=query.upper()).order_by("name")[:50]


def enrollment_of(resident: Resident) -> Enrollment | None:
    """Return a resident's enrollment with its samples and exceptions."""
    return (
        Enrollment.objects.select_related("service_point", "device", "operator")
        .prefetch_related("samples", "exceptions")
        .filter(resident=resident)
        .first()
    )


def history_of(resident: Resident) -> QuerySet[StatusChange]:
    """Return a resident's KTP-el timeline, oldest first."""
    return (
        StatusChange.objects.filter(resident=resident)
        .select_related("actor", "service_point")
        .order_by("at")
    )


@dataclass(frozen=True)
class PointDay:
    point: ServicePoint
    opening: Opening
    recorded: int

    @property
    def percent(self) -> int | None:
        if not self.opening.capacity:
            return None
        return round(100 * self.recorded / self.opening.capacity)


# The daily figures read back to the first KTP-el recordings and a year ahead (capacity).
DAILY_AHEAD = dt.timedelta(days=366)


def check_daily_day(day: dt.date, *, today: dt.date | None = None) -> dt.date:
    """Return the day when daily figures can be read for it, else raise DayOutOfRange."""
    today = today or timezone.localdate()
    return check_day(day, earliest=KTP_EL_BEGAN, latest=today + DAILY_AHEAD)


def daily_figures(*, user: User, day: dt.date) -> list[PointDay]:
    """Return each point's recordings on a day against its capacity (raise DayOutOfRange
    for a day outside check_daily_day's range)."""
    check_daily_day(day)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    counts = dict(
        Enrollment.objects.filter(
            captured_at__gte=start, captured_at__lt=start + dt.timedelta(days=1)
        )
        .values_list("service_point")
        .annotate(n=Count("id"))
        .values_list("service_point", "n")
    )
    return [
        PointDay(point=p, opening=opening(point=p, day=day), recorded=counts.get(p.pk, 0))
        for p in points_for(user)
    ]


def penunggalan_progress(resident: Resident) -> dict:
    """Where a recording's penunggalan stands, in the shape of a job's progress (core.jobs).

    The worker records it on the enrollment (queued, awaiting the engine, done with its note)
    and on the resident's status (SFE until the outcome: PRR, double record or failure)."""
    enrollment = (
        Enrollment.objects.filter(resident=resident).only("penunggalan", "penunggalan_note").first()
    )
    status = KtpStatus(resident.ktp_status)
    waiting = status == KtpStatus.SENT_FOR_ENROLLMENT
    if waiting:
        state = "queued"
        label = enrollment.get_penunggalan_display() if enrollment else str(status.label)
        if enrollment and enrollment.penunggalan == Penunggalan.NOT_SENT:
            label = Penunggalan.QUEUED.label
    else:
        state = "failed" if status == KtpStatus.ENROLL_FAILURE else "done"
        label = enrollment.get_penunggalan_display() if enrollment else str(status.label)
    return {
        "state": state,
        "state_label": str(label),
        "status_label": str(status.label),
        "code": status.value,
        "done": 0 if waiting else 1,
        "total": None,
        "percent": None if waiting else 100,
        "message": enrollment.penunggalan_note if enrollment else "",
        "finished": not waiting,
        "result_url": "",
    }
