"""The apps where things happen queue the resident's notices, once per event."""

import datetime as dt

import pytest

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
