from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from ektp.appointments import services
from ektp.appointments.models import Booking, BookingStatus, TimeWindow
from ektp.offices.calendar import Opening
from ektp.offices.models import SpecialDay
from tests.appointments.factories import (
    HOLIDAY,
    WORKDAY,
    FamilyFactory,
    ResidentFactory,
    TimeWindowFactory,
    at,
    open_on,
    point_with_kits,
)

pytestmark = pytest.mark.django_db
BEFORE = at(WORKDAY - dt.timedelta(days=2), 10)


def test_day_is_split_into_hourly_windows_with_capacity_spread():
    plans = services.plan_windows(
        Opening(True, (dt.time(8, 0), dt.time(11, 30)), 50, "biasa"), minutes=60
    )
    assert [(p.starts_at, p.ends_at) for p in plans] == [
        (dt.time(8), dt.time(9)),
        (dt.time(9), dt.time(10)),
        (dt.time(10), dt.time(11)),
        (dt.time(11), dt.time(11, 30)),
    ]
    assert [p.capacity for p in plans] == [13, 13, 12, 12]


def test_no_windows_when_capacity_is_zero_or_day_closed():
    assert services.plan_windows(Opening(True, (dt.time(8), dt.time(9)), 0, "x")) == []
    assert services.plan_windows(Opening(False, None, 0, "tutup")) == []


def test_windows_created_once_from_the_calendar_on_a_workday():
    point = point_with_kits(kits=2, throughput=60)
    windows = services.windows_for(point=point, day=WORKDAY)
    assert [w.starts_at for w in windows][:2] == [dt.time(8), dt.time(9)]
    assert sum(w.capacity for w in windows) == 120
    services.windows_for(point=point, day=WORKDAY)
    assert TimeWindow.objects.filter(service_point=point, day=WORKDAY).count() == len(windows)


def test_no_windows_on_a_public_holiday():
    point = point_with_kits()
    assert services.windows_for(point=point, day=HOLIDAY) == []
    assert not TimeWindow.objects.exists()


def test_special_opening_on_a_holiday_creates_windows():
    point = point_with_kits(throughput=30)
    open_on(point, HOLIDAY, dt.time(9), dt.time(12), reason="Pelayanan Pilkada")
    windows = services.windows_for(point=point, day=HOLIDAY)
    assert [w.capacity for w in windows] == [10, 10, 10]


def test_special_closure_hides_existing_windows():
    point = point_with_kits()
    services.windows_for(point=point, day=WORKDAY)
    SpecialDay.objects.create(office=point.office, day=WORKDAY, is_open=False, reason="Banjir")
    assert services.windows_for(point=point, day=WORKDAY) == []


