"""Factories for coverage: synthetic residents with a recording date, policies, targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from ektp.coverage.models import CoveragePolicy, PopulationKind, Target
from tests.residents.factories import ResidentFactory

AS_OF = dt.date(2024, 6, 30)


def adults(village: str, n: int, *, recorded: int = 0, recorded_on=dt.date(2024, 1, 15), **kw):
    """Create n wajib KTP adults in a village, the first `recorded` of them recorded."""
    people = []
    for i in range(n):
        done = i < recorded
        people.append(
            ResidentFactory(
                address_region_id=village,
                birth_date=kw.get("birth_date", dt.date(1990, 3, 1)),
                recorded_on=recorded_on if done else None,
                ktp_status=kw.get("ktp_status", "CARD_ISSUED") if done else "BELUM_REKAM",
            )
        )
    return people


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoveragePolicy

    green_min = Decimal("92")
    yellow_min = Decimal("80")
    valid_from = dt.date(2018, 1, 1)


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    name = "Target uji"
    population = PopulationKind.WAJIB_KTP
    region_id = "18.09"
    rate = Decimal("100")
    due_date = dt.date(2024, 7, 9)
