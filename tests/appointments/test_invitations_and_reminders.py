from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.models import Booking, Invitation, InvitationBatch, QueueTicket
from ektp.appointments.tasks import send_invitation, send_reminder
from ektp.core.models import Role
from tests.appointments.factories import (
    ResidentFactory,
    TimeWindowFactory,
    at,
    open_on,
    point_with_kits,
)

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
VILLAGE = "18.09.01.2001"


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def tomorrow():
    return timezone.localdate() + dt.timedelta(days=1)


@pytest.fixture
def point(tomorrow):
    point = point_with_kits(throughput=2)
    open_on(point, tomorrow, dt.time(8), dt.time(10))
    return point


def _adult(**kwargs):
    today = timezone.localdate()
    return ResidentFactory(birth_date=today.replace(year=today.year - 30), **kwargs)


@override_settings(TASKS=IMMEDIATE)
def test_unrecorded_wajib_ktp_of_a_village_are_invited_window_by_window(
    point, tomorrow, supervisor, django_capture_on_commit_callbacks
):
    invited = [_adult(address_region_id=VILLAGE) for _ in range(3)]
    _adult(address_region_id=VILLAGE, recorded_on=dt.date(2020, 1, 1), ktp_status="BIO_CAPTURED")
    ResidentFactory(
        address_region_id=VILLAGE, birth_date=timezone.localdate() - dt.timedelta(days=3650)
    )
    _adult(address_region_id="18.09.01.2002")
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.invite(
            point=point,
            kind=InvitationBatch.Kind.UNRECORDED_VILLAGE,
            village_code=VILLAGE,
            reference_day=timezone.localdate(),
            first_day=tomorrow,
            actor=supervisor,
        )
    invitations = list(Invitation.objects.filter(batch=batch).select_related("booking__window"))
    assert {i.resident_id for i in invitations} == {r.pk for r in invited}
    windows = sorted((i.booking.window.day, i.booking.window.starts_at) for i in invitations)
    assert windows[:2] == [(tomorrow, dt.time(8)), (tomorrow, dt.time(9))]
    assert windows[2][0] > tomorrow
    assert all(i.delivery == Invitation.Delivery.TO_PRINT for i in invitations)
    assert send_invitation.call(invitation_id=str(invitations[0].pk)) == "to_print"


def test_invited_resident_identifies_with_the_invitation_code(point, tomorrow, supervisor, client):
    resident = _adult(address_region_id=VILLAGE)
    services.invite(
        point=point,
        kind=InvitationBatch.Kind.UNRECORDED_VILLAGE,
        village_code=VILLAGE,
        reference_day=timezone.localdate(),
        first_day=tomorrow,
        actor=supervisor,
    )
    code = Booking.objects.get(resident=resident).code
    response = client.post(reverse("booking:identify"), {"code": code.lower()})
    assert response.status_code == 302 and response.url.endswith(f"/kode/{code}/")


def test_residents_with_an_active_booking_are_not_invited_twice(point, tomorrow, supervisor):
    resident = _adult(address_region_id=VILLAGE)
    kwargs = dict(
        point=point,
        kind=InvitationBatch.Kind.UNRECORDED_VILLAGE,
        village_code=VILLAGE,
        reference_day=timezone.localdate(),
        first_day=tomorrow,
        actor=supervisor,
    )
    services.invite(**kwargs)
    with pytest.raises(services.AppointmentError, match="Tidak ada penduduk"):
        services.invite(**kwargs)
    assert Booking.objects.filter(resident=resident).count() == 1


def test_first_voters_turning_17_before_polling_day_are_invited(point, tomorrow, supervisor):
    today = timezone.localdate()
    polling_day = today + dt.timedelta(days=60)
    turning = ResidentFactory(birth_date=polling_day.replace(year=polling_day.year - 17))
    ResidentFactory(birth_date=polling_day.replace(year=polling_day.year - 16))
    batch = services.invite(
        point=point,
        kind=InvitationBatch.Kind.FIRST_VOTERS,
        reference_day=polling_day,
        first_day=tomorrow,
        actor=supervisor,
    )
    assert [i.resident_id for i in batch.invitations.all()] == [turning.pk]


