"""The service calendar: is a point open on a day, during which hours, with what capacity.

Default week (when a point has no WorkingHours rows): the service hours of a Disdukcapil
front office, Monday to Thursday 08:00–15:00 and Friday 08:00–11:30 (service stops for
Friday prayers); closed on Saturday and Sunday. A point with its own WorkingHours rows
is open only on the weekdays it lists.

Precedence, strongest first: the point is inactive (closed); a special day for the point;
a special day for the whole office; a public holiday or cuti bersama (holidays package,
country ID, categories PUBLIC and GOVERNMENT, names in Indonesian); the weekly hours.

Capacity of an open day = working recording kits × the point's per-kit daily throughput,
counted from the devices' current status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.db.models import Q

from ektp.offices.models import Device, ServicePoint, SpecialDay, WorkingHours

Hours = tuple[dt.time, dt.time]

DEFAULT_WEEK: dict[int, Hours] = {
    0: (dt.time(8, 0), dt.time(15, 0)),
    1: (dt.time(8, 0), dt.time(15, 0)),
    2: (dt.time(8, 0), dt.time(15, 0)),
    3: (dt.time(8, 0), dt.time(15, 0)),
    4: (dt.time(8, 0), dt.time(11, 30)),
}
HOLIDAY_CATEGORIES = ("public", "government")


@dataclass(frozen=True)
class Opening:
    """The answer for one point on one day."""

    is_open: bool
    hours: Hours | None
    capacity: int
    reason: str


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES, language="id")


def holiday_name(day: dt.date) -> str | None:
    """Return the Indonesian name of the public holiday or cuti bersama on a day, if any."""
    return _holidays_of(day.year).get(day)


def weekly_hours(point: ServicePoint) -> dict[int, Hours]:
    """Return the point's opening hours per weekday (0 = Monday)."""
    rows = list(WorkingHours.objects.filter(service_point=point))
    if not rows:
        return dict(DEFAULT_WEEK)
    return {row.weekday: (row.opens_at, row.closes_at) for row in rows}


def recording_capacity(point: ServicePoint) -> int:
    """Return working recording kits × per-kit daily throughput."""
    kits = Device.objects.filter(
        service_point=point, kind=Device.Kind.RECORDING_KIT, status=Device.Status.ACTIVE
    ).count()
    return kits * point.per_kit_daily_throughput


def _special_day(point: ServicePoint, day: dt.date) -> SpecialDay | None:
    rows = SpecialDay.objects.filter(
        Q(office_id=point.office_id, service_point__isnull=True) | Q(service_point=point), day=day
    )
    specials = {s.service_point_id: s for s in rows}
    return specials.get(point.pk) or specials.get(None)


def _closed(reason: str) -> Opening:
    return Opening(is_open=False, hours=None, capacity=0, reason=reason)


def opening(*, point: ServicePoint, day: dt.date) -> Opening:
    """Tell whether a point is open on a day, its hours and its recording capacity."""
    if not point.is_active:
        return _closed("Titik layanan tidak aktif.")
    special = _special_day(point, day)
    if special is not None:
        if not special.is_open:
            return _closed(f"Tutup: {special.reason}")
        hours = (special.opens_at, special.closes_at)
        return Opening(True, hours, recording_capacity(point), f"Buka khusus: {special.reason}")
    name = holiday_name(day)
    if name:
        return _closed(f"Hari libur: {name}")
    hours = weekly_hours(point).get(day.weekday())
    if hours is None:
        return _closed("Di luar hari layanan.")
    capacity = recording_capacity(point)
    reason = "Hari layanan biasa." if capacity else "Tidak ada alat perekaman yang berfungsi."
    return Opening(True, hours, capacity, reason)


SERVICE_DAY_HORIZON = 31


def next_service_day(*, after: dt.date, point: ServicePoint | None = None) -> dt.date:
    """Return the first day after `after` on which the point opens (without a point: the
    first working day that is no holiday), within a month; else the day after `after`."""
    for offset in range(1, SERVICE_DAY_HORIZON + 1):
        day = after + dt.timedelta(days=offset)
        if point is not None:
            if opening(point=point, day=day).is_open:
                return day
        elif day.weekday() in DEFAULT_WEEK and not holiday_name(day):
            return day
    return after + dt.timedelta(days=1)


def month_openings(*, point: ServicePoint, year: int, month: int) -> list[tuple[dt.date, Opening]]:
    """Return the opening of every day of a month for a point."""
    day = dt.date(year, month, 1)
    days = []
    while day.month == month:
        days.append((day, opening(point=point, day=day)))
        day += dt.timedelta(days=1)
    return days
