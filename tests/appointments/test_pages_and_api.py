from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.models import Booking, Counter, QueueTicket, TimeWindow
from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.notifications.models import Event, Message
from tests.appointments.factories import (
    CounterFactory,
    FamilyFactory,
    ResidentFactory,
    TimeWindowFactory,
    open_on,
    point_with_kits,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/appointments"


@pytest.fixture
def later():
    """A window two days ahead, open whatever the calendar says."""
    day = timezone.localdate() + dt.timedelta(days=2)
    point = point_with_kits(throughput=4)
    open_on(point, day, dt.time(8), dt.time(10))
    return services.windows_for(point=point, day=day)[0]


@pytest.fixture
def resident():
    return ResidentFactory(
        birth_date=dt.date(1995, 1, 10), family=FamilyFactory(), phone="081234567890"
    )


def _identity(resident):
    return {"nik": resident.nik, "birth_date": resident.birth_date.isoformat()}


def _staff_headers(make_staff, role):
    user = make_staff(role, username=f"{role}-api")
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=user, name='uji')}"}


# ---------------------------------------------------------------- public pages


def test_resident_books_on_the_page_and_sees_code_and_qr(client, resident, later):
    response = client.post(reverse("booking:identify"), _identity(resident))
    assert response.status_code == 302
    page = client.get(
        reverse("booking:choose"), {"point": later.service_point_id, "day": later.day.isoformat()}
    )
    assert page.status_code == 200 and "08:00" in page.content.decode()
    response = client.post(reverse("booking:book"), {"window": later.pk, "resident": resident.pk})
    booking = Booking.objects.get()
    assert response.url == reverse("booking:detail", args=[booking.code])
    detail = client.get(response.url).content.decode()
    assert booking.code in detail and "data:image/svg+xml;base64," in detail


def test_page_identity_refusal_is_the_same_for_unknown_and_mismatched(client, resident):
    wrong = client.post(
        reverse("booking:identify"), {"nik": resident.nik, "birth_date": "1995-01-11"}
    )
    unknown = client.post(
        reverse("booking:identify"),
        {"nik": resident.nik[:-4] + "9999", "birth_date": "1995-01-10"},
    )
    assert wrong.status_code == unknown.status_code == 422
    assert services.IDENTITY_MESSAGE in wrong.content.decode()
    assert services.IDENTITY_MESSAGE in unknown.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"nik": "12345", "birth_date": "1995-01-10"}, "NIK harus 16 digit"),
        ({"nik": "1" * 500, "birth_date": "1995-01-10"}, "NIK harus 16 digit"),
        ({"nik": "18090a1001950001", "birth_date": "1995-01-10"}, "angka"),
        ({"nik": "1809011001950001", "birth_date": "1995-02-30"}, "tanggal yang sah"),
        ({"code": "X" * 300}, "paling banyak 20"),
        ({}, "Isi NIK dan tanggal lahir"),
    ],
)
def test_identify_form_bad_input(client, data, message):
    response = client.post(reverse("booking:identify"), data)
    assert response.status_code == 422
    assert message in response.content.decode()


def test_unknown_code_page_is_404_with_message(client):
    response = client.get(reverse("booking:detail", args=["ZZZZZZZZZZ"]))
    assert response.status_code == 404 and "tidak dikenal" in response.content.decode()
    assert client.post(reverse("booking:cancel", args=["<script>"])).status_code == 404


def test_book_page_refuses_stranger_and_bad_ids(client, resident, later):
    client.post(reverse("booking:identify"), _identity(resident))
    stranger = ResidentFactory()
    for data in (
        {"window": later.pk, "resident": stranger.pk},
        {"window": uuid.uuid4(), "resident": resident.pk},
        {"window": "bukan-uuid", "resident": resident.pk},
    ):
        response = client.post(reverse("booking:book"), data, follow=True)
        assert response.status_code == 200
        assert (
            "tidak dikenal" in response.content.decode()
            or "KK yang sama" in response.content.decode()
        )
    assert not Booking.objects.exists()


