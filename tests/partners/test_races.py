"""Two heads apply the same file at the same moment: one import changes the registry, the
other changes nothing (PostgreSQL, real threads)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.partners import services
from ektp.partners.models import MaritalChange, Marriage, PartnerImport
from tests.partners.factories import csv_file, marriage_row
from tests.residents.factories import ResidentFactory
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_same_file_applied_twice_at_once_changes_the_registry_once(make_staff):
    head = make_staff(Role.SUPERVISOR)
    husband, wife = ResidentFactory(), ResidentFactory(sex="P")
    married_on = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    content = csv_file("kua", [marriage_row(husband, wife, married_on=married_on)])
    staged = [
        services.stage_import(
            actor=head, kind="kua", kabkota_code="18.09", file_name="kua.csv", content=content
        )
        for _ in range(2)
    ]
    turns = itertools.count()

    def apply() -> None:
        services.apply_import(actor=head, partner_import=staged[next(turns)])

    errors = run_in_threads(apply, 2)

    assert len(errors) == 1 and isinstance(errors[0], services.PartnerError), errors
    assert PartnerImport.objects.filter(status=PartnerImport.Status.APPLIED).count() == 1
    assert Marriage.objects.count() == 1 and MaritalChange.objects.count() == 2
