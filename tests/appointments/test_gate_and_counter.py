from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.models import Booking, BookingStatus, QueueTicket
from ektp.core.models import Role
from tests.appointments.factories import (
    CounterFactory,
    ResidentFactory,
    TimeWindowFactory,
    at,
    open_on,
    point_with_kits,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def point(today):
    """A point open all of today with 3 places in each of its two windows."""
    point = point_with_kits(throughput=6)
    open_on(point, today, dt.time(9), dt.time(11))
    return point


@pytest.fixture
def gate_officer(make_staff):
    return make_staff(Role.GATE_OFFICER)


def _booked(point, today, *, starts=9, resident=None, booked_at=None):
    window = services.windows_for(point=point, day=today)[starts - 9]
    return services.book(
        resident=resident or ResidentFactory(),
        window=window,
        now=booked_at or at(today - dt.timedelta(days=1), 10),
    )


def test_walk_in_numbers_stop_at_remaining_capacity(point, today, gate_officer):
    _booked(point, today)
    now = at(today, 9, 5)
    labels = [
        services.issue_walk_in(point=point, actor=gate_officer, now=now).label for _ in range(5)
    ]
    assert labels == ["B-001", "B-002", "B-003", "B-004", "B-005"]
    assert services.remaining_today(point=point, day=today) == 0
    with pytest.raises(services.QueueError, match="habis"):
        services.issue_walk_in(point=point, actor=gate_officer, now=now)
    assert QueueTicket.objects.count() == 5


def test_walk_in_refused_on_a_closed_day(gate_officer, today):
    point = point_with_kits(is_active=False)
    with pytest.raises(services.QueueError, match="tutup"):
        services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9))


def test_walk_in_with_unknown_or_malformed_nik_refused(point, today, gate_officer):
    with pytest.raises(services.QueueError, match="tidak terdaftar"):
        services.issue_walk_in(
            point=point, actor=gate_officer, nik="1809011001950999", now=at(today, 9)
        )
    with pytest.raises(services.AppointmentError, match="16 digit"):
        services.issue_walk_in(point=point, actor=gate_officer, nik="12345", now=at(today, 9))
    assert not QueueTicket.objects.exists()


def test_booked_resident_checks_in_with_code_and_gets_series_a(point, today, gate_officer):
    booking = _booked(point, today)
    ticket = services.check_in(
        point=point, code=booking.code, actor=gate_officer, now=at(today, 9, 10)
    )
    assert ticket.label == "A-001" and ticket.on_time
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN
    with pytest.raises(services.QueueError, match="sudah hadir"):
        services.check_in(point=point, code=booking.code, actor=gate_officer, now=at(today, 9))


def test_check_in_refused_for_another_day_point_or_unknown_code(point, today, gate_officer):
    tomorrow = today + dt.timedelta(days=1)
    open_on(point, tomorrow)  # whatever weekday tomorrow is
    tomorrow_window = TimeWindowFactory(service_point=point, day=tomorrow)
    future = services.book(
        resident=ResidentFactory(), window=tomorrow_window, now=at(today - dt.timedelta(days=1), 8)
    )
    with pytest.raises(services.QueueError) as err:
        services.check_in(point=point, code=future.code, actor=gate_officer, now=at(today, 9))
    assert err.value.rule == "day"
    other = point_with_kits()
    booking = _booked(point, today)
    with pytest.raises(services.QueueError) as err:
        services.check_in(point=other, code=booking.code, actor=gate_officer, now=at(today, 9))
    assert err.value.rule == "point"
    with pytest.raises(services.UnknownCode):
        services.check_in(point=point, code="ABCDEFGHJK", actor=gate_officer, now=at(today, 9))
    assert not QueueTicket.objects.exists()


def test_elderly_get_priority_automatically_and_others_by_flag(point, today, gate_officer):
    elder = ResidentFactory(birth_date=today.replace(year=today.year - 61) - dt.timedelta(days=1))
    ticket = services.issue_walk_in(
        point=point, actor=gate_officer, nik=elder.nik, now=at(today, 9)
    )
    assert ticket.priority == "lansia"
    pregnant = services.issue_walk_in(
        point=point, actor=gate_officer, priority="hamil", now=at(today, 9)
    )
    assert pregnant.priority == "hamil"
    with pytest.raises(services.QueueError, match="prioritas"):
        services.issue_walk_in(point=point, actor=gate_officer, priority="vip", now=at(today, 9))


