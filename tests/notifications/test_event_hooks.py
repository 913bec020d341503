"""The apps where things happen queue the resident's notices, once per event."""

import datetime as dt

import pytest
from django.db import transaction

from ektp.appointments import services as appointments
from ektp.notifications.models import Event, Message
from tests.appointments.factories import TimeWindowFactory
from tests.enrollment.factories import record
from tests.notifications.factories import ReachableResidentFactory

pytestmark = pytest.mark.django_db


def test_recording_queues_the_recorded_notice_after_commit(
    operator, django_capture_on_commit_callbacks
):
    resident = ReachableResidentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        record(operator, resident=resident)
    messages = Message.objects.filter(resident=resident, event=Event.RECORDED)
    assert messages.count() == 1
    assert "rekam" in messages.get().body.lower()


def test_booking_queues_one_confirmation_in_the_same_transaction():
    window = TimeWindowFactory()
    resident = ReachableResidentFactory()
    before = dt.datetime.combine(window.day, dt.time(6, 0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    booking = appointments.book(resident=resident, window=window, now=before)
    confirmations = Message.objects.filter(resident=resident, event=Event.BOOKING_CONFIRMED)
    assert confirmations.count() == 1
    assert booking.code in confirmations.get().body


def test_penunggalan_outcome_writes_its_notice_in_the_same_transaction(
    operator, django_capture_on_commit_callbacks
):
    """A worker killed right after the decision commits must not lose the resident's notice:
    the message row is part of the decision, only its sending waits for the commit."""
    from ektp.enrollment import services as enrollment
    from ektp.residents.models import KtpStatus

    resident = ReachableResidentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        captured = record(operator, resident=resident)
        enrollment.send_for_penunggalan(resident=resident, actor=operator)
    # No on-commit callback of the decision runs here: as if the process died after COMMIT.
    with django_capture_on_commit_callbacks(execute=False):
        enrollment.complete_penunggalan(
            enrollment=captured, outcome=KtpStatus.PRINT_READY_RECORD, actor=None, reason="uji"
        )
    assert Message.objects.filter(resident=resident, event=Event.PRINT_READY).count() == 1


class Undone(Exception):
    """Raised inside a transaction to roll it back."""


def test_a_rolled_back_status_change_leaves_no_notice_and_sends_nothing(
    operator, django_capture_on_commit_callbacks
):
    resident = ReachableResidentFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Undone),
        transaction.atomic(),
    ):
        record(operator, resident=resident)
        assert Message.objects.filter(resident=resident, event=Event.RECORDED).exists()
        raise Undone
    assert not Message.objects.filter(resident=resident).exists()
    assert callbacks == []  # no send was left waiting for a commit that never came


def test_a_rolled_back_booking_leaves_no_confirmation_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    window = TimeWindowFactory()
    resident = ReachableResidentFactory()
    before = dt.datetime.combine(window.day, dt.time(6, 0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Undone),
        transaction.atomic(),
    ):
        appointments.book(resident=resident, window=window, now=before)
        assert Message.objects.filter(resident=resident).exists()
        raise Undone
    assert not Message.objects.filter(resident=resident).exists()
    assert callbacks == []


def test_a_failing_listener_never_undoes_the_status_change(operator):
    from ektp.enrollment.models import StatusChange
    from ektp.enrollment.signals import status_changed
    from ektp.residents.models import KtpStatus

    def fail(sender, **kwargs):
        raise RuntimeError("listener broke")

    resident = ReachableResidentFactory()
    status_changed.connect(fail, dispatch_uid="test_failing_listener")
    try:
        record(operator, resident=resident)
    finally:
        status_changed.disconnect(dispatch_uid="test_failing_listener")
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.BIO_CAPTURED
    assert StatusChange.objects.filter(resident=resident, to_status=KtpStatus.BIO_CAPTURED).exists()
    # the listeners share one savepoint: the notice written before the failure is undone too
    assert not Message.objects.filter(resident=resident, event=Event.RECORDED).exists()
