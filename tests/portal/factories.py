"""Factories for portal tests: printed cards, suket and bookings of synthetic residents."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from ektp.cards.models import Blank, CardPrint
from ektp.core.models import Role, User
from tests.cards.factories import ServicePointFactory
from tests.residents.factories import ResidentFactory

_n = itertools.count(1)


class PortalResidentFactory(ResidentFactory):
    birth_date = dt.date(1990, 5, 17)
    name = "BUDI SANTOSO"
    phone = "081234567890"


def _operator() -> User:
    user, _ = User.objects.get_or_create(
        username="operator-portal", defaults={"role": Role.OPERATOR, "region_id": "18.09"}
    )
    return user


def printed_card(resident, *, point=None, printed_at=None) -> CardPrint:
    """Record a card printed for a resident at a service point."""
    point = point or ServicePointFactory(name="UPT Gedong Tataan")
    blank = Blank.objects.create(
        serial=f"UJI{next(_n):08d}", office=point.office, service_point=point, state="used"
    )
    return CardPrint.objects.create(
        blank=blank,
        resident=resident,
        reason="baru",
        service_point=point,
        operator=_operator(),
        printed_at=printed_at or timezone.now(),
    )


def valid_suket(resident):
    """Store a valid suket for a recorded resident, as the suket app records one."""
    from ektp.suket.models import Suket
    from tests.cards.factories import OfficeFactory

    today = timezone.localdate()
    return Suket.objects.create(
        number=f"474.4/{next(_n):04d}/SKT/2026",
        resident=resident,
        nik=resident.nik,
        name=resident.name,
        birth_place=resident.birth_place,
        birth_date=resident.birth_date,
        sex=resident.sex,
        address="Dusun I, RT 001/RW 001",
        recorded_on=resident.recorded_on,
        reason="belum_prr",
        rule_source="Ketentuan bawaan",
        issued_at=timezone.now(),
        issued_on=today,
        valid_until=today + dt.timedelta(days=180),
        office=OfficeFactory(),
        officer=_operator(),
        kabkota_code=resident.kabkota_code,
        province_code=resident.province_code,
        qr_payload="uji",
    )


def active_booking(resident, *, code: str = "BK7Q2MN8PZ", point_name: str = "UPT Negeri Katon"):
    """Store a booking three days ahead for a resident, as the appointments app records one."""
    from ektp.appointments.models import Booking, TimeWindow

    window = TimeWindow.objects.create(
        service_point=ServicePointFactory(name=point_name),
        day=timezone.localdate() + dt.timedelta(days=3),
        starts_at=dt.time(8, 0),
        ends_at=dt.time(10, 0),
        capacity=20,
        booked=1,
        issued=1,
    )
    return Booking.objects.create(code=code, resident=resident, window=window, queue_number=1)
