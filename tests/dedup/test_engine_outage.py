"""An unreachable ABIS: penunggalan retries with backoff, then fails as an engine failure that a
supervisor can run again with the stored templates (no new recording)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from ektp.core.models import AuditEvent, Role
from ektp.core.services import issue_api_token
from ektp.dedup import services
from ektp.dedup.engine import get_engine
from ektp.dedup.errors import DedupError, NotAllowed
from ektp.dedup.models import FailureKind, PenunggalanFailure
from ektp.enrollment.models import Enrollment, Penunggalan, StatusChange
from ektp.residents.models import KtpStatus
from tests.dedup.factories import person, sent, subject

pytestmark = pytest.mark.django_db

UNREACHABLE = "http://127.0.0.1:9"
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


def _status(resident):
    resident.refresh_from_db()
    return resident.ktp_status


def _engine_failure(operator, settings):
    """A record whose every attempt found the engine out of reach."""
    resident = person()
    enrollment = sent(operator, resident, iris=subject(300))
    settings.ABIS_URL = UNREACHABLE
    last = len(services.retry_delays()) + 1
    assert services.run_penunggalan(enrollment_id=enrollment.pk, attempt=last) == "ENROLL_FAILURE"
    settings.ABIS_URL = None
    return resident, enrollment, PenunggalanFailure.objects.get(enrollment=enrollment)


def test_engine_out_of_reach_schedules_a_later_attempt_and_keeps_the_record_sfe(
    operator, settings, django_capture_on_commit_callbacks
):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(301))
    settings.ABIS_URL = UNREACHABLE
    settings.TASKS = DUMMY
    default_task_backend.clear()
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.run_penunggalan(enrollment_id=enrollment.pk) == "retry"

    assert _status(resident) == KtpStatus.SENT_FOR_ENROLLMENT
    enrollment.refresh_from_db()
    assert enrollment.penunggalan == Penunggalan.QUEUED
    assert "tidak dapat dihubungi" in enrollment.penunggalan_note
    assert "percobaan 1 dari 4" in enrollment.penunggalan_note
    [queued] = default_task_backend.results
    assert queued.task.name == "run_penunggalan"
    assert queued.kwargs == {"enrollment_id": str(enrollment.pk), "attempt": 2}
    first_delay = services.retry_delays()[0]
    assert queued.task.run_after >= before + dt.timedelta(seconds=first_delay)
    assert not PenunggalanFailure.objects.exists()


def test_delays_grow_between_attempts():
    delays = services.retry_delays()
    assert len(delays) >= 2
    assert list(delays) == sorted(delays) and delays[0] < delays[-1]


def test_a_later_attempt_succeeds_once_the_engine_answers(operator, settings):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(302))
    settings.ABIS_URL = UNREACHABLE
    settings.TASKS = DUMMY
    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "retry"
    settings.ABIS_URL = None

    assert services.run_penunggalan(enrollment_id=enrollment.pk, attempt=2) == "PRR"
    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
    assert get_engine().count() == 1


def test_without_deferred_tasks_the_attempts_run_back_to_back_and_end_in_failure(
    operator, settings, django_capture_on_commit_callbacks
):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(303))
    settings.ABIS_URL = UNREACHABLE
    settings.TASKS = IMMEDIATE
    settings.EKTP_PENUNGGALAN_RETRY_DELAYS = (0, 0)

    with django_capture_on_commit_callbacks(execute=True):
        services.run_penunggalan(enrollment_id=enrollment.pk)

    assert _status(resident) == KtpStatus.ENROLL_FAILURE
    failure = PenunggalanFailure.objects.get()
    assert (failure.kind, failure.attempts) == (FailureKind.ENGINE, 3)


def test_last_attempt_fails_the_record_with_an_indonesian_engine_reason(operator, settings):
    resident, _, failure = _engine_failure(operator, settings)
    assert _status(resident) == KtpStatus.ENROLL_FAILURE
    reason = resident.ktp_history.last().reason
    assert "mesin ABIS tidak dapat dihubungi setelah 4 percobaan" in reason
    assert "supervisor dapat mengulang penunggalan" in reason
    assert failure.kind == FailureKind.ENGINE and failure.may_rerun


def test_a_quality_failure_is_recorded_as_not_rerunnable(operator, supervisor, settings):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(304))
    settings.EKTP_QUALITY_THRESHOLDS = {"iris_left": 95}
    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "ENROLL_FAILURE"
    failure = PenunggalanFailure.objects.get()
    assert failure.kind == FailureKind.TEMPLATE and not failure.may_rerun
    with pytest.raises(DedupError, match="direkam ulang"):
        services.rerun_penunggalan(failure=failure, actor=supervisor)
    assert _status(resident) == KtpStatus.ENROLL_FAILURE


def test_supervisor_reruns_an_engine_failure_without_a_new_recording(
    operator, supervisor, settings, django_capture_on_commit_callbacks
):
    resident, enrollment, failure = _engine_failure(operator, settings)
    samples = sorted(enrollment.samples.values_list("pk", flat=True))
    settings.TASKS = IMMEDIATE

    with django_capture_on_commit_callbacks(execute=True):
        services.rerun_penunggalan(failure=failure, actor=supervisor)

    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
    assert Enrollment.objects.get(resident=resident).pk == enrollment.pk
    assert sorted(enrollment.samples.values_list("pk", flat=True)) == samples
    steps = list(
        StatusChange.objects.filter(resident=resident)
        .order_by("at", "pk")
        .values_list("to_status", "actor__username")
    )
    assert (KtpStatus.BIO_CAPTURED, supervisor.username) in steps
    assert (KtpStatus.SENT_FOR_ENROLLMENT, supervisor.username) in steps
    failure.refresh_from_db()
    assert failure.rerun_by == supervisor and failure.rerun_at is not None
    assert AuditEvent.objects.filter(
        object_type="penunggalan_failure", object_id=str(failure.pk)
    ).exists()
    with pytest.raises(DedupError, match="sudah diulang"):
        services.rerun_penunggalan(failure=failure, actor=supervisor)


def test_operator_may_not_rerun_penunggalan(operator, settings):
    resident, _, failure = _engine_failure(operator, settings)
    with pytest.raises(NotAllowed):
        services.rerun_penunggalan(failure=failure, actor=operator)
    assert _status(resident) == KtpStatus.ENROLL_FAILURE


def test_queue_page_lists_engine_failures_with_a_rerun_button(
    client, operator, supervisor, settings, django_capture_on_commit_callbacks
):
    resident, _, failure = _engine_failure(operator, settings)
    settings.TASKS = IMMEDIATE
    client.force_login(supervisor)
    page = client.get(reverse("dedup:queue"))
    assert page.status_code == 200
    assert resident.nik in page.content.decode()
    assert reverse("dedup:rerun", args=[failure.pk]) in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("dedup:rerun", args=[failure.pk]))

    assert answer.status_code == 302
    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
    again = client.get(reverse("dedup:queue")).content.decode()
    assert reverse("dedup:rerun", args=[failure.pk]) not in again


def test_rerun_button_refuses_an_unknown_failure(client, supervisor):
    client.force_login(supervisor)
    assert client.post(reverse("dedup:rerun", args=["bukan-uuid"])).status_code == 404


def test_api_lists_and_reruns_engine_failures(operator, supervisor, settings, client):
    resident, _, failure = _engine_failure(operator, settings)
    settings.TASKS = DUMMY
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=supervisor, name='uji')}"}
    listed = client.get("/api/v1/dedup/failures", **headers)
    assert listed.status_code == 200
    assert [f["nik"] for f in listed.json()] == [resident.nik]

    answer = client.post(f"/api/v1/dedup/failures/{failure.pk}/rerun", **headers)
    assert answer.status_code == 200
    assert answer.json()["rerun_at"] is not None
    assert _status(resident) == KtpStatus.SENT_FOR_ENROLLMENT
    again = client.post(f"/api/v1/dedup/failures/{failure.pk}/rerun", **headers)
    assert again.status_code == 409
    operator_headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=operator, name='o')}"}
    assert client.get("/api/v1/dedup/failures", **operator_headers).status_code == 403
