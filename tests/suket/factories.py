"""Factories for suket rules and the residents who ask for one (synthetic data only)."""

from __future__ import annotations

import datetime as dt

import factory

from ektp.residents.models import KtpStatus
from ektp.suket.models import Authority, RuleMode, SuketRule
from tests.residents.factories import ResidentFactory


class RecordedResidentFactory(ResidentFactory):
    """Recorded, waiting for penunggalan (SFE): not yet PRR."""

    ktp_status = KtpStatus.SENT_FOR_ENROLLMENT
    recorded_on = dt.date(2020, 3, 2)


class PrrResidentFactory(ResidentFactory):
    ktp_status = KtpStatus.PRINT_READY_RECORD
    recorded_on = dt.date(2020, 3, 2)


class SuketRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuketRule

    authority = Authority.PROVINCE
    region_id = "18"
    title = factory.Sequence(lambda n: f"Kebijakan suket {n}")
    mode = RuleMode.ALLOW
    effective_from = dt.date(2020, 1, 1)


def pilkada_2020(**overrides) -> SuketRule:
    """Lampung's rule: suket only for the 2020 Pilkada, issue until 9 Dec, valid until 31 Dec."""
    data = {
        "authority": Authority.PROVINCE,
        "region_id": "18",
        "title": "Suket khusus Pilkada 2020",
        "reference": "SE Gubernur Lampung 470/2020",
        "mode": RuleMode.PURPOSE_ONLY,
        "purpose": "Pilkada 2020",
        "effective_from": dt.date(2020, 9, 1),
        "effective_to": dt.date(2020, 12, 31),
        "issue_until": dt.date(2020, 12, 9),
        "valid_until": dt.date(2020, 12, 31),
    }
    data.update(overrides)
    return SuketRuleFactory(**data)