def test_choose_page_requires_identity_and_validates_day(client, resident):
    assert client.get(reverse("booking:choose")).url == reverse("booking:identify")
    client.post(reverse("booking:identify"), _identity(resident))
    response = client.get(reverse("booking:choose"), {"point": "x", "day": "2025-13-01"})
    assert response.status_code == 422


def sent_code(resident) -> str:
    """The latest one-time code in the resident's outbox (the local channel backend)."""
    message = (
        Message.objects.filter(resident=resident, event=Event.ACCESS_CODE)
        .order_by("-created_at")
        .first()
    )
    return re.search(r"Kode Anda: (\d{6})", message.body).group(1)


def open_with_code(client, booking) -> None:
    """Follow the booking's page to the one-time code and give it, as the resident does."""
    ask = client.get(reverse("booking:detail", args=[booking.code]))
    assert ask.status_code == 302 and ask.url.startswith("/cek/akses/")
    client.post(ask.url, {"action": "send"})
    opened = client.post(ask.url, {"action": "verify", "code": sent_code(booking.resident)})
    assert opened.status_code == 302


def test_booking_page_by_code_alone_shows_no_name_and_cancels_nothing(client, resident, later):
    booking = services.book(resident=resident, window=later)
    page = client.get(reverse("booking:detail", args=[booking.code]), follow=True)
    assert resident.name not in page.content.decode()
    assert "Kirim kode ke WhatsApp 0812******90" in page.content.decode()
    client.post(reverse("booking:cancel", args=[booking.code]))
    other = TimeWindow.objects.exclude(pk=later.pk).get(service_point=later.service_point)
    client.post(reverse("booking:move", args=[booking.code]), {"window": other.pk})
    booking.refresh_from_db()
    assert booking.status == "booked" and booking.window == later


def test_identify_by_booking_code_alone_opens_no_session(client, resident, later):
    booking = services.book(resident=resident, window=later)
    client.post(reverse("booking:identify"), {"code": booking.code})
    assert client.get(reverse("booking:choose")).url == reverse("booking:identify")


def test_choose_page_masks_names_and_hides_booking_codes(client, resident, later):
    child = ResidentFactory(family=resident.family, name="ANAK PERTAMA")
    booking = services.book(resident=child, window=later, booked_by=resident)
    client.post(reverse("booking:identify"), _identity(resident))
    page = client.get(reverse("booking:choose")).content.decode()
    assert booking.code not in page
    assert "ANAK PERTAMA" not in page and "AN** PE*****" in page
    assert "/cek/akses/" in page


def test_move_and_cancel_on_the_page(client, resident, later):
    booking = services.book(resident=resident, window=later)
    other = TimeWindow.objects.exclude(pk=later.pk).get(service_point=later.service_point)
    open_with_code(client, booking)
    detail = client.get(reverse("booking:detail", args=[booking.code])).content.decode()
    assert resident.name in detail and booking.code in detail
    client.post(reverse("booking:move", args=[booking.code]), {"window": other.pk})
    booking.refresh_from_db()
    assert booking.window == other
    response = client.post(
        reverse("booking:move", args=[booking.code]), {"window": "x"}, follow=True
    )
    assert "Jendela waktu tidak dikenal" in response.content.decode()
    client.post(reverse("booking:cancel", args=[booking.code]))
    booking.refresh_from_db()
    assert booking.status == "cancelled"


# ---------------------------------------------------------------- staff pages


def test_gate_page_issues_ticket_and_checks_in(client, make_staff):
    today = timezone.localdate()
    point = point_with_kits(throughput=10)
    open_on(point, today, dt.time(0, 0), dt.time(23, 59))
    client.force_login(make_staff(Role.GATE_OFFICER))
    url = reverse("appointments:gate", args=[point.pk])
    response = client.post(url, {"action": "walk_in", "priority": "hamil"})
    ticket = QueueTicket.objects.get()
    assert response.url == reverse("appointments:ticket", args=[ticket.pk])
    assert "B-001" in client.get(response.url).content.decode()
    for data, message in [
        ({"action": "check_in", "code": "ZZZZZZZZZZ"}, "tidak dikenal"),
        ({"action": "check_in", "code": "A" * 50}, "paling banyak 20"),
        ({"action": "walk_in", "nik": "123"}, "16 digit"),
        ({"action": "walk_in", "priority": "vip"}, "Pilih salah satu"),
        ({"action": "lain"}, "Pilih ambil nomor"),
    ]:
        bad = client.post(url, data)
        assert bad.status_code == 422 and message in bad.content.decode(), data
    assert QueueTicket.objects.count() == 1