def test_counter_calls_booked_on_time_first_then_ticket_order_priority_first(
    today, gate_officer, operator
):
    point = point_with_kits(throughput=20)
    open_on(point, today, dt.time(9), dt.time(11))
    counter = CounterFactory(service_point=point)
    walk_1 = services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9, 1))
    walk_2 = services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9, 2))
    walk_disabled = services.issue_walk_in(
        point=point, actor=gate_officer, priority="disabilitas", now=at(today, 9, 3)
    )
    on_time = services.check_in(
        point=point, code=_booked(point, today).code, actor=gate_officer, now=at(today, 9, 4)
    )
    on_time_pregnant = services.check_in(
        point=point,
        code=_booked(point, today).code,
        priority="hamil",
        actor=gate_officer,
        now=at(today, 9, 5),
    )
    later_window = services.check_in(
        point=point,
        code=_booked(point, today, starts=10).code,
        actor=gate_officer,
        now=at(today, 9, 6),
    )
    order = []
    for _ in range(6):
        ticket = services.call_next(counter=counter, actor=operator, now=at(today, 9, 30))
        order.append(ticket.pk)
        services.mark_served(ticket=ticket)
    assert order == [
        on_time_pregnant.pk,
        on_time.pk,
        walk_disabled.pk,
        walk_1.pk,
        walk_2.pk,
        later_window.pk,
    ]


def test_counter_must_finish_current_number_before_calling_next(
    point, today, gate_officer, operator
):
    counter = CounterFactory(service_point=point)
    services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9))
    services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9))
    services.call_next(counter=counter, actor=operator, now=at(today, 9, 10))
    with pytest.raises(services.QueueError, match="Selesaikan"):
        services.call_next(counter=counter, actor=operator, now=at(today, 9, 11))


def test_empty_queue_says_so(point, today, operator):
    counter = CounterFactory(service_point=point)
    with pytest.raises(services.QueueError, match="Tidak ada nomor"):
        services.call_next(counter=counter, actor=operator, now=at(today, 9))


def test_no_show_then_recall_then_served_updates_booking(point, today, gate_officer, operator):
    counter = CounterFactory(service_point=point)
    booking = _booked(point, today)
    ticket = services.check_in(point=point, code=booking.code, actor=gate_officer, now=at(today, 9))
    called = services.call_next(counter=counter, actor=operator, now=at(today, 9, 10))
    assert called.pk == ticket.pk
    services.mark_no_show(ticket=called)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.NO_SHOW
    with pytest.raises(services.QueueError, match="belum dipanggil"):
        services.mark_served(ticket=called)
    again = services.recall(ticket=called, counter=counter, actor=operator)
    assert again.recall_count == 1 and again.status == QueueTicket.Status.CALLED
    services.mark_served(ticket=again)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.SERVED
    with pytest.raises(services.QueueError):
        services.recall(ticket=again, counter=counter, actor=operator)


def test_board_fragment_shows_number_called_at_each_counter(
    client, point, today, gate_officer, operator
):
    first, second = (
        CounterFactory(service_point=point, name="Loket 1"),
        CounterFactory(service_point=point, name="Loket 2"),
    )
    services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9))
    services.issue_walk_in(point=point, actor=gate_officer, now=at(today, 9, 1))
    services.call_next(counter=first, actor=operator, now=at(today, 9, 10))
    response = client.get(reverse("booking:board_rows", args=[point.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Loket 1" in body and "B-001" in body and "Loket 2" in body
    assert "Menunggu: 1" in body
    page = client.get(reverse("booking:board", args=[point.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in page and "<script>" not in page
    assert second.name in page


def test_board_of_unknown_point_is_404(client):
    import uuid

    assert client.get(reverse("booking:board_rows", args=[uuid.uuid4()])).status_code == 404
