"""Factories and helpers for appointments: points with kits, open days, windows, residents."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from ektp.appointments.models import Counter, TimeWindow
from ektp.offices.models import SpecialDay
from tests.offices.factories import DeviceFactory, ServicePointFactory
from tests.residents.factories import FamilyFactory, ResidentFactory

__all__ = ["FamilyFactory", "ResidentFactory"]

# A Monday with no holiday, and the Christmas holiday of the same week.
WORKDAY = dt.date(2025, 12, 22)
HOLIDAY = dt.date(2025, 12, 25)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """Return an aware local datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def point_with_kits(*, kits: int = 1, throughput: int = 60, **kwargs):
    """Create a service point with working recording kits."""
    point = ServicePointFactory(per_kit_daily_throughput=throughput, **kwargs)
    for _ in range(kits):
        DeviceFactory(service_point=point)
    return point


def open_on(point, day: dt.date, opens=dt.time(8, 0), closes=dt.time(12, 0), reason="Uji"):
    """Declare a special opening of a point on a day."""
    return SpecialDay.objects.create(
        office=point.office,
        service_point=point,
        day=day,
        is_open=True,
        opens_at=opens,
        closes_at=closes,
        reason=reason,
    )


class TimeWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeWindow

    service_point = factory.LazyFunction(lambda: point_with_kits(throughput=15))
    day = WORKDAY
    starts_at = dt.time(8, 0)
    ends_at = dt.time(9, 0)
    capacity = 15


class CounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Counter

    service_point = factory.LazyFunction(point_with_kits)
    name = factory.Sequence(lambda n: f"Loket {n + 1}")
