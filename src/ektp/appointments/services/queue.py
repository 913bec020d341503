"""The queue: check-in and walk-in numbers at the gate, and the counters that call them."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ektp.appointments.after_hours import gate_closed_reason
from ektp.appointments.models import (
    Booking,
    BookingStatus,
    Counter,
    PriorityReason,
    QueueDay,
    QueueTicket,
    Service,
)
from ektp.appointments.services.booking import _active_booking_exists, _take_place
from ektp.appointments.services.common import QueueError, WindowFull
from ektp.appointments.services.identity import booking_by_code, checked_nik
from ektp.appointments.services.windows import windows_for
from ektp.core.models import User
from ektp.offices.models import ServicePoint
from ektp.residents.models import Resident

ELDERLY_AGE = 60


# ---------------------------------------------------------------- the gate


def _queue_day(point: ServicePoint, day: dt.date) -> QueueDay:
    QueueDay.objects.get_or_create(service_point=point, day=day)
    return QueueDay.objects.select_for_update().get(service_point=point, day=day)


def _priority_for(resident: Resident | None, flagged: str, day: dt.date) -> str:
    if flagged:
        if flagged not in PriorityReason.values:
            raise QueueError("Alasan prioritas tidak dikenal.", rule="priority")
        return flagged
    if resident is not None and resident.age(day) >= ELDERLY_AGE:
        return PriorityReason.ELDERLY
    return PriorityReason.NONE


def check_in(
    *,
    point: ServicePoint,
    code: str,
    actor: User,
    priority: str = "",
    now: dt.datetime | None = None,
) -> QueueTicket:
    """Check a booked resident in at the gate and give them a queue number (series A)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        booking = booking_by_code(code, for_update=True)
        if booking.window.service_point_id != point.pk:
            raise QueueError(
                f"Janji temu ini untuk {booking.window.service_point.name}, bukan titik layanan ini.",
                rule="point",
            )
        if booking.window.day != today:
            raise QueueError(
                f"Janji temu ini untuk tanggal {booking.window.day:%d-%m-%Y}, bukan hari ini.",
                rule="day",
            )
        if booking.status != BookingStatus.BOOKED:
            raise QueueError(
                f"Janji temu berstatus {booking.get_status_display().lower()}; kedatangan tidak dapat dicatat.",
                rule="status",
            )
        queue_day = _queue_day(point, today)
        queue_day.last_booked += 1
        queue_day.save(update_fields=["last_booked"])
        ticket = QueueTicket.objects.create(
            service_point=point,
            day=today,
            series=QueueTicket.Series.BOOKED,
            number=queue_day.last_booked,
            window=booking.window,
            booking=booking,
            resident=booking.resident,
            on_time=now <= booking.window.end_datetime(),
            priority=_priority_for(booking.resident, priority, today),
            issued_at=now,
            issued_by=actor,
        )
        booking.status = BookingStatus.CHECKED_IN
        booking.save(update_fields=["status", "updated_at"])
    return ticket


def remaining_today(*, point: ServicePoint, day: dt.date) -> int:
    """Return the places still free on a day across all its windows."""
    return sum(w.remaining for w in windows_for(point=point, day=day))


