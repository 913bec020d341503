"""Helpers for recording tests: a ready point, simulated captures."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ektp.enrollment.biometrics import SimulatorDevice, capture_all
from ektp.enrollment.services import record_enrollment
from ektp.offices.models import SpecialDay
from tests.offices.factories import DeviceFactory, ServicePointFactory
from tests.residents.factories import ResidentFactory


def open_point(**kwargs):
    """Return a point with one working kit that is open today, whatever day today is."""
    point = ServicePointFactory(**kwargs)
    kit = DeviceFactory(service_point=point)
    SpecialDay.objects.create(
        office=point.office,
        service_point=point,
        day=timezone.localdate(),
        is_open=True,
        opens_at=dt.time(0, 0),
        closes_at=dt.time(23, 59),
        reason="Layanan uji",
    )
    return point, kit


def simulated(seed: str = "uji", skip=frozenset(), low_quality=None):
    accepted, _ = capture_all(
        device=SimulatorDevice(seed=seed, low_quality=low_quality), skip=set(skip)
    )
    return accepted


def record(operator, resident=None, point=None, kit=None, exceptions=None, **kwargs):
    resident = resident or ResidentFactory()
    if point is None:
        point, kit = open_point()
    exceptions = exceptions or {}
    return record_enrollment(
        resident=resident,
        service_point=point,
        device=kit,
        operator=operator,
        captures=kwargs.pop("captures", None) or simulated(str(resident.pk), skip=set(exceptions)),
        exceptions=exceptions,
        **kwargs,
    )
