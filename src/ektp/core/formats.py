"""How numbers and dates are told to people, the same on the pages, in a notice and on a suket:
the id-ID way (19.825; 7 Desember 2026; 14.05 WIB)."""

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


DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


def hari(day: dt.date | dt.datetime | None) -> str:
    """Write a day with its name, the Indonesian way: Senin, 7 Desember 2026."""
    if day is None:
        return "-"
    if isinstance(day, dt.datetime):
        day = timezone.localdate(day) if timezone.is_aware(day) else day.date()
    return f"{DAYS[day.weekday()]}, {tanggal(day)}"


def angka(value: int | float | None, decimals: int = 0) -> str:
    """Write a number the Indonesian way: 19.825, or 98,5 with one decimal."""
    if value is None:
        return "-"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def waktu(moment: dt.datetime | None) -> str:
    """Write a moment in the office's time zone with its name: 7 Desember 2026 14.05 WIB."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    zone = local.tzname() or ""
    if zone[:1] in "+-":  # a zone with no name is told as an offset from UTC
        zone = f"UTC{zone}"
    return f"{tanggal(local.date())} {local:%H.%M} {zone}".rstrip()


def tanggal_pendek(day: dt.date) -> str:
    """Write a date short, for chart axes: 7 Des."""
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def collect_from(printed_at: dt.datetime) -> dt.date:
    """Return the first day a printed card can be collected."""
    days = int(settings.NOTIFICATIONS_COLLECT_AFTER_DAYS)
    return timezone.localdate(printed_at) + dt.timedelta(days=days)