def issue_walk_in(
    *,
    point: ServicePoint,
    actor: User,
    priority: str = "",
    nik: str = "",
    now: dt.datetime | None = None,
) -> QueueTicket:
    """Give a walk-in resident a queue number for today (series B) while places remain.

    Refused outside opening hours (after closing, or on a closed day) with the next opening,
    whether the number is asked for at the gate page or through the API."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    closed = gate_closed_reason(point=point, now=now)
    if closed:
        raise QueueError(closed, rule="closed")
    resident = None
    if nik:
        nik = checked_nik(nik)
        resident = Resident.objects.filter(nik=nik).first()
        if resident is None:
            raise QueueError("NIK tidak terdaftar di data kependudukan.", rule="nik_unknown")
        if _active_booking_exists(resident, Service.RECORDING):
            raise QueueError(
                "Penduduk ini punya janji temu aktif; catat kedatangannya dengan kode janji temu.",
                rule="booked",
            )
    priority = _priority_for(resident, priority, today)
    windows = windows_for(point=point, day=today)
    if not windows:
        raise QueueError("Titik layanan tutup hari ini.", rule="closed")
    with transaction.atomic():
        queue_day = _queue_day(point, today)
        for window in windows:
            try:
                _take_place(window)
            except WindowFull:
                continue
            break
        else:
            raise QueueError("Kapasitas layanan hari ini sudah habis.", rule="capacity")
        queue_day.last_walk_in += 1
        queue_day.save(update_fields=["last_walk_in"])
        return QueueTicket.objects.create(
            service_point=point,
            day=today,
            series=QueueTicket.Series.WALK_IN,
            number=queue_day.last_walk_in,
            window=window,
            resident=resident,
            priority=priority,
            issued_at=now,
            issued_by=actor,
        )


# ---------------------------------------------------------------- counters


def call_order(tickets: list[QueueTicket], now: dt.datetime) -> list[QueueTicket]:
    """Order waiting tickets: booked-on-time first, then ticket order; priority first in each."""
    clock = timezone.localtime(now).time()

    def key(t: QueueTicket):
        on_time = (
            t.series == QueueTicket.Series.BOOKED and t.on_time and t.window.starts_at <= clock
        )
        return (0 if on_time else 1, 0 if t.priority else 1, t.issued_at, t.series, t.number)

    return sorted(tickets, key=key)


def call_next(*, counter: Counter, actor: User, now: dt.datetime | None = None) -> QueueTicket:
    """Call the next waiting number to a counter."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        _queue_day(counter.service_point, today)
        current = QueueTicket.objects.filter(
            counter=counter, day=today, status=QueueTicket.Status.CALLED
        ).first()
        if current is not None:
            raise QueueError(
                f"Selesaikan dulu nomor {current.label} (dilayani atau tidak hadir).",
                rule="busy",
            )
        waiting = list(
            QueueTicket.objects.filter(
                service_point=counter.service_point, day=today, status=QueueTicket.Status.WAITING
            ).select_related("window")
        )
        if not waiting:
            raise QueueError("Tidak ada nomor antrean yang menunggu.", rule="empty")
        ticket = call_order(waiting, now)[0]
        ticket.status = QueueTicket.Status.CALLED
        ticket.counter = counter
        ticket.called_at = now
        ticket.called_by = actor
        ticket.save(update_fields=["status", "counter", "called_at", "called_by"])
    return ticket


def _finish(ticket: QueueTicket, status: str, booking_status: str, now) -> QueueTicket:
    with transaction.atomic():
        locked = QueueTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status != QueueTicket.Status.CALLED:
            raise QueueError(
                f"Nomor {locked.label} berstatus {locked.get_status_display().lower()}, "
                "belum dipanggil.",
                rule="status",
            )
        locked.status = status
        locked.finished_at = now or timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        if locked.booking_id:
            Booking.objects.filter(pk=locked.booking_id).update(
                status=booking_status, updated_at=timezone.now()
            )
    return locked


def mark_served(*, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    """Mark a called number as served."""
    return _finish(ticket, QueueTicket.Status.SERVED, BookingStatus.SERVED, now)


def mark_no_show(*, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    """Mark a called number as not present."""
    return _finish(ticket, QueueTicket.Status.NO_SHOW, BookingStatus.NO_SHOW, now)


def recall(*, ticket: QueueTicket, counter: Counter, actor: User, now=None) -> QueueTicket:
    """Call a number again: still called at its counter, or back after a no-show."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = QueueTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status not in (QueueTicket.Status.CALLED, QueueTicket.Status.NO_SHOW):
            raise QueueError(
                f"Nomor {locked.label} berstatus {locked.get_status_display().lower()}; "
                "tidak dapat dipanggil ulang.",
                rule="status",
            )
        busy = (
            QueueTicket.objects.filter(counter=counter, day=locked.day, status="called")
            .exclude(pk=locked.pk)
            .first()
        )
        if busy is not None:
            raise QueueError(f"Selesaikan dulu nomor {busy.label} di loket ini.", rule="busy")
        if locked.status == QueueTicket.Status.NO_SHOW and locked.booking_id:
            Booking.objects.filter(pk=locked.booking_id).update(
                status=BookingStatus.CHECKED_IN, updated_at=timezone.now()
            )
        locked.status = QueueTicket.Status.CALLED
        locked.counter = counter
        locked.called_at = now
        locked.called_by = actor
        locked.recall_count += 1
        locked.finished_at = None
        locked.save(
            update_fields=[
                "status",
                "counter",
                "called_at",
                "called_by",
                "recall_count",
                "finished_at",
            ]
        )
    return locked
