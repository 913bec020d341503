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


def test_daily_takes_up_a_task_that_a_dead_worker_left_running(settings):
    import datetime as dt

    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from ektp.coverage.tasks import snapshot_coverage

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EKTP_TASK_RECLAIM_AFTER_SECONDS = 120
    row = DBTaskResult.objects.get(id=snapshot_coverage.enqueue(day="2026-12-01").id)
    row.claim("killed-worker")
    DBTaskResult.objects.filter(id=row.id).update(started_at=timezone.now() - dt.timedelta(hours=1))
    call_command("daily")
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY
