"""Reminders for the bookings of a day."""

from __future__ import annotations

import datetime as dt

from ektp.appointments.models import (
    Booking,
    BookingStatus,
)


def bookings_to_remind(day: dt.date):
    """Return the bookings of a day that have not been reminded yet."""
    return Booking.objects.filter(
        window__day=day, status=BookingStatus.BOOKED, reminded_at__isnull=True
    )


def remind_day(*, day: dt.date) -> int:
    """Enqueue a reminder for every booking of a day not yet reminded; return how many."""
    from ektp.appointments.tasks import send_reminder

    ids = list(bookings_to_remind(day).values_list("pk", flat=True))
    for booking_id in ids:
        send_reminder.enqueue(booking_id=str(booking_id))
    return len(ids)
