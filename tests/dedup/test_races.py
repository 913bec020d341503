"""Two workers or two supervisors at once: one wins, nothing is applied twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ektp.core.models import Role
from ektp.core.services import create_staff_user
from ektp.dedup import services
from ektp.dedup.engine import get_engine
from ektp.dedup.errors import CaseAlreadyDecided
from ektp.dedup.models import CaseStatus, DuplicateCase
from ektp.enrollment.models import StatusChange
from ektp.regions.models import Region
from ektp.residents.models import KtpStatus
from tests.dedup.factories import genuine, person, sent, subject

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except CaseAlreadyDecided as error:
            outcomes.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _staff(role, name):
    region = Region.objects.get(code="18.09")
    return create_staff_user(username=name, password="x-Y-z-123456", role=role, region=region)


def test_two_workers_running_the_same_penunggalan_apply_it_once():
    operator = _staff(Role.OPERATOR, "op")
    resident = person()
    enrollment = sent(operator, resident, iris=subject(200))
    get_engine()

    outcomes = _together(
        [lambda: services.run_penunggalan(enrollment_id=enrollment.pk) for _ in range(2)]
    )

    assert sorted(outcomes) == ["PRR", "skipped"]
    assert (
        StatusChange.objects.filter(
            resident=resident, to_status=KtpStatus.PRINT_READY_RECORD
        ).count()
        == 1
    )
    assert get_engine().count() == 1


def test_two_supervisors_deciding_one_case_at_once_make_one_decision():
    operator = _staff(Role.OPERATOR, "op")
    chiefs = [_staff(Role.SUPERVISOR, f"kadis{i}") for i in range(2)]
    first, second = person(), person()
    eyes = subject(201)
    services.run_penunggalan(enrollment_id=sent(operator, first, iris=eyes).pk)
    services.run_penunggalan(enrollment_id=sent(operator, second, iris=genuine(eyes)).pk)
    case = DuplicateCase.objects.get()

    outcomes = _together(
        [
            lambda: (
                services.decide_case(
                    case=case, decision=CaseStatus.NOT_DUPLICATE, actor=chiefs[0], reason="A"
                ).status
            ),
            lambda: (
                services.decide_case(
                    case=case, decision=CaseStatus.CONFIRMED_DUPLICATE, actor=chiefs[1], reason="B"
                ).status
            ),
        ]
    )

    assert sum("sudah diputuskan" in o for o in outcomes) == 1, outcomes
    case.refresh_from_db()
    assert case.status in outcomes
    changes = StatusChange.objects.filter(resident=second, to_status=KtpStatus.PRINT_READY_RECORD)
    assert changes.count() == (1 if case.status == CaseStatus.NOT_DUPLICATE else 0)


def test_two_recordings_of_one_person_checked_at_once_pass_only_once():
    operator = _staff(Role.OPERATOR, "op")
    first, second = person(), person()
    eyes = subject(202)
    enrollments = [sent(operator, first, iris=eyes), sent(operator, second, iris=genuine(eyes))]
    get_engine()

    outcomes = _together(
        [lambda e=e: services.run_penunggalan(enrollment_id=e.pk) for e in enrollments]
    )

    assert sorted(outcomes) == ["DUPLICATE_RECORD", "PRR"]
    for resident in (first, second):
        resident.refresh_from_db()
    statuses = {first.ktp_status, second.ktp_status}
    assert statuses == {KtpStatus.PRINT_READY_RECORD, KtpStatus.DUPLICATE_RECORD}
    passed = first if first.ktp_status == KtpStatus.PRINT_READY_RECORD else second
    held = second if passed is first else first
    case = DuplicateCase.objects.get()
    assert (case.resident, case.candidate) == (held, passed)
    assert case.biometric_score is not None
    assert get_engine().count() == 1
