"""How dates are told to residents, the same on the status page, in a notice and on a suket."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

MONTHS = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip


def tanggal(day: dt.date | dt.datetime | None) -> str:
    """Write a date the Indonesian way: 5 Desember 2026."""
    if day is None:
        return "-"
    if isinstance(day, dt.datetime):
        day = timezone.localdate(day) if timezone.is_aware(day) else day.date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def tanggal_pendek(day: dt.date) -> str:
    """Write a date short, for chart axes: 7 Des."""
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def collect_from(printed_at: dt.datetime) -> dt.date:
    """Return the first day a printed card can be collected."""
    days = int(settings.NOTIFICATIONS_COLLECT_AFTER_DAYS)
    return timezone.localdate(printed_at) + dt.timedelta(days=days)