def test_counter_page_calls_and_links_to_recording_screen(client, make_staff, operator):
    today = timezone.localdate()
    point = point_with_kits(throughput=10)
    open_on(point, today, dt.time(0, 0), dt.time(23, 59))
    counter = CounterFactory(service_point=point)
    resident = ResidentFactory()
    services.issue_walk_in(point=point, actor=make_staff(Role.GATE_OFFICER), nik=resident.nik)
    client.force_login(operator)
    url = reverse("appointments:counter", args=[counter.pk])
    client.post(url, {"action": "call"})
    page = client.get(url).content.decode()
    assert "B-001" in page and f"/{resident.nik}/rekam/" in page
    assert client.post(url, {"action": "call"}).status_code == 422
    assert client.post(url, {"action": "recall", "ticket": "bukan"}).status_code == 422
    client.post(url, {"action": "served"})
    assert QueueTicket.objects.get().status == "served"


def test_gate_officer_may_not_open_the_counter_page(client, make_staff):
    counter = CounterFactory()
    client.force_login(make_staff(Role.GATE_OFFICER))
    assert client.get(reverse("appointments:counter", args=[counter.pk])).status_code == 403


def test_point_page_lists_windows_and_supervisor_opens_counter(client, make_staff):
    point = point_with_kits()
    client.force_login(make_staff(Role.SUPERVISOR))
    url = reverse("appointments:point", args=[point.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "Loket 1"}).status_code == 302
    dup = client.post(url, {"name": "Loket 1"})
    assert dup.status_code == 422 and "sudah ada" in dup.content.decode()
    assert client.post(url, {"name": "x" * 41}).status_code == 422
    assert client.get(url, {"day": "2025-02-30"}).status_code == 422


def test_counter_opened_on_the_point_page_is_audited_like_the_set_up_page(client, make_staff):
    from ektp.core.models import AuditEvent

    point = point_with_kits()
    head = make_staff(Role.SUPERVISOR)
    client.force_login(head)
    url = reverse("appointments:point", args=[point.pk])
    assert client.post(url, {"name": "  Loket   2 "}).status_code == 302
    counter = Counter.objects.get(service_point=point)
    assert counter.name == "Loket 2"
    assert AuditEvent.objects.filter(
        user=head, action="create", object_type="counter", object_id=str(counter.pk)
    ).exists()
    for bad in ("", "   ", "x" * 41):
        assert client.post(url, {"name": bad}).status_code == 422
    client.force_login(make_staff(Role.OPERATOR))
    assert client.post(url, {"name": "Loket 3"}).status_code == 403
    assert Counter.objects.filter(service_point=point).count() == 1


def test_staff_of_another_district_cannot_see_point(client, make_staff):
    point = point_with_kits()
    client.force_login(make_staff(Role.SUPERVISOR, region="18.10", username="lain"))
    assert client.get(reverse("appointments:point", args=[point.pk])).status_code == 404


# ---------------------------------------------------------------- API


def test_api_windows_book_get_move_cancel(client, resident, later):
    windows = client.get(
        f"{API}/points/{later.service_point_id}/windows", {"day": later.day.isoformat()}
    ).json()
    assert windows[0]["remaining"] == 2 and windows[0]["bookable"]
    response = client.post(
        f"{API}/bookings",
        {**_identity(resident), "window_id": str(later.pk)},
        content_type="application/json",
    )
    assert response.status_code == 201
    code = response.json()["code"]
    assert response.json()["qr"].startswith("data:image/svg+xml;base64,")
    assert response.json()["resident_name"] != resident.name  # NIK + birth date: masked
    headers = {"HTTP_X_ACCESS_TOKEN": _access_token(client, code, resident)}
    shown = client.get(f"{API}/bookings/{code}", **headers).json()
    assert shown["queue_number"] == 1 and shown["resident_name"] == resident.name
    moved = client.post(
        f"{API}/bookings/{code}/move",
        {"window_id": windows[1]["id"]},
        content_type="application/json",
        **headers,
    )
    assert moved.status_code == 200 and moved.json()["starts_at"] == "09:00:00"
    cancelled = client.post(f"{API}/bookings/{code}/cancel", **headers)
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"{API}/bookings/{code}/cancel", **headers)
    assert again.status_code == 422 and again.json()["rule"] == "status"


