"""An office with a mobile unit and its laptop enrolled and approved, in one process: the
office answers through Django's test client, the edge keeps its rows in the same database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.offices.models import ServicePoint, SpecialDay
from ektp.sync import edge, services
from ektp.sync.client import DjangoClientTransport
from tests.enrollment.factories import simulated
from tests.offices.factories import ServicePointFactory
from tests.residents.factories import ResidentFactory

VILLAGE = "18.09.01.2001"


def open_days(point: ServicePoint, *days: dt.date) -> None:
    for day in days:
        SpecialDay.objects.get_or_create(
            office=point.office,
            service_point=point,
            day=day,
            defaults={
                "is_open": True,
                "opens_at": dt.time(0, 0),
                "closes_at": dt.time(23, 59),
                "reason": "Jemput bola",
            },
        )


@pytest.fixture(autouse=True)
def keys_in_tmp(settings, tmp_path):
    settings.EKTP_KEY_DIR = tmp_path / "keys"


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def mobile_point(db):
    point = ServicePointFactory(kind=ServicePoint.Kind.MOBILE, code="MK-1", name="Mobil Keliling 1")
    today = timezone.localdate()
    open_days(point, *(today - dt.timedelta(days=n) for n in range(-1, 6)))
    return point


@pytest.fixture
def transport(client):
    return DjangoClientTransport(client)


@pytest.fixture
def enrolled(mobile_point, operator, supervisor, transport):
    """The office registers the laptop, the laptop enrols with the code, the office approves."""
    device, code = services.register_device(
        name="Laptop MK-1",
        service_point=mobile_point,
        operator=operator,
        villages=[VILLAGE],
        actor=supervisor,
    )
    edge.enrol(server_url="http://testserver", code=code, transport=transport)
    services.approve_device(device=device, actor=supervisor)
    device.refresh_from_db()
    return device


@pytest.fixture
def recorded(enrolled):
    """Record a resident of the village on the edge; return (resident, outbox packet)."""

    def make(resident=None, at=None):
        resident = resident or ResidentFactory(address_region_id=VILLAGE)
        packet = edge.record(
            nik=resident.nik, captures=simulated(resident.nik), operator="petugas", at=at
        )
        return resident, packet

    return make
