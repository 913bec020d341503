"""Factories for offices, service points, printers and stock (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
import pytest

from ektp.cards import services
from ektp.cards.models import PrintReservation
from ektp.offices.models import Device, Office, ServicePoint
from ektp.residents.models import KtpStatus
from tests.residents.factories import ResidentFactory

_n = itertools.count(1)


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("region_id",)

    region_id = "18.09"
    name = "Disdukcapil Kabupaten Pesawaran"


class ServicePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePoint

    office = factory.SubFactory(OfficeFactory)
    kind = ServicePoint.Kind.UPT
    code = factory.LazyFunction(lambda: f"UPT{next(_n):03d}")
    name = factory.LazyAttribute(lambda o: f"UPT {o.code}")
    region_id = "18.09.01"


class PrinterDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    service_point = factory.SubFactory(ServicePointFactory)
    kind = Device.Kind.CARD_PRINTER
    serial_number = factory.LazyFunction(lambda: f"PRN-{next(_n):05d}")
    status = Device.Status.ACTIVE


class PrrResidentFactory(ResidentFactory):
    ktp_status = KtpStatus.PRINT_READY_RECORD
    recorded_on = dt.date(2026, 1, 5)


class PowerCut(Exception):
    """The server dies while the printer works: nothing after the printer call runs."""


class DyingPrinter:
    """A printer during which the server dies (the card may or may not have come out)."""

    def print_card(self, face):
        raise PowerCut(face.serial)


def stopped_print(request_or_resident, point, operator, **kw) -> PrintReservation:
    """A print whose job stopped mid-way: the blank reserved, no card, awaiting an operator."""
    with pytest.raises(PowerCut):
        services.print_card(
            request_or_resident=request_or_resident,
            service_point=point,
            printer=DyingPrinter(),
            operator=operator,
            **kw,
        )
    return PrintReservation.objects.filter(status="printing").latest("reserved_at")