def _access_token(client, code: str, resident) -> str:
    sent = client.post(f"{API}/bookings/{code}/access-code")
    assert sent.status_code == 202 and sent.json()["sent_to"] == "0812******90"
    redeemed = client.post(
        f"{API}/bookings/{code}/access",
        {"access_code_id": sent.json()["access_code_id"], "code": sent_code(resident)},
        content_type="application/json",
    )
    assert redeemed.status_code == 200
    return redeemed.json()["access_token"]


def test_api_booking_by_code_alone_is_refused(client, resident, later):
    booking = services.book(resident=resident, window=later)
    other = TimeWindow.objects.exclude(pk=later.pk).get(service_point=later.service_point)
    shown = client.get(f"{API}/bookings/{booking.code}")
    assert shown.status_code == 403 and shown.json()["rule"] == "access_code_required"
    assert resident.name not in shown.content.decode()
    assert client.post(f"{API}/bookings/{booking.code}/cancel").status_code == 403
    moved = client.post(
        f"{API}/bookings/{booking.code}/move",
        {"window_id": str(other.pk)},
        content_type="application/json",
    )
    assert moved.status_code == 403
    booking.refresh_from_db()
    assert booking.status == "booked" and booking.window == later


def test_api_access_token_of_one_booking_opens_no_other(client, resident, later):
    mine = services.book(resident=resident, window=later)
    stranger = ResidentFactory(phone="081298765432")
    theirs = services.book(resident=stranger, window=later)
    token = _access_token(client, mine.code, resident)
    for forged in (token, token[:-2] + "xx", "", "a" * 600):
        response = client.get(f"{API}/bookings/{theirs.code}", HTTP_X_ACCESS_TOKEN=forged)
        assert response.status_code == 403


