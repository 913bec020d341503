"""Background work for appointments: invitation delivery and reminders, each safe to run twice."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from ektp.appointments.models import Booking, BookingStatus, Invitation
from ektp.appointments.signals import booking_reminder_due


@task()
def send_invitation(*, invitation_id: str) -> str:
    """Deliver one invitation; until channels exist, put it on the list to print."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None:
            return "tidak_ada"
        if invitation.delivery:
            return invitation.delivery
        invitation.delivery = Invitation.Delivery.TO_PRINT
        invitation.delivery_noted_at = timezone.now()
        invitation.save(update_fields=["delivery", "delivery_noted_at"])
    return invitation.delivery


@task()
def send_reminder(*, booking_id: str) -> bool:
    """Remind a resident of tomorrow's booking once; the channel is chosen when channels land."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None or booking.status != BookingStatus.BOOKED or booking.reminded_at:
            return False
        booking.reminded_at = timezone.now()
        booking.save(update_fields=["reminded_at"])
        booking_reminder_due.send(sender=Booking, booking=booking)
    return True


@task()
def remind_tomorrow(day: str | None = None) -> int:
    """Enqueue reminders for the bookings of tomorrow (or of the given ISO day)."""
    from ektp.appointments.services import remind_day

    when = dt.date.fromisoformat(day) if day else timezone.localdate() + dt.timedelta(days=1)
    return remind_day(day=when)
