"""Factories for offices, service points and devices."""

from __future__ import annotations

import factory

from ektp.offices.models import Device, Office, ServicePoint


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("region_id",)

    region_id = "18.09"
    name = "Disdukcapil Kab. Pesawaran"


class ServicePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePoint

    office = factory.SubFactory(OfficeFactory)
    kind = ServicePoint.Kind.OFFICE
    code = factory.Sequence(lambda n: f"TL-{n}")
    name = factory.Sequence(lambda n: f"Titik Layanan {n}")


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    service_point = factory.SubFactory(ServicePointFactory)
    kind = Device.Kind.RECORDING_KIT
    serial_number = factory.Sequence(lambda n: f"ALAT-{n:05d}")


class PrinterFactory(DeviceFactory):
    kind = Device.Kind.CARD_PRINTER
