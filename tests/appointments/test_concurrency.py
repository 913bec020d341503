"""Races on PostgreSQL: real threads, each with its own connection."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.models import Booking, QueueTicket, TimeWindow
from ektp.core.models import Role
from tests.appointments.factories import (
    ResidentFactory,
    TimeWindowFactory,
    open_on,
    point_with_kits,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free_connections(margin: int = 10) -> int:
    """Return how many more connections the server accepts now, keeping a margin."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        limit = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM pg_stat_activity")
        used = int(cursor.fetchone()[0])
    return max(2, limit - used - margin)


def _run_threads(count, work):
    """Run `count` calls at once: one thread each, or as many as the server's connections allow,
    each thread taking the next call as soon as its previous one returns."""
    workers = min(count, _free_connections())
    barrier = threading.Barrier(workers)
    pending = list(range(count))
    lock = threading.Lock()
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            while True:
                with lock:
                    if not pending:
                        return
                    i = pending.pop()
                try:
                    results.append(work(i))
                except services.AppointmentError as exc:
                    errors.append(exc.rule)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_200_concurrent_bookings_fill_a_15_place_window_exactly():
    day = timezone.localdate() + dt.timedelta(days=2)
    window = TimeWindowFactory(day=day, capacity=15)
    open_on(window.service_point, day)  # whatever weekday the test runs on
    residents = [ResidentFactory() for _ in range(200)]
    results, errors = _run_threads(
        200, lambda i: services.book(resident=residents[i], window=window).queue_number
    )
    window.refresh_from_db()
    assert window.booked == 15 == Booking.objects.filter(window=window).count()
    assert sorted(results) == list(range(1, 16))
    assert Counter(errors) == Counter({"full": 185})


def test_same_resident_booking_twice_at_once_gets_one_booking():
    point = point_with_kits(throughput=60)
    day = timezone.localdate() + dt.timedelta(days=2)
    open_on(point, day)
    windows = services.windows_for(point=point, day=day)
    resident = ResidentFactory()
    results, errors = _run_threads(
        8, lambda i: services.book(resident=resident, window=windows[i % len(windows)]).code
    )
    assert len(results) == 1 and set(errors) == {"one_active_booking"}
    assert (
        sum(
            TimeWindow.objects.filter(pk__in=[w.pk for w in windows]).values_list(
                "booked", flat=True
            )
        )
        == 1
    )


def test_concurrent_walk_ins_never_exceed_capacity_or_repeat_a_number(make_staff):
    today = timezone.localdate()
    point = point_with_kits(throughput=20)
    open_on(point, today, dt.time(0, 0), dt.time(23, 59))
    gate = make_staff(Role.GATE_OFFICER)
    results, errors = _run_threads(
        40, lambda i: services.issue_walk_in(point=point, actor=gate).number
    )
    assert sorted(results) == list(range(1, 21))
    assert set(errors) == {"capacity"}
    assert QueueTicket.objects.count() == 20
