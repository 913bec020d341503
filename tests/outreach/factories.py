"""Factories for jemput bola: offices with mobile units."""

from __future__ import annotations

import factory

from ektp.offices.models import Office, ServicePoint


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("region_id",)

    region_id = "18.09"
    name = factory.LazyAttribute(lambda o: f"Disdukcapil {o.region_id}")


class MobileUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePoint

    office = factory.SubFactory(OfficeFactory)
    kind = ServicePoint.Kind.MOBILE
    code = factory.Sequence(lambda n: f"MK{n}")
    name = factory.Sequence(lambda n: f"Mobil keliling {n}")
