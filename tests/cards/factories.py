"""Factories for offices, service points, printers and stock (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

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
