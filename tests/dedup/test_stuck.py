"""Records stuck in SENT_FOR_ENROLLMENT with no task to move them: listed, and sent again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ektp.core.models import AuditEvent, Role
from ektp.dedup import selectors, services
from ektp.dedup.errors import DedupError, NotAllowed
from ektp.enrollment.models import Penunggalan, StatusChange
from ektp.residents.models import KtpStatus
from tests.dedup.factories import person, sent, subject

pytestmark = pytest.mark.django_db
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _db_tasks(settings):
    settings.TASKS = DB_TASKS
    settings.EKTP_STUCK_AFTER_SECONDS = 3600


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


def _stuck(operator, seed: int, *, hours_ago: float = 2):
    """A record sent for penunggalan whose task was lost (never queued: on_commit not run)."""
    resident = person()
    enrollment = sent(operator, resident, iris=subject(seed))
    StatusChange.objects.filter(resident=resident, to_status=KtpStatus.SENT_FOR_ENROLLMENT).update(
        at=timezone.now() - dt.timedelta(hours=hours_ago)
    )
    return resident, enrollment


def _penunggalan_rows(enrollment):
    return [
        row
        for row in DBTaskResult.objects.filter(task_path__endswith=".run_penunggalan")
        if row.args_kwargs["kwargs"].get("enrollment_id") == str(enrollment.pk)
    ]


def test_record_left_in_sfe_with_no_task_is_listed_as_stuck(operator):
    _, enrollment = _stuck(operator, 500)
    assert [e.pk for e in selectors.stuck_enrollments()] == [enrollment.pk]


def test_record_sent_recently_is_not_stuck(operator):
    _stuck(operator, 501, hours_ago=0.1)
    assert selectors.stuck_enrollments() == []


def test_record_with_a_queued_or_running_task_is_not_stuck(operator):
    from ektp.enrollment.tasks import run_penunggalan

    _, enrollment = _stuck(operator, 502)
    result = run_penunggalan.enqueue(enrollment_id=str(enrollment.pk))
    assert selectors.stuck_enrollments() == []
    DBTaskResult.objects.get(id=result.id).claim("some-worker")  # running now
    assert selectors.stuck_enrollments() == []
    DBTaskResult.objects.filter(id=result.id).update(status=TaskResultStatus.FAILED)
    assert [e.pk for e in selectors.stuck_enrollments()] == [enrollment.pk]


def test_record_waiting_for_an_engine_that_is_not_wired_is_not_stuck(operator):
    _, enrollment = _stuck(operator, 503)
    type(enrollment).objects.filter(pk=enrollment.pk).update(
        penunggalan=Penunggalan.AWAITING_ENGINE
    )
    assert selectors.stuck_enrollments() == []


def test_daily_sends_a_stuck_record_again_once_by_id(operator, django_capture_on_commit_callbacks):
    _, enrollment = _stuck(operator, 504)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("daily")
    [row] = _penunggalan_rows(enrollment)
    assert row.status == TaskResultStatus.READY
    assert selectors.stuck_enrollments() == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command("daily")
    assert len(_penunggalan_rows(enrollment)) == 1  # a second daily adds nothing


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
)
def test_stuck_record_sent_again_is_decided_and_a_second_run_changes_nothing(
    operator, django_capture_on_commit_callbacks
):
    resident, enrollment = _stuck(operator, 505)
    with django_capture_on_commit_callbacks(execute=True):
        services.requeue_stuck(enrollment_id=enrollment.pk)
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.PRINT_READY_RECORD
    changes = StatusChange.objects.filter(resident=resident).count()
    assert services.run_penunggalan(enrollment_id=enrollment.pk) == services.Outcome.SKIPPED
    assert StatusChange.objects.filter(resident=resident).count() == changes
    with pytest.raises(DedupError, match="bukan lagi menunggu penunggalan"):
        services.requeue_stuck(enrollment_id=enrollment.pk)


def test_failures_list_shows_the_stuck_record_and_a_supervisor_sends_it_again(
    client, operator, supervisor, django_capture_on_commit_callbacks
):
    resident, enrollment = _stuck(operator, 506)
    client.force_login(supervisor)
    page = client.get(reverse("dedup:queue"))
    assert page.status_code == 200
    assert "Tertahan menunggu penunggalan" in page.content.decode()
    assert resident.nik in page.content.decode()
    url = reverse("dedup:requeue", args=[enrollment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert f"Penunggalan NIK {resident.nik} dikirim ulang" in response.content.decode()
    assert len(_penunggalan_rows(enrollment)) == 1
    assert AuditEvent.objects.filter(
        object_id=str(enrollment.pk), detail__action="requeue_stuck_penunggalan"
    ).exists()
    again = client.post(url, follow=True)
    assert "sudah dalam antrean" in again.content.decode()
    assert len(_penunggalan_rows(enrollment)) == 1


def test_requeue_of_a_malformed_id_is_not_found(client, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("dedup:requeue", args=["bukan-uuid"]))
    assert response.status_code == 404


def test_requeue_of_an_unknown_record_says_so(client, supervisor):
    client.force_login(supervisor)
    url = reverse("dedup:requeue", args=["00000000-0000-0000-0000-000000000000"])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "Rekaman tidak ditemukan" in response.content.decode()


def test_operator_may_not_send_a_stuck_record_again(operator):
    _, enrollment = _stuck(operator, 507)
    with pytest.raises(NotAllowed):
        services.requeue_stuck(enrollment_id=enrollment.pk, actor=operator)


def test_supervisor_of_another_district_may_not_send_it_again(operator, make_staff):
    _, enrollment = _stuck(operator, 508)
    other = make_staff(Role.SUPERVISOR, region="18.01", username="spv-lampung-barat")
    with pytest.raises(NotAllowed):
        services.requeue_stuck(enrollment_id=enrollment.pk, actor=other)
    assert [e.pk for e in selectors.stuck_enrollments(user=other)] == []
