"""The penunggalan pipeline: biometric 1:N plus the demographic check decide PRR or DUPLICATE."""

from __future__ import annotations

import pytest

from ektp.core.models import AuditEvent
from ektp.dedup import services
from ektp.dedup.engine import get_engine
from ektp.dedup.models import CaseSource, CaseStatus, DuplicateCase
from ektp.enrollment.biometrics import ExceptionReason
from ektp.enrollment.models import Penunggalan
from ektp.enrollment.services import ExceptionIn
from ektp.residents.models import KtpStatus
from tests.dedup.factories import genuine, person, sent, subject

pytestmark = pytest.mark.django_db


def _status(resident):
    resident.refresh_from_db()
    return resident.ktp_status


def test_new_person_becomes_print_ready_and_joins_the_gallery(operator):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(1))

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "PRR"

    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
    assert get_engine().count() == 1
    enrollment.refresh_from_db()
    assert enrollment.penunggalan == Penunggalan.DONE
    assert not DuplicateCase.objects.exists()


def test_template_read_is_audited_as_the_penunggalan_service(operator):
    enrollment = sent(operator, person(), iris=subject(2))
    services.run_penunggalan(enrollment_id=enrollment.pk)
    reads = AuditEvent.objects.filter(action=AuditEvent.Action.READ_BIOMETRIC)
    assert reads.count() == 2
    assert {e.user.username for e in reads} == {services.SYSTEM_USERNAME}
    assert {e.detail["purpose"] for e in reads} == {"penunggalan"}


def test_rerecording_of_the_same_eyes_under_another_nik_is_a_duplicate(operator):
    first, second = person(), person()
    eyes = subject(3)
    services.run_penunggalan(enrollment_id=sent(operator, first, iris=eyes).pk)
    enrollment = sent(operator, second, iris=genuine(eyes))

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "DUPLICATE_RECORD"

    assert _status(second) == KtpStatus.DUPLICATE_RECORD
    case = DuplicateCase.objects.get()
    assert (case.resident, case.candidate, case.enrollment) == (second, first, enrollment)
    assert case.source == CaseSource.PENUNGGALAN
    assert case.status == CaseStatus.OPEN
    assert case.biometric_score <= case.biometric_threshold
    assert get_engine().count() == 1


def test_different_eyes_of_different_people_are_both_print_ready(operator):
    residents = [person() for _ in range(4)]
    for seed, resident in enumerate(residents, start=10):
        outcome = services.run_penunggalan(
            enrollment_id=sent(operator, resident, iris=subject(seed)).pk
        )
        assert outcome == "PRR"
    assert get_engine().count() == 4


def test_strong_demographic_match_is_a_duplicate_even_with_other_eyes(operator):
    first = person()
    services.run_penunggalan(enrollment_id=sent(operator, first, iris=subject(20)).pk)
    twin_record = person(
        name=first.name.replace("A", "E", 1),
        mother_name=first.mother_name,
        birth_place=first.birth_place,
        birth_date=first.birth_date,
        sex=first.sex,
    )
    enrollment = sent(operator, twin_record, iris=subject(21))

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "DUPLICATE_RECORD"

    case = DuplicateCase.objects.get()
    assert case.candidate == first
    assert case.biometric_score is None
    assert case.demographic_probability >= 0.99


def test_running_twice_changes_nothing_the_second_time(operator):
    first, second = person(), person()
    eyes = subject(30)
    services.run_penunggalan(enrollment_id=sent(operator, first, iris=eyes).pk)
    enrollment = sent(operator, second, iris=genuine(eyes))
    services.run_penunggalan(enrollment_id=enrollment.pk)

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "skipped"
    assert DuplicateCase.objects.count() == 1
    assert second.ktp_history.filter(to_status=KtpStatus.DUPLICATE_RECORD).count() == 1


def test_rerun_after_the_gallery_insert_but_before_the_commit_still_passes(operator):
    resident = person()
    eyes = subject(31)
    enrollment = sent(operator, resident, iris=eyes)
    get_engine().insert(str(resident.pk), eyes.to_bytes())

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "PRR"
    assert get_engine().count() == 1


def test_unknown_or_unsent_enrollment_is_skipped(operator):
    import uuid

    assert services.run_penunggalan(enrollment_id=uuid.uuid4()) == "skipped"
    resident = person()
    enrollment = sent(operator, resident, iris=subject(32))
    services.run_penunggalan(enrollment_id=enrollment.pk)
    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "skipped"


def test_low_quality_iris_fails_recording_with_the_reason(operator, settings):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(40))
    settings.EKTP_QUALITY_THRESHOLDS = {"iris_left": 95}

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "ENROLL_FAILURE"

    assert _status(resident) == KtpStatus.ENROLL_FAILURE
    change = resident.ktp_history.last()
    assert "Iris kiri: kualitas 90 di bawah ambang 95" in change.reason
    assert get_engine().count() == 0


def test_corrupt_template_fails_recording(operator):
    resident = person()
    enrollment = sent(operator, resident, iris=subject(41))
    from ektp.enrollment import crypto

    for sample in enrollment.samples.filter(modality__in=["iris_left", "iris_right"]):
        sample.template_ciphertext = crypto.encrypt(bytes(512))
        sample.save()

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "ENROLL_FAILURE"
    assert "ditolak mesin ABIS" in resident.ktp_history.last().reason


def test_both_irises_excepted_is_checked_on_demographics_only(operator):
    resident = person()
    excepted = {
        "iris_left": ExceptionIn(reason=ExceptionReason.DISABILITY),
        "iris_right": ExceptionIn(reason=ExceptionReason.DISABILITY),
    }
    enrollment = sent(operator, resident, exceptions=excepted)

    assert services.run_penunggalan(enrollment_id=enrollment.pk) == "PRR"
    assert "hanya demografi" in resident.ktp_history.last().reason
    assert get_engine().count() == 0


def test_enrollment_task_hands_over_to_the_pipeline(
    operator, settings, django_capture_on_commit_callbacks
):
    settings.EKTP_PENUNGGALAN_HANDLER = "ektp.dedup.services.run_penunggalan"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    resident = person()
    with django_capture_on_commit_callbacks(execute=True):
        sent(operator, resident, iris=subject(50))
    assert _status(resident) == KtpStatus.PRINT_READY_RECORD