def test_database_refuses_more_bookings_than_capacity():
    window = TimeWindowFactory(capacity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeWindow.objects.filter(pk=window.pk).update(booked=3, issued=3)


def test_booking_takes_a_place_and_gets_a_code():
    window = TimeWindowFactory()
    resident = ResidentFactory()
    booking = services.book(resident=resident, window=window, now=BEFORE)
    window.refresh_from_db()
    assert window.booked == 1 and booking.queue_number == 1
    assert len(booking.code) == services.CODE_LENGTH
    assert services.booking_by_code(booking.code.lower()).pk == booking.pk


def test_full_window_refused_and_nothing_booked():
    window = TimeWindowFactory(capacity=1)
    services.book(resident=ResidentFactory(), window=window, now=BEFORE)
    with pytest.raises(services.WindowFull, match="penuh"):
        services.book(resident=ResidentFactory(), window=window, now=BEFORE)
    assert Booking.objects.count() == 1


def test_past_window_refused():
    window = TimeWindowFactory()
    with pytest.raises(services.WindowUnavailable) as err:
        services.book(resident=ResidentFactory(), window=window, now=at(WORKDAY, 9, 30))
    assert err.value.rule == "past"
    assert not Booking.objects.exists()


def test_booking_refused_after_cut_off_before_window(settings):
    settings.APPOINTMENTS_CUTOFF_MINUTES = 60
    window = TimeWindowFactory(starts_at=dt.time(10), ends_at=dt.time(11))
    with pytest.raises(services.WindowUnavailable) as err:
        services.book(resident=ResidentFactory(), window=window, now=at(WORKDAY, 9, 15))
    assert err.value.rule == "cutoff"
    services.book(resident=ResidentFactory(), window=window, now=at(WORKDAY, 8, 55))


def test_booking_too_far_ahead_refused(settings):
    settings.APPOINTMENTS_HORIZON_DAYS = 1
    window = TimeWindowFactory()
    with pytest.raises(services.WindowUnavailable) as err:
        services.book(resident=ResidentFactory(), window=window, now=BEFORE)
    assert err.value.rule == "horizon"


def test_booking_on_a_day_that_closed_refused():
    window = TimeWindowFactory()
    point = window.service_point
    SpecialDay.objects.create(office=point.office, day=WORKDAY, is_open=False, reason="Banjir")
    with pytest.raises(services.WindowUnavailable) as err:
        services.book(resident=ResidentFactory(), window=window, now=BEFORE)
    assert err.value.rule == "closed"


def test_second_active_booking_refused_until_cancelled():
    first, second = (
        TimeWindowFactory(),
        TimeWindowFactory(starts_at=dt.time(9), ends_at=dt.time(10)),
    )
    resident = ResidentFactory()
    booking = services.book(resident=resident, window=first, now=BEFORE)
    with pytest.raises(services.AlreadyBooked):
        services.book(resident=resident, window=second, now=BEFORE)
    second.refresh_from_db()
    assert second.booked == 0
    services.cancel_booking(booking=booking)
    services.book(resident=resident, window=second, now=BEFORE)


def test_database_refuses_two_active_bookings_for_one_resident():
    window = TimeWindowFactory()
    resident = ResidentFactory()
    services.book(resident=resident, window=window, now=BEFORE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(code="ZZZZZZZZZZ", resident=resident, window=window, queue_number=9)


def test_family_member_may_be_booked_by_relative_on_same_kk():
    family = FamilyFactory()
    parent = ResidentFactory(family=family)
    child = ResidentFactory(family=family, family_relation="anak")
    booking = services.book(
        resident=child, window=TimeWindowFactory(), booked_by=parent, now=BEFORE
    )
    assert booking.booked_by == parent and booking.resident == child
    assert [m.pk for m in services.family_of(parent)] == [parent.pk, child.pk]


def test_stranger_may_not_book_for_someone_else():
    other = ResidentFactory(family=FamilyFactory())
    with pytest.raises(services.AppointmentError) as err:
        services.book(
            resident=other, window=TimeWindowFactory(), booked_by=ResidentFactory(), now=BEFORE
        )
    assert err.value.rule == "family"
    assert not Booking.objects.exists()


def test_resident_already_recorded_may_not_book_recording():
    recorded = ResidentFactory(recorded_on=dt.date(2020, 1, 2), ktp_status="CARD_ISSUED")
    with pytest.raises(services.AppointmentError) as err:
        services.book(resident=recorded, window=TimeWindowFactory(), now=BEFORE)
    assert err.value.rule == "already_recorded"


def test_identity_refusal_does_not_reveal_whether_nik_exists():
    resident = ResidentFactory(birth_date=dt.date(1995, 1, 10))
    assert services.identify_resident(nik=resident.nik, birth_date=resident.birth_date) == resident
    with pytest.raises(services.NotIdentified) as wrong_date:
        services.identify_resident(nik=resident.nik, birth_date=dt.date(1995, 1, 11))
    unknown = resident.nik[:-4] + "9999"
    with pytest.raises(services.NotIdentified) as unknown_nik:
        services.identify_resident(nik=unknown, birth_date=resident.birth_date)
    assert wrong_date.value.message == unknown_nik.value.message == services.IDENTITY_MESSAGE


@pytest.mark.parametrize("nik", ["123", "18090110019500011", "18090a1001950001", ""])
def test_malformed_nik_names_the_rule(nik):
    with pytest.raises(services.NotIdentified) as err:
        services.identify_resident(nik=nik, birth_date=dt.date(1995, 1, 10))
    assert err.value.rule == "nik_format"
    assert "NIK" in err.value.message


@pytest.mark.parametrize("code", ["", "ABC", "0000000000", "ABCDEFGHJK" * 3, "ÄBCDEFGHJK"])
def test_forged_or_malformed_code_is_unknown(code):
    with pytest.raises(services.UnknownCode, match="tidak dikenal"):
        services.booking_by_code(code)


def test_move_frees_the_old_place_and_keeps_the_code():
    first = TimeWindowFactory()
    second = TimeWindowFactory(
        service_point=first.service_point, starts_at=dt.time(9), ends_at=dt.time(10)
    )
    booking = services.book(resident=ResidentFactory(), window=first, now=BEFORE)
    moved = services.move_booking(booking=booking, window=second, now=BEFORE)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.booked, second.booked) == (0, 1)
    assert moved.code == booking.code and moved.window == second


def test_move_to_a_full_window_changes_nothing():
    first = TimeWindowFactory()
    full = TimeWindowFactory(
        service_point=first.service_point, starts_at=dt.time(9), ends_at=dt.time(10), capacity=1
    )
    services.book(resident=ResidentFactory(), window=full, now=BEFORE)
    booking = services.book(resident=ResidentFactory(), window=first, now=BEFORE)
    with pytest.raises(services.WindowFull):
        services.move_booking(booking=booking, window=full, now=BEFORE)
    booking.refresh_from_db()
    first.refresh_from_db()
    assert booking.window == first and first.booked == 1


def test_cancelled_booking_cannot_be_cancelled_or_moved_again():
    window = TimeWindowFactory()
    booking = services.book(resident=ResidentFactory(), window=window, now=BEFORE)
    services.cancel_booking(booking=booking)
    window.refresh_from_db()
    assert window.booked == 0
    with pytest.raises(services.AppointmentError, match="dibatalkan"):
        services.cancel_booking(booking=booking)
    with pytest.raises(services.AppointmentError):
        services.move_booking(booking=booking, window=TimeWindowFactory(), now=BEFORE)
    assert Booking.objects.get().status == BookingStatus.CANCELLED
