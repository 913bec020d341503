"""The task worker's heartbeat and the reclaim of tasks that a dead worker left RUNNING."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ektp.core import worker
from ektp.core.models import WorkerHeartbeat
from ektp.coverage.tasks import snapshot_coverage

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _left_running(*, by: str, minutes_ago: int = 10, runs: int = 1) -> DBTaskResult:
    """Enqueue a real task and leave it as a killed worker leaves it: RUNNING, never finished."""
    result = snapshot_coverage.enqueue(day="2026-12-01")
    row = DBTaskResult.objects.get(id=result.id)
    for n in range(runs - 1):
        row.claim(f"earlier-{n}")
    row.claim(by)
    DBTaskResult.objects.filter(id=row.id).update(
        started_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    return row


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, EKTP_TASK_RECLAIM_AFTER_SECONDS=120)
def test_task_left_running_by_a_dead_worker_is_put_back_by_id():
    row = _left_running(by="dead-worker")
    reclaimed = worker.reclaim_stale_tasks()
    assert reclaimed.requeued == [str(row.id)]
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY
    assert DBTaskResult.objects.ready().filter(id=row.id).exists()
    assert worker.reclaim_stale_tasks().requeued == []  # once put back, left alone


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, EKTP_TASK_RECLAIM_AFTER_SECONDS=120)
def test_task_of_a_worker_that_still_beats_is_left_running():
    row = _left_running(by="live-worker")
    worker.beat(worker_id="live-worker", started_at=timezone.now())
    assert worker.reclaim_stale_tasks().requeued == []
    row.refresh_from_db()
    assert row.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, EKTP_TASK_RECLAIM_AFTER_SECONDS=120)
def test_task_that_started_within_the_timeout_is_left_running():
    row = _left_running(by="dead-worker", minutes_ago=1)
    assert worker.reclaim_stale_tasks().requeued == []
    row.refresh_from_db()
    assert row.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, EKTP_TASK_RECLAIM_AFTER_SECONDS=120)
def test_worker_that_stopped_on_purpose_is_gone_even_with_a_fresh_beat():
    row = _left_running(by="stopped-worker")
    worker.beat(worker_id="stopped-worker", started_at=timezone.now())
    worker.stopped(worker_id="stopped-worker")
    assert worker.reclaim_stale_tasks().requeued == [str(row.id)]


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, EKTP_TASK_RECLAIM_AFTER_SECONDS=120, EKTP_TASK_MAX_RUNS=3)
def test_task_under_which_workers_died_too_often_is_failed_not_run_again():
    row = _left_running(by="third-dead-worker", runs=3)
    reclaimed = worker.reclaim_stale_tasks()
    assert reclaimed.failed == [str(row.id)] and reclaimed.requeued == []
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "ektp.core.worker.WorkerLost"
    assert "mati 3 kali" in row.traceback


@pytest.mark.django_db
def test_worker_state_says_never_seen_then_alive_then_gone(settings):
    settings.EKTP_WORKER_GONE_AFTER_SECONDS = 60
    assert worker.worker_state() == worker.WorkerState(False, False, None)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    worker.beat(worker_id="w1", started_at=long_ago, now=long_ago)
    state = worker.worker_state()
    assert state.ever_seen and not state.alive
    worker.beat(worker_id="w1", started_at=long_ago)
    assert worker.worker_state().alive


@pytest.mark.django_db(transaction=True)
@override_settings(
    TASKS=DB_TASKS, EKTP_TASK_RECLAIM_AFTER_SECONDS=60, EKTP_WORKER_HEARTBEAT_SECONDS=0.2
)
def test_db_worker_takes_up_a_lost_task_at_start_and_beats_while_it_runs(settings, tmp_path):
    from ektp.dedup.engine import close_engine

    settings.ABIS_URL = None
    settings.ABIS_DATA_DIR = str(tmp_path / "abis")
    row = _left_running(by="killed-worker")
    try:
        call_command(
            "db_worker",
            batch=True,
            reload=False,
            startup_delay=False,
            worker_id="next",
            verbosity=0,
        )
    finally:
        close_engine()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.worker_ids == ["killed-worker", "next"]
    beat = WorkerHeartbeat.objects.get(worker_id="next")
    assert beat.stopped_at is not None  # a worker that stops on purpose says so
