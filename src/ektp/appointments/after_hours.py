"""What the gate says outside opening hours: when the point opens next, with which window.

A number taken after today's closing would otherwise land in the morning's first window,
which has passed; the gate refuses it and names the next opening day instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from ektp.appointments.services.common import window_minutes
from ektp.offices.calendar import Opening, opening
from ektp.offices.models import ServicePoint

HORIZON_DAYS = 31


@dataclass(frozen=True)
class NextOpening:
    day: dt.date
    opens_at: dt.time
    first_window: tuple[dt.time, dt.time]

    def text(self) -> str:
        start, end = self.first_window
        return (
            f"Buka lagi {date_format(self.day, 'l, j F Y')} pukul {self.opens_at:%H:%M} "
            f"(jendela pertama {start:%H:%M}–{end:%H:%M})."
        )


def _first_window(day: dt.date, day_opening: Opening) -> tuple[dt.time, dt.time]:
    opens, closes = day_opening.hours
    end = dt.datetime.combine(day, opens) + dt.timedelta(minutes=window_minutes())
    return opens, min(end.time(), closes) if end.date() == day else closes


def next_opening(*, point: ServicePoint, after: dt.date) -> NextOpening | None:
    """Return the first day after `after` on which the point opens, within a month."""
    for offset in range(1, HORIZON_DAYS + 1):
        day = after + dt.timedelta(days=offset)
        day_opening = opening(point=point, day=day)
        if day_opening.is_open and day_opening.capacity > 0:
            return NextOpening(day, day_opening.hours[0], _first_window(day, day_opening))
    return None


def gate_closed_reason(*, point: ServicePoint, now: dt.datetime | None = None) -> str | None:
    """Return why the gate cannot give a number for today now, with the next opening;
    None while the point is open (before opening counts as open: the day's first window)."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    day_opening = opening(point=point, day=today)
    if day_opening.is_open and now.time() < day_opening.hours[1]:
        return None
    if day_opening.is_open:
        why = f"Layanan hari ini sudah tutup pukul {day_opening.hours[1]:%H:%M}."
    else:
        why = f"Titik layanan tutup hari ini ({day_opening.reason.rstrip('.')})."
    upcoming = next_opening(point=point, after=today)
    if upcoming is None:
        return f"{why} Belum ada hari buka dalam {HORIZON_DAYS} hari ke depan."
    return f"{why} {upcoming.text()} Nomor antrean untuk hari itu diambil pada hari itu."


def ticket_window_note(ticket) -> str:
    """Say honestly when a ticket will be served: its window, or that the window had passed."""
    window = ticket.window
    if window is None:
        return ""
    issued = timezone.localtime(ticket.issued_at)
    span = f"{window.starts_at:%H:%M}–{window.ends_at:%H:%M}"
    if issued.date() == window.day and issued.time() >= window.ends_at:
        return f"Jendela {span} sudah lewat saat nomor diambil; dilayani menurut urutan nomor."
    return f"Perkiraan dilayani pada jendela {span}."
