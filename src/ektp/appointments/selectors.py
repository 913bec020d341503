"""Reads for appointments: a point's day, the board, the printable lists and the no-show counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ektp.appointments.models import (
    Booking,
    BookingStatus,
    Counter,
    Invitation,
    InvitationBatch,
    QueueTicket,
    TimeWindow,
)
from ektp.offices.models import ServicePoint


def public_points() -> QuerySet[ServicePoint]:
    """Return the active service points residents may book at."""
    return (
        ServicePoint.objects.filter(is_active=True)
        .select_related("office")
        .order_by("office__name", "kind", "code")
    )


def active_bookings_of(resident_ids) -> QuerySet[Booking]:
    """Return the active bookings of some residents."""
    return Booking.objects.filter(
        resident_id__in=resident_ids, status__in=[BookingStatus.BOOKED, BookingStatus.CHECKED_IN]
    ).select_related("window", "window__service_point", "resident")


def tickets_of_day(*, point: ServicePoint, day: dt.date) -> QuerySet[QueueTicket]:
    """Return a point's queue tickets of a day in number order."""
    return (
        QueueTicket.objects.filter(service_point=point, day=day)
        .select_related("counter", "resident", "window", "booking")
        .order_by("series", "number")
    )


def counters_of(point: ServicePoint) -> QuerySet[Counter]:
    return Counter.objects.filter(service_point=point, is_active=True).order_by("name")


@dataclass(frozen=True)
class BoardRow:
    counter: Counter
    ticket: QueueTicket | None


def board(*, point: ServicePoint, day: dt.date | None = None) -> dict:
    """Return what the board shows: the number at each counter, the last calls, who waits."""
    day = day or timezone.localdate()
    called = {
        t.counter_id: t
        for t in QueueTicket.objects.filter(
            service_point=point, day=day, status=QueueTicket.Status.CALLED
        ).order_by("called_at")
    }
    rows = [BoardRow(c, called.get(c.pk)) for c in counters_of(point)]
    recent = (
        QueueTicket.objects.filter(service_point=point, day=day, called_at__isnull=False)
        .select_related("counter")
        .order_by("-called_at")[:6]
    )
    waiting = QueueTicket.objects.filter(
        service_point=point, day=day, status=QueueTicket.Status.WAITING
    ).count()
    return {"rows": rows, "recent": list(recent), "waiting": waiting, "day": day}


def current_ticket(counter: Counter, day: dt.date | None = None) -> QueueTicket | None:
    """Return the number a counter is serving now."""
    return (
        QueueTicket.objects.filter(
            counter=counter, day=day or timezone.localdate(), status=QueueTicket.Status.CALLED
        )
        .select_related("resident", "booking")
        .first()
    )


@dataclass(frozen=True)
class WindowCount:
    window: TimeWindow
    bookings: int
    checked_in: int
    served: int
    no_show: int
    walk_ins: int


def no_show_counts(*, point: ServicePoint, day: dt.date, now=None) -> list[WindowCount]:
    """Count per window the bookings, check-ins, services and no-shows of a day.

    A booking that never checked in counts as a no-show once its window has ended."""
    now = now or timezone.now()
    windows = TimeWindow.objects.filter(service_point=point, day=day).annotate(
        n_bookings=Count("bookings", filter=~Q(bookings__status=BookingStatus.CANCELLED)),
        n_checked_in=Count("bookings", filter=Q(bookings__ticket__isnull=False)),
        n_served=Count("bookings", filter=Q(bookings__status=BookingStatus.SERVED)),
        n_marked_no_show=Count("bookings", filter=Q(bookings__status=BookingStatus.NO_SHOW)),
        n_not_come=Count("bookings", filter=Q(bookings__status=BookingStatus.BOOKED)),
    )
    walk_ins = dict(
        QueueTicket.objects.filter(window__in=windows, series=QueueTicket.Series.WALK_IN)
        .values_list("window_id")
        .annotate(n=Count("id"))
    )
    counts = []
    for w in windows.order_by("starts_at"):
        ended = now >= w.end_datetime()
        counts.append(
            WindowCount(
                window=w,
                bookings=w.n_bookings,
                checked_in=w.n_checked_in,
                served=w.n_served,
                no_show=w.n_marked_no_show + (w.n_not_come if ended else 0),
                walk_ins=walk_ins.get(w.pk, 0),
            )
        )
    return counts


def batches_of(point: ServicePoint) -> QuerySet[InvitationBatch]:
    return InvitationBatch.objects.filter(service_point=point).annotate(
        invited=Count("invitations")
    )


def invitation_list(batch: InvitationBatch) -> QuerySet[Invitation]:
    """Return a batch's invitations in window order for printing."""
    return (
        Invitation.objects.filter(batch=batch)
        .select_related("resident", "resident__address_region", "booking", "booking__window")
        .order_by("booking__window__day", "booking__window__starts_at", "booking__queue_number")
    )


def record_url(nik: str) -> str | None:
    """Return the recording screen of a resident, when the enrollment app is mounted."""
    try:
        return reverse("enrollment:record", args=[nik])
    except NoReverseMatch:
        return None