@pytest.mark.parametrize(
    "change, rule",
    [
        ({"first_day": "today"}, "past"),
        ({"village_code": "18.10.01.2001"}, "jurisdiction"),
        ({"village_code": None}, "village"),
        ({"limit": 0}, "limit"),
        ({"kind": "semua"}, "kind"),
    ],
)
def test_bad_invitation_requests_refused(point, tomorrow, supervisor, change, rule):
    _adult(address_region_id=VILLAGE)
    kwargs = dict(
        point=point,
        kind=InvitationBatch.Kind.UNRECORDED_VILLAGE,
        village_code=VILLAGE,
        reference_day=timezone.localdate(),
        first_day=tomorrow,
        actor=supervisor,
    )
    kwargs.update(change)
    if kwargs["first_day"] == "today":
        kwargs["first_day"] = timezone.localdate()
    with pytest.raises(services.AppointmentError) as err:
        services.invite(**kwargs)
    assert err.value.rule == rule
    assert not InvitationBatch.objects.exists() and not Booking.objects.exists()


def test_invitation_page_creates_batch_and_printable_list(point, tomorrow, supervisor, client):
    resident = _adult(address_region_id=VILLAGE)
    client.force_login(supervisor)
    url = reverse("appointments:invitations", args=[point.pk])
    response = client.post(
        url,
        {
            "kind": "unrecorded_village",
            "village": VILLAGE,
            "reference_day": timezone.localdate().isoformat(),
            "first_day": tomorrow.isoformat(),
            "limit": "10",
        },
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert resident.name in page and Booking.objects.get().code in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"village": "18.09.01"}, "NN.NN.NN.NNNN"),
        ({"first_day": "2025-02-30"}, "tanggal yang sah"),
        ({"limit": "999999"}, "Paling banyak 5000"),
        ({"kind": "x" * 500}, "Pilih salah satu"),
    ],
)
def test_invitation_form_bad_input(point, tomorrow, supervisor, client, data, message):
    client.force_login(supervisor)
    form = {
        "kind": "unrecorded_village",
        "village": VILLAGE,
        "reference_day": timezone.localdate().isoformat(),
        "first_day": tomorrow.isoformat(),
        "limit": "10",
        **data,
    }
    response = client.post(reverse("appointments:invitations", args=[point.pk]), form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Booking.objects.exists()


@override_settings(TASKS=IMMEDIATE)
def test_reminders_for_tomorrow_sent_once_by_command():
    window = TimeWindowFactory(day=timezone.localdate() + dt.timedelta(days=1), capacity=5)
    open_on(window.service_point, window.day)  # whatever weekday tomorrow is
    booking = services.book(
        resident=ResidentFactory(), window=window, now=at(timezone.localdate(), 0, 1)
    )
    out = StringIO()
    call_command("appointments", "remind", stdout=out)
    assert "1 pengingat" in out.getvalue()
    booking.refresh_from_db()
    assert booking.reminded_at is not None
    assert send_reminder.call(booking_id=str(booking.pk)) is False
    out = StringIO()
    call_command("appointments", "remind", stdout=out)
    assert "0 pengingat" in out.getvalue()


def test_remind_command_refuses_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="TTTT-BB-HH"):
        call_command("appointments", "remind", "--date", "2025-13-40")


def test_no_show_counts_per_window_for_head_of_office(client, supervisor, make_staff):
    today = timezone.localdate()
    point = point_with_kits(throughput=6)
    open_on(point, today, dt.time(0, 0), dt.time(2, 0))
    windows = services.windows_for(point=point, day=today)
    gate = make_staff(Role.GATE_OFFICER)
    early = at(today - dt.timedelta(days=1), 9)
    came = services.book(resident=ResidentFactory(), window=windows[0], now=early)
    services.book(resident=ResidentFactory(), window=windows[0], now=early)
    services.check_in(point=point, code=came.code, actor=gate, now=at(today, 0, 5))
    services.issue_walk_in(point=point, actor=gate, now=at(today, 0, 10))
    from ektp.appointments.selectors import no_show_counts

    counts = no_show_counts(point=point, day=today, now=at(today, 3))
    first = counts[0]
    assert (first.bookings, first.checked_in, first.no_show, first.walk_ins) == (2, 1, 1, 1)
    client.force_login(supervisor)
    page = client.get(reverse("appointments:report", args=[point.pk]), {"day": today.isoformat()})
    assert page.status_code == 200 and "Jumlah tidak hadir" in page.content.decode()
    bad = client.get(reverse("appointments:report", args=[point.pk]), {"day": "2025-02-30"})
    assert bad.status_code == 422
    assert QueueTicket.objects.count() == 2
