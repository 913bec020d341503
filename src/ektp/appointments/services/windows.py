"""Time windows: a point's open hours cut into bookable windows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from ektp.appointments.models import (
    TimeWindow,
)
from ektp.appointments.services.common import WindowUnavailable, horizon_days, window_minutes
from ektp.offices.calendar import Opening, opening
from ektp.offices.models import ServicePoint


@dataclass(frozen=True)
class WindowPlan:
    starts_at: dt.time
    ends_at: dt.time
    capacity: int


def plan_windows(day_opening: Opening, *, minutes: int | None = None) -> list[WindowPlan]:
    """Split an open day's hours into windows and spread its capacity across them."""
    if not day_opening.is_open or not day_opening.hours or day_opening.capacity <= 0:
        return []
    minutes = minutes or window_minutes()
    opens, closes = day_opening.hours
    anchor = dt.date(2000, 1, 1)
    start, end = dt.datetime.combine(anchor, opens), dt.datetime.combine(anchor, closes)
    bounds = []
    while start < end:
        stop = min(start + dt.timedelta(minutes=minutes), end)
        bounds.append((start.time(), stop.time()))
        start = stop
    base, extra = divmod(day_opening.capacity, len(bounds))
    plans = [WindowPlan(s, e, base + (1 if i < extra else 0)) for i, (s, e) in enumerate(bounds)]
    return [p for p in plans if p.capacity > 0]


def windows_for(*, point: ServicePoint, day: dt.date) -> list[TimeWindow]:
    """Return a point's windows on a day, creating them from its calendar; none when closed."""
    day_opening = opening(point=point, day=day)
    if not day_opening.is_open:
        return []
    existing = list(TimeWindow.objects.filter(service_point=point, day=day))
    if not existing:
        TimeWindow.objects.bulk_create(
            [
                TimeWindow(
                    service_point=point,
                    day=day,
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                    capacity=p.capacity,
                )
                for p in plan_windows(day_opening)
            ],
            ignore_conflicts=True,
        )
        existing = list(TimeWindow.objects.filter(service_point=point, day=day))
    return sorted(existing, key=lambda w: w.starts_at)


def check_bookable_day(day: dt.date, *, today: dt.date | None = None) -> None:
    """Refuse a day residents may not look at: before today or beyond the booking horizon."""
    today = today or timezone.localdate()
    if not today <= day <= today + dt.timedelta(days=horizon_days()):
        raise WindowUnavailable(
            f"Tanggal harus antara hari ini dan {horizon_days()} hari ke depan.", rule="horizon"
        )
