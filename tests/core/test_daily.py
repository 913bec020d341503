import pytest
from django.core.management import call_command

from ektp.coverage.models import CoverageSnapshot

pytestmark = pytest.mark.django_db


def test_daily_jobs_run_and_repeat_safely(pesawaran):
    from tests.residents.factories import ResidentFactory

    ResidentFactory(address_region_id="18.09.01.2001")
    call_command("daily")
    snapshots = CoverageSnapshot.objects.count()
    assert snapshots > 0
    call_command("daily")
    assert CoverageSnapshot.objects.count() == snapshots
