import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from ektp.enrollment.models import Enrollment, Penunggalan, StatusChange
from ektp.enrollment.services import (
    EnrollmentError,
    InvalidTransition,
    card_may_be_printed,
    complete_penunggalan,
    send_for_penunggalan,
    transition,
)
from ektp.residents.models import KtpStatus as S
from tests.enrollment.factories import record
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _recorded(operator, **kwargs):
    resident = ResidentFactory(**kwargs)
    record(operator, resident)
    resident.refresh_from_db()
    return resident


def _statuses(resident):
    return list(
        StatusChange.objects.filter(resident=resident)
        .order_by("at")
        .values_list("from_status", "to_status")
    )


@override_settings(TASKS=IMMEDIATE, EKTP_PENUNGGALAN_HANDLER="")
def test_send_moves_to_sfe_and_leaves_penunggalan_pending(
    operator, django_capture_on_commit_callbacks
):
    resident = _recorded(operator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_for_penunggalan(resident=resident, actor=operator)
    jobs = [c for c in callbacks if "penunggalan" in c.__qualname__]
    assert len(jobs) == 1  # the penunggalan job (a notice is written in the transaction)
    resident.refresh_from_db()
    assert resident.ktp_status == S.SENT_FOR_ENROLLMENT
    enrollment = Enrollment.objects.get(resident=resident)
    assert enrollment.penunggalan == Penunggalan.AWAITING_ENGINE
    assert "belum terpasang" in enrollment.penunggalan_note


def test_penunggalan_is_enqueued_only_after_commit(operator, django_capture_on_commit_callbacks):
    resident = _recorded(operator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_for_penunggalan(resident=resident, actor=operator)
    jobs = [c for c in callbacks if "penunggalan" in c.__qualname__]
    assert len(jobs) == 1  # the penunggalan job (a notice is written in the transaction)
    assert Enrollment.objects.get(resident=resident).penunggalan == Penunggalan.QUEUED


@override_settings(TASKS=IMMEDIATE, EKTP_PENUNGGALAN_HANDLER="")
def test_penunggalan_task_is_safe_to_run_twice(operator, django_capture_on_commit_callbacks):
    from ektp.enrollment.tasks import run_penunggalan

    resident = _recorded(operator)
    with django_capture_on_commit_callbacks(execute=True):
        send_for_penunggalan(resident=resident, actor=operator)
    enrollment = Enrollment.objects.get(resident=resident)
    run_penunggalan.call(enrollment_id=str(enrollment.pk))
    resident.refresh_from_db()
    assert resident.ktp_status == S.SENT_FOR_ENROLLMENT
    assert _statuses(resident) == [
        (S.BELUM_REKAM, S.BIO_CAPTURED),
        (S.BIO_CAPTURED, S.SENT_FOR_ENROLLMENT),
    ]


def penunggalan_handler(*, enrollment_id):
    enrollment = Enrollment.objects.get(pk=enrollment_id)
    complete_penunggalan(
        enrollment=enrollment, outcome=S.PRINT_READY_RECORD, actor=None, reason="Tunggal (uji)"
    )
    return "selesai"


@override_settings(
    TASKS=IMMEDIATE,
    EKTP_PENUNGGALAN_HANDLER="tests.enrollment.test_lifecycle.penunggalan_handler",
)
def test_a_configured_engine_receives_the_enrollment_id(
    operator, django_capture_on_commit_callbacks
):
    resident = _recorded(operator)
    with django_capture_on_commit_callbacks(execute=True):
        send_for_penunggalan(resident=resident, actor=operator)
    resident.refresh_from_db()
    assert resident.ktp_status == S.PRINT_READY_RECORD
    assert Enrollment.objects.get(resident=resident).penunggalan == Penunggalan.DONE


def _at_sfe(operator, **kwargs):
    resident = _recorded(operator, **kwargs)
    send_for_penunggalan(resident=resident, actor=operator)
    resident.refresh_from_db()
    return resident, Enrollment.objects.get(resident=resident)


def test_full_lifecycle_to_card_issued_with_history(operator):
    resident, enrollment = _at_sfe(operator)
    complete_penunggalan(
        enrollment=enrollment, outcome=S.PRINT_READY_RECORD, actor=None, reason="Tunggal"
    )
    transition(resident=resident, to=S.CARD_PRINTED, actor=operator, reason="baru")
    transition(resident=resident, to=S.CARD_ISSUED, actor=operator, reason="Diserahkan")
    transition(resident=resident, to=S.CARD_PRINTED, actor=operator, reason="hilang")
    resident.refresh_from_db()
    assert resident.ktp_status == S.CARD_PRINTED
    assert [to for _, to in _statuses(resident)] == [
        S.BIO_CAPTURED,
        S.SENT_FOR_ENROLLMENT,
        S.PRINT_READY_RECORD,
        S.CARD_PRINTED,
        S.CARD_ISSUED,
        S.CARD_PRINTED,
    ]


def test_enroll_failure_allows_re_recording(operator):
    resident, enrollment = _at_sfe(operator)
    complete_penunggalan(
        enrollment=enrollment, outcome=S.ENROLL_FAILURE, actor=None, reason="Kualitas iris buruk"
    )
    again = record(operator, resident, point=enrollment.service_point, kit=enrollment.device)
    resident.refresh_from_db()
    assert resident.ktp_status == S.BIO_CAPTURED and again.pk == enrollment.pk
    assert again.recordings == 2 and again.samples.count() == 14
    assert "Rekam ulang" in StatusChange.objects.filter(resident=resident).latest("at").reason


def test_duplicate_can_be_adjudicated_to_prr(operator):
    resident, enrollment = _at_sfe(operator)
    complete_penunggalan(
        enrollment=enrollment,
        outcome=S.DUPLICATE_RECORD,
        actor=None,
        reason="Cocok dengan NIK lain",
    )
    transition(resident=resident, to=S.PRINT_READY_RECORD, actor=operator, reason="Bukan ganda")
    resident.refresh_from_db()
    assert resident.ktp_status == S.PRINT_READY_RECORD


@pytest.mark.parametrize(
    ("reach", "to", "message"),
    [
        (S.BELUM_REKAM, S.SENT_FOR_ENROLLMENT, "status masih belum rekam"),
        (S.BELUM_REKAM, S.BIO_CAPTURED, "belum ada data biometrik"),
        (S.BIO_CAPTURED, S.PRINT_READY_RECORD, "status masih sudah rekam"),
        (
            S.SENT_FOR_ENROLLMENT,
            S.CARD_PRINTED,
            "Tidak dapat mencetak: status masih menunggu penunggalan",
        ),
        (S.SENT_FOR_ENROLLMENT, S.BELUM_REKAM, "status masih menunggu penunggalan"),
        (S.SENT_FOR_ENROLLMENT, "DIHAPUS", "tidak dikenal"),
        (S.BIO_CAPTURED, S.CARD_ISSUED, "Tidak dapat menyerahkan kartu"),
    ],
)
def test_refused_transition_says_why_and_changes_nothing(operator, reach, to, message):
    if reach == S.BELUM_REKAM:
        resident = ResidentFactory()
    elif reach == S.BIO_CAPTURED:
        resident = _recorded(operator)
    else:
        resident, _ = _at_sfe(operator)
    before = _statuses(resident)
    with pytest.raises(InvalidTransition, match=message):
        transition(resident=resident, to=to, actor=operator, reason="uji")
    resident.refresh_from_db()
    assert resident.ktp_status == reach and _statuses(resident) == before


def test_transition_without_reason_is_refused(operator):
    resident = _recorded(operator)
    with pytest.raises(EnrollmentError, match="Alasan"):
        transition(resident=resident, to=S.SENT_FOR_ENROLLMENT, actor=operator, reason=" ")
    resident.refresh_from_db()
    assert resident.ktp_status == S.BIO_CAPTURED


def test_penunggalan_outcome_must_be_known_and_record_at_sfe(operator):
    resident = _recorded(operator)
    enrollment = Enrollment.objects.get(resident=resident)
    with pytest.raises(InvalidTransition, match="hanya untuk rekaman yang menunggu penunggalan"):
        complete_penunggalan(
            enrollment=enrollment, outcome=S.PRINT_READY_RECORD, actor=None, reason="x"
        )
    with pytest.raises(InvalidTransition, match="tidak dikenal"):
        complete_penunggalan(enrollment=enrollment, outcome=S.CARD_ISSUED, actor=None, reason="x")


def test_under_17_card_is_held_until_the_17th_birthday(operator):
    today = timezone.localdate()
    birth = today.replace(year=today.year - 16) - dt.timedelta(days=10)
    resident, enrollment = _at_sfe(operator, birth_date=birth)
    complete_penunggalan(
        enrollment=enrollment, outcome=S.PRINT_READY_RECORD, actor=None, reason="x"
    )
    resident.refresh_from_db()
    allowed, why = card_may_be_printed(resident, on=today)
    assert not allowed and "ulang tahun ke-17" in why
    with pytest.raises(InvalidTransition, match="ditahan"):
        transition(resident=resident, to=S.CARD_PRINTED, actor=operator, reason="baru")
    birthday = birth.replace(year=birth.year + 17)
    assert card_may_be_printed(resident, on=birthday) == (True, "")
    assert not card_may_be_printed(resident, on=birthday - dt.timedelta(days=1))[0]


def test_under_17_married_card_may_be_printed(operator):
    today = timezone.localdate()
    resident = ResidentFactory(
        birth_date=today.replace(year=today.year - 16),
        marital_status="kawin",
        ktp_status=S.PRINT_READY_RECORD,
        recorded_on=today,
    )
    assert card_may_be_printed(resident, on=today) == (True, "")


def test_born_on_29_february_is_held_until_1_march():
    resident = ResidentFactory.build(
        birth_date=dt.date(2008, 2, 29), ktp_status=S.PRINT_READY_RECORD
    )
    assert not card_may_be_printed(resident, on=dt.date(2025, 2, 28))[0]
    assert card_may_be_printed(resident, on=dt.date(2025, 3, 1))[0]


def test_send_by_operator_outside_jurisdiction_is_refused(operator, make_staff):
    resident = _recorded(operator)
    outsider = make_staff("operator", region="18.01", username="op-lain")
    with pytest.raises(EnrollmentError, match="luar wilayah"):
        send_for_penunggalan(resident=resident, actor=outsider)


def _captured_without_biometrics(**kwargs):
    """A resident marked BIO_CAPTURED with no enrollment row, as records brought over from
    another system (and the seeded ones before the seed stored their biometrics) are."""
    return ResidentFactory(ktp_status=S.BIO_CAPTURED, recorded_on=dt.date(2024, 3, 1), **kwargs)


def test_sending_a_record_without_biometrics_is_refused_with_a_way_out(
    operator, django_capture_on_commit_callbacks
):
    resident = _captured_without_biometrics()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(InvalidTransition, match="Rekam ulang biometriknya"),
    ):
        send_for_penunggalan(resident=resident, actor=operator)
    assert callbacks == []
    resident.refresh_from_db()
    assert resident.ktp_status == S.BIO_CAPTURED
    assert not StatusChange.objects.filter(resident=resident).exists()


def test_a_record_without_biometrics_is_recorded_again_then_sent(operator):
    resident = _captured_without_biometrics()
    enrollment = record(operator, resident)
    resident.refresh_from_db()
    assert resident.ktp_status == S.BIO_CAPTURED and enrollment.samples.count() == 14
    change = StatusChange.objects.get(resident=resident)
    assert (change.from_status, change.to_status) == (S.BIO_CAPTURED, S.BIO_CAPTURED)
    assert "data biometrik belum tersimpan" in change.reason
    send_for_penunggalan(resident=resident, actor=operator)
    resident.refresh_from_db()
    assert resident.ktp_status == S.SENT_FOR_ENROLLMENT


def test_a_record_with_biometrics_is_still_recorded_only_once(operator):
    resident = _recorded(operator)
    with pytest.raises(EnrollmentError, match="hanya sekali seumur hidup"):
        record(operator, resident)
