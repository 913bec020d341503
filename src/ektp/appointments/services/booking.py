"""Bookings: the rules for booking a window, and booking, moving and cancelling."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ektp.appointments.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingStatus,
    Service,
    TimeWindow,
)
from ektp.appointments.services.common import (
    AlreadyBooked,
    AppointmentError,
    WindowFull,
    WindowUnavailable,
    cutoff_minutes,
    generate_code,
    horizon_days,
)
from ektp.appointments.signals import booking_made
from ektp.offices.calendar import opening
from ektp.residents.models import LifeStatus, Resident


def _check_window_open_for_booking(window: TimeWindow, now: dt.datetime) -> None:
    today = timezone.localdate(now)
    if window.day > today + dt.timedelta(days=horizon_days()):
        raise WindowUnavailable(
            f"Janji temu paling jauh {horizon_days()} hari ke depan.", rule="horizon"
        )
    if now >= window.end_datetime():
        raise WindowUnavailable("Jendela waktu ini sudah lewat.", rule="past")
    cutoff = cutoff_minutes()
    if now > window.start_datetime() - dt.timedelta(minutes=cutoff):
        raise WindowUnavailable(
            f"Pendaftaran daring ditutup {cutoff} menit sebelum jendela waktu dimulai; "
            "silakan ambil nomor antrean di loket gerbang.",
            rule="cutoff",
        )
    if not opening(point=window.service_point, day=window.day).is_open:
        raise WindowUnavailable("Titik layanan tutup pada tanggal itu.", rule="closed")


def why_not_bookable(window: TimeWindow, now: dt.datetime) -> str:
    """Return why a window cannot be booked now, or an empty string when it can."""
    try:
        _check_window_open_for_booking(window, now)
    except AppointmentError as exc:
        return exc.message
    return "" if window.remaining > 0 else "Penuh."


def _check_may_book(resident: Resident, booked_by: Resident | None) -> None:
    other_family = booked_by is not None and (
        booked_by.family_id is None or booked_by.family_id != resident.family_id
    )
    if other_family and booked_by.pk != resident.pk:
        raise AppointmentError(
            "Hanya anggota keluarga dalam KK yang sama yang boleh didaftarkan.", rule="family"
        )
    if resident.life_status != LifeStatus.ALIVE:
        raise AppointmentError("Penduduk tidak berstatus hidup.", rule="alive")
    if resident.recorded_on is not None:
        raise AppointmentError(
            "Penduduk ini sudah melakukan perekaman KTP-el; tidak perlu booking perekaman.",
            rule="already_recorded",
        )


def _take_place(window: TimeWindow) -> int:
    """Take one place in a window with a conditional UPDATE; return the queue number."""
    taken = TimeWindow.objects.filter(pk=window.pk, booked__lt=F("capacity")).update(
        booked=F("booked") + 1, issued=F("issued") + 1
    )
    if not taken:
        raise WindowFull("Jendela waktu ini sudah penuh; pilih jendela lain.")
    return TimeWindow.objects.values_list("issued", flat=True).get(pk=window.pk)


def _give_back_place(window_id) -> None:
    TimeWindow.objects.filter(pk=window_id, booked__gt=0).update(booked=F("booked") - 1)


def _active_booking_exists(resident: Resident, service: str) -> bool:
    return Booking.objects.filter(
        resident=resident, service=service, status__in=ACTIVE_BOOKING
    ).exists()


ALREADY_BOOKED_MESSAGE = (
    "Penduduk ini sudah punya janji temu aktif untuk layanan ini; pindahkan atau batalkan dulu."
)


def _reserve(
    *, resident: Resident, window: TimeWindow, booked_by: Resident | None, source: str
) -> Booking:
    if _active_booking_exists(resident, Service.RECORDING):
        raise AlreadyBooked(ALREADY_BOOKED_MESSAGE)
    number = _take_place(window)
    return Booking.objects.create(
        code=generate_code(),
        resident=resident,
        booked_by=booked_by,
        window=window,
        queue_number=number,
        source=source,
    )


def book(
    *,
    resident: Resident,
    window: TimeWindow,
    booked_by: Resident | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Book a place for a resident (or a family member) in a window."""
    now = now or timezone.now()
    _check_may_book(resident, booked_by)
    _check_window_open_for_booking(window, now)
    try:
        with transaction.atomic():
            booking = _reserve(
                resident=resident,
                window=window,
                booked_by=booked_by or resident,
                source=Booking.Source.ONLINE,
            )
            booking_made.send(sender=Booking, booking=booking)
    except IntegrityError:
        raise AlreadyBooked(ALREADY_BOOKED_MESSAGE) from None
    return booking


def move_booking(
    *, booking: Booking, window: TimeWindow, now: dt.datetime | None = None
) -> Booking:
    """Move an active booking to another window; its code stays."""
    now = now or timezone.now()
    _check_window_open_for_booking(window, now)
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != BookingStatus.BOOKED:
            raise AppointmentError(
                f"Janji temu berstatus {locked.get_status_display().lower()} tidak dapat dipindah.",
                rule="status",
            )
        if locked.window_id == window.pk:
            raise AppointmentError(
                "Janji temu sudah berada di jendela waktu ini.", rule="same_window"
            )
        old_window = TimeWindow.objects.get(pk=locked.window_id)
        if now >= old_window.start_datetime() - dt.timedelta(minutes=cutoff_minutes()):
            raise AppointmentError(
                "Janji temu tidak dapat dipindah lagi setelah batas waktu jendela semula.",
                rule="cutoff",
            )
        locked.queue_number = _take_place(window)
        _give_back_place(locked.window_id)
        locked.window = window
        locked.save(update_fields=["window", "queue_number", "updated_at"])
    return locked


def cancel_booking(*, booking: Booking) -> Booking:
    """Cancel a booking that has not checked in, freeing its place."""
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != BookingStatus.BOOKED:
            raise AppointmentError(
                f"Janji temu berstatus {locked.get_status_display().lower()} tidak dapat dibatalkan.",
                rule="status",
            )
        locked.status = BookingStatus.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        _give_back_place(locked.window_id)
    return locked
