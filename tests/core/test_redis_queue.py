"""Background tasks on Redis Queue (EKTP_TASK_BACKEND=rq), on the machine's real Redis: the
same tasks, enqueued after commit by id, run by an rq worker, safe to run twice."""

from __future__ import annotations

import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured

import ektp.settings
from ektp.core import health, redisqueue
from ektp.core.worker import queued_or_running
from ektp.dedup.selectors import live_penunggalan_ids
from ektp.enrollment.models import Enrollment
from ektp.enrollment.tasks import run_penunggalan
from ektp.residents.models import KtpStatus
from tests.dedup.factories import person, sent, subject

pytestmark = pytest.mark.django_db

RQ = "django_tasks_rq.RQBackend"
# A database of the machine's Redis that nothing else of ektp uses; emptied around each test.
URL = "redis://127.0.0.1:6379/11"
# Test runs side by side (CI runs SQLite and PostgreSQL at once) share the machine's Redis:
# each test holds this lock, kept in another database, while it uses the queue.
LOCK_URL = "redis://127.0.0.1:6379/10"


@pytest.fixture
def redis_queue(settings):
    import django_rq
    import redis

    connection = redis.Redis.from_url(URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis does not answer at 127.0.0.1:6379 (`.ci/run` starts it)")
    locks = redis.Redis.from_url(LOCK_URL)
    turn = locks.lock("ektp-tests-redis-queue", timeout=300, blocking_timeout=600)
    assert turn.acquire(), "another test run held the Redis queue for ten minutes"
    connection.flushdb()
    settings.TASK_BACKEND = RQ
    settings.TASKS = {"default": {"BACKEND": RQ}}
    settings.RQ_QUEUES = {"default": {"URL": URL, "DEFAULT_TIMEOUT": 60}}
    settings.EKTP_PENUNGGALAN_HANDLER = "ektp.dedup.services.run_penunggalan"
    from django_tasks_rq import Job

    try:
        yield django_rq.get_queue("default", job_class=Job)
    finally:
        connection.flushdb()
        connection.close()
        turn.release()
        locks.close()


def _work(queue) -> None:
    """Run every queued job in this process (rq's SimpleWorker forks nothing), then stop."""
    from django_tasks_rq import Job
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)


def _waiting(queue) -> list[str]:
    return [job.func_name for job in queue.jobs]


def _status(resident):
    resident.refresh_from_db()
    return resident.ktp_status


def test_a_recording_sent_for_penunggalan_goes_through_redis_and_becomes_print_ready(
    operator, redis_queue, django_capture_on_commit_callbacks
):
    resident = person()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = sent(operator, resident, iris=subject(70))
    # Enqueued after commit, by id: the job waits in Redis, not in the database.
    assert _waiting(redis_queue).count(run_penunggalan.module_path) == 1
    assert queued_or_running(run_penunggalan) == [{"enrollment_id": str(enrollment.pk)}]
    assert str(enrollment.pk) in live_penunggalan_ids()
    assert _status(resident) == KtpStatus.SENT_FOR_ENROLLMENT

    _work(redis_queue)

    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
    assert redis_queue.count == 0 and live_penunggalan_ids() == set()


def test_the_same_job_run_twice_has_one_effect(
    operator, redis_queue, django_capture_on_commit_callbacks
):
    resident = person()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = sent(operator, resident, iris=subject(71))
    # A worker lost mid-job and the stuck sweep queue the same enrollment again.
    run_penunggalan.enqueue(enrollment_id=str(enrollment.pk))
    assert _waiting(redis_queue).count(run_penunggalan.module_path) == 2

    _work(redis_queue)

    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
    assert resident.ktp_history.filter(to_status=KtpStatus.PRINT_READY_RECORD).count() == 1
    assert Enrollment.objects.get(pk=enrollment.pk).resident_id == resident.pk
    assert redis_queue.failed_job_registry.count == 0


def test_healthz_asks_redis_for_a_listening_worker(redis_queue):
    from rq import Worker

    check = health.task_worker(None)
    assert not check.ok and "tidak ada pekerja tugas" in check.detail
    worker = Worker([redis_queue], connection=redis_queue.connection)
    worker.register_birth()
    try:
        check = health.task_worker(None)
        assert check.ok and "1 pekerja tugas" in check.detail
    finally:
        worker.register_death()


def test_healthz_says_when_redis_cannot_be_reached(redis_queue, settings):
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}
    check = health.task_worker(None)
    assert not check.ok and "tidak terjangkau" in check.detail


def test_settings_choose_redis_queue_and_refuse_it_without_redis(monkeypatch):
    for name in ("REDIS_URL", "CACHE_URL", "EKTP_RQ_URL", "EKTP_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EKTP_TASK_BACKEND", "rq")
    try:
        with pytest.raises(ImproperlyConfigured, match="EKTP_TASK_BACKEND=rq"):
            importlib.reload(ektp.settings)
        monkeypatch.setenv("EKTP_RQ_URL", URL)
        reloaded = importlib.reload(ektp.settings)
        assert reloaded.TASKS["default"]["BACKEND"] == RQ
        assert reloaded.RQ_QUEUES["default"]["URL"] == URL
        assert {"django_rq", "django_tasks_rq"} <= set(reloaded.INSTALLED_APPS)
        monkeypatch.setenv("EKTP_TASK_BACKEND", "database")
        reloaded = importlib.reload(ektp.settings)
        assert reloaded.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
        assert "django_rq" not in reloaded.INSTALLED_APPS
        assert not redisqueue.in_use()
    finally:
        monkeypatch.undo()
        importlib.reload(ektp.settings)