@pytest.mark.parametrize(
    "body, rule",
    [
        ({"access_code_id": "bukan-uuid", "code": "123456"}, "code_expired"),
        ({"access_code_id": str(uuid.uuid4()), "code": "123456"}, "code_expired"),
        ({"access_code_id": str(uuid.uuid4()), "code": "12345x"}, "code_format"),
    ],
)
def test_api_access_with_a_bad_code_is_refused(client, resident, later, body, rule):
    booking = services.book(resident=resident, window=later)
    response = client.post(
        f"{API}/bookings/{booking.code}/access", body, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["rule"] == rule


def test_api_access_code_for_an_unknown_or_inactive_booking(client, resident, later):
    assert client.post(f"{API}/bookings/ZZZZZZZZZZ/access-code").status_code == 404
    booking = services.book(resident=resident, window=later)
    services.cancel_booking(booking=booking)
    response = client.post(f"{API}/bookings/{booking.code}/access-code")
    assert response.status_code == 422 and response.json()["rule"] == "booking_inactive"


def test_api_books_for_a_family_member_by_nik(client, resident, later):
    child = ResidentFactory(family=resident.family, family_relation="anak")
    response = client.post(
        f"{API}/bookings",
        {**_identity(resident), "window_id": str(later.pk), "for_nik": child.nik},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Booking.objects.get().resident == child
    stranger = ResidentFactory()
    refused = client.post(
        f"{API}/bookings",
        {**_identity(resident), "window_id": str(later.pk), "for_nik": stranger.nik},
        content_type="application/json",
    )
    assert refused.status_code == 422 and refused.json()["rule"] == "family"


@pytest.mark.parametrize(
    "change, status, fragment",
    [
        ({"birth_date": "1995-01-11"}, 422, "tidak cocok"),
        ({"nik": "1809011001959999"}, 422, "tidak cocok"),
        ({"nik": "12345"}, 422, "16 digit"),
        ({"nik": "1" * 300}, 422, "Paling banyak 16"),
        ({"birth_date": "1995-02-30"}, 422, "Tanggal tidak sah"),
        ({"window_id": "bukan"}, 422, "tidak valid"),
        ({"window_id": "00000000-0000-0000-0000-000000000000"}, 404, "tidak dikenal"),
        ({"nik": None, "birth_date": None}, 422, "Isi NIK"),
        ({"nik": None, "code": "ZZZZZZZZZZ"}, 422, "tidak dikenal"),
    ],
)
def test_api_booking_bad_input(client, resident, later, change, status, fragment):
    payload = {**_identity(resident), "window_id": str(later.pk), **change}
    response = client.post(f"{API}/bookings", payload, content_type="application/json")
    assert response.status_code == status
    assert fragment in str(response.json())
    assert not Booking.objects.exists()


def test_api_full_and_second_booking_refused_with_rule(client, later):
    first, second, third = (ResidentFactory(birth_date=dt.date(1990, 1, 1)) for _ in range(3))
    for r in (first, second):
        assert (
            client.post(
                f"{API}/bookings",
                {**_identity(r), "window_id": str(later.pk)},
                content_type="application/json",
            ).status_code
            == 201
        )
    full = client.post(
        f"{API}/bookings",
        {**_identity(third), "window_id": str(later.pk)},
        content_type="application/json",
    )
    assert full.json()["rule"] == "full"
    twice = client.post(
        f"{API}/bookings",
        {**_identity(first), "window_id": str(later.pk)},
        content_type="application/json",
    )
    assert twice.json()["rule"] == "one_active_booking"
    assert Booking.objects.count() == 2


def test_api_unknown_code_and_bad_day(client, later):
    assert client.get(f"{API}/bookings/ZZZZZZZZZZ").status_code == 404
    assert client.get(f"{API}/bookings/{'A' * 500}").status_code == 404
    bad_day = client.get(f"{API}/points/{later.service_point_id}/windows", {"day": "2025-02-30"})
    assert bad_day.status_code == 422
    assert (
        client.get(f"{API}/points/{uuid.uuid4()}/windows", {"day": "2025-01-01"}).status_code == 404
    )


def test_api_gate_counter_and_board(client, make_staff):
    today = timezone.localdate()
    point = point_with_kits(throughput=10)
    open_on(point, today, dt.time(0, 0), dt.time(23, 59))
    counter = CounterFactory(service_point=point, name="Loket A")
    gate = _staff_headers(make_staff, Role.GATE_OFFICER)
    desk = _staff_headers(make_staff, Role.OPERATOR)
    ticket = client.post(
        f"{API}/points/{point.pk}/walk-in",
        {"priority": "hamil"},
        content_type="application/json",
        **gate,
    )
    assert ticket.status_code == 201 and ticket.json()["label"] == "B-001"
    assert client.post(f"{API}/counters/{counter.pk}/call-next", **gate).status_code == 403
    called = client.post(f"{API}/counters/{counter.pk}/call-next", **desk)
    assert called.json()["counter"] == "Loket A"
    board = client.get(f"{API}/points/{point.pk}/board").json()
    assert board["counters"] == [{"counter": "Loket A", "number": "B-001"}]
    no_show = client.post(f"{API}/tickets/{called.json()['id']}/no-show", **desk)
    assert no_show.json()["status"] == "no_show"
    recalled = client.post(
        f"{API}/tickets/{called.json()['id']}/recall",
        {"counter_id": str(counter.pk)},
        content_type="application/json",
        **desk,
    )
    assert recalled.json()["status"] == "called"
    served = client.post(f"{API}/tickets/{called.json()['id']}/served", **desk)
    assert served.json()["status"] == "served"
    assert client.post(f"{API}/tickets/{called.json()['id']}/served", **desk).status_code == 422
    for payload, fragment in [
        ({"code": "ZZZZZZZZZZ"}, "tidak dikenal"),
        ({"code": "Z" * 100}, "Paling banyak 20"),
    ]:
        bad = client.post(
            f"{API}/points/{point.pk}/check-in", payload, content_type="application/json", **gate
        )
        assert bad.status_code in (404, 422) and fragment in str(bad.json())
    bad_walk = client.post(
        f"{API}/points/{point.pk}/walk-in", {"nik": "abc"}, content_type="application/json", **gate
    )
    assert bad_walk.status_code == 422
    assert QueueTicket.objects.count() == 1


def test_api_staff_endpoints_need_a_token(client):
    point = point_with_kits()
    assert (
        client.post(
            f"{API}/points/{point.pk}/walk-in", {}, content_type="application/json"
        ).status_code
        == 401
    )


def test_api_invitations_and_no_shows(client, make_staff):
    point = point_with_kits()
    boss = _staff_headers(make_staff, Role.SUPERVISOR)
    bad = client.post(
        f"{API}/points/{point.pk}/invitations",
        {"kind": "semua", "reference_day": "2025-01-01", "first_day": "2025-01-02"},
        content_type="application/json",
        **boss,
    )
    assert bad.status_code == 422 and bad.json()["rule"] == "kind"
    too_many = client.post(
        f"{API}/points/{point.pk}/invitations",
        {
            "kind": "first_voters",
            "reference_day": "2025-01-01",
            "first_day": "2025-01-02",
            "limit": 10**6,
        },
        content_type="application/json",
        **boss,
    )
    assert too_many.status_code == 422
    window = TimeWindowFactory(service_point=point)
    counts = client.get(
        f"{API}/points/{point.pk}/no-shows", {"day": window.day.isoformat()}, **boss
    )
    assert counts.status_code == 200 and counts.json()[0]["capacity"] == 15


def test_days_outside_the_booking_horizon_are_refused_without_creating_windows(
    client, resident, later
):
    far = {"day": "9999-12-31"}
    api = client.get(f"{API}/points/{later.service_point_id}/windows", far)
    assert api.status_code == 422 and api.json()["rule"] == "horizon"
    client.post(reverse("booking:identify"), _identity(resident))
    page = client.get(reverse("booking:choose"), {"point": later.service_point_id, **far})
    assert page.status_code == 422 and "hari ke depan" in page.content.decode()
    past = client.get(f"{API}/points/{later.service_point_id}/windows", {"day": "2001-01-01"})
    assert past.status_code == 422
    assert not TimeWindow.objects.exclude(day=later.day).exists()


def test_api_staff_bad_input_and_roles(client, make_staff):
    point = point_with_kits()
    boss = _staff_headers(make_staff, Role.SUPERVISOR)
    gate = _staff_headers(make_staff, Role.GATE_OFFICER)
    assert client.get(f"{API}/points/{point.pk}/no-shows", **gate).status_code == 403
    bad_day = client.get(f"{API}/points/{point.pk}/no-shows", {"day": "2025-02-30"}, **boss)
    assert bad_day.status_code == 422 and "Tanggal tidak sah" in str(bad_day.json())
    assert client.post(f"{API}/tickets/{uuid.uuid4()}/served", **boss).status_code == 404
    bad_recall = client.post(
        f"{API}/tickets/{uuid.uuid4()}/recall",
        {"counter_id": "bukan"},
        content_type="application/json",
        **boss,
    )
    assert bad_recall.status_code == 422
    assert client.post(f"{API}/counters/{uuid.uuid4()}/call-next", **boss).status_code == 404
    malformed = client.post(
        f"{API}/points/{point.pk}/walk-in", "{", content_type="application/json", **gate
    )
    assert malformed.status_code in (400, 422)
    assert QueueTicket.objects.count() == 0


def test_guessing_birth_dates_for_one_nik_is_rate_limited(client, resident, settings):
    settings.PORTAL_RATE_PER_NIK = "3/h"
    answers = [
        client.post(
            reverse("booking:identify"), {"nik": resident.nik, "birth_date": f"1995-01-{d:02d}"}
        )
        for d in range(1, 6)
    ]
    assert [a.status_code for a in answers] == [422, 422, 422, 429, 429]
    assert "coba lagi" in answers[-1].content.decode().lower()
    api = client.post(
        "/api/v1/appointments/bookings",
        {"nik": resident.nik, "birth_date": "1995-01-10", "window_id": 1},
        content_type="application/json",
    )
    assert api.status_code in (422, 429)
