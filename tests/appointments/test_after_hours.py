"""The gate after closing, the printable ticket, the gate's counters and the board's calls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.after_hours import gate_closed_reason, next_opening, ticket_window_note
from ektp.appointments.models import QueueTicket
from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.offices.calendar import opening
from ektp.offices.models import SpecialDay
from tests.appointments.factories import (
    HOLIDAY,
    WORKDAY,
    CounterFactory,
    at,
    open_on,
    point_with_kits,
)

pytestmark = pytest.mark.django_db


def test_after_closing_the_gate_names_the_next_opening_day_and_its_first_window():
    point = point_with_kits()
    reason = gate_closed_reason(point=point, now=at(WORKDAY, 15, 53))
    assert reason.startswith("Layanan hari ini sudah tutup pukul 15:00.")
    assert "Buka lagi Selasa, 23 Desember 2025 pukul 08:00 (jendela pertama 08:00–" in reason


def test_the_gate_is_open_before_opening_and_during_the_day():
    point = point_with_kits()
    assert gate_closed_reason(point=point, now=at(WORKDAY, 7, 0)) is None
    assert gate_closed_reason(point=point, now=at(WORKDAY, 14, 59)) is None


def test_on_a_closed_day_the_gate_says_why_and_skips_holidays_to_the_next_opening():
    point = point_with_kits()
    reason = gate_closed_reason(point=point, now=at(HOLIDAY, 9, 0))
    assert reason.startswith("Titik layanan tutup hari ini (Hari libur:")
    upcoming = next_opening(point=point, after=HOLIDAY - dt.timedelta(days=1))
    assert upcoming.day > HOLIDAY and opening(point=point, day=upcoming.day).is_open


def test_a_point_without_working_kits_has_no_next_opening_to_promise():
    point = point_with_kits(kits=0)
    reason = gate_closed_reason(point=point, now=at(WORKDAY, 16, 0))
    assert "Belum ada hari buka dalam 31 hari ke depan." in reason


def test_ticket_note_says_when_its_window_had_already_passed(make_staff):
    point = point_with_kits()
    open_on(point, WORKDAY, dt.time(8, 0), dt.time(12, 0))
    gate = make_staff(Role.GATE_OFFICER)
    ticket = services.issue_walk_in(point=point, actor=gate, now=at(WORKDAY, 8, 10))
    assert ticket_window_note(ticket).startswith("Perkiraan dilayani pada jendela 08:00–")
    ticket.issued_at = at(WORKDAY, 11, 50)
    assert "sudah lewat saat nomor diambil" in ticket_window_note(ticket)


def test_gate_refuses_a_walk_in_number_on_a_closed_day_with_the_next_opening(client, make_staff):
    point = point_with_kits()
    today = timezone.localdate()
    SpecialDay.objects.create(
        office=point.office, service_point=point, day=today, is_open=False, reason="Rapat dinas"
    )
    client.force_login(make_staff(Role.GATE_OFFICER))
    url = reverse("appointments:gate", args=[point.pk])
    assert "Rapat dinas" in client.get(url).content.decode()
    response = client.post(url, {"action": "walk_in"})
    page = response.content.decode()
    assert response.status_code == 422
    assert "Titik layanan tutup hari ini (Tutup: Rapat dinas)" in page and "Buka lagi" in page
    assert not QueueTicket.objects.exists()


def test_gate_without_counters_links_the_head_and_tells_others_whom_to_ask(client, make_staff):
    point = point_with_kits()
    url = reverse("appointments:gate", args=[point.pk])
    client.force_login(make_staff(Role.SUPERVISOR))
    page = client.get(url).content.decode()
    assert "Belum ada loket yang dibuka" in page
    assert reverse("offices:counters", args=[point.pk]) in page
    client.force_login(make_staff(Role.GATE_OFFICER))
    page = client.get(url).content.decode()
    assert "Minta kepala dinas / supervisor membuka loket" in page
    assert reverse("offices:counters", args=[point.pk]) not in page
    CounterFactory(service_point=point, name="Loket Utama")
    page = client.get(url).content.decode()
    assert "Loket Utama" in page and "Belum ada loket" not in page


def test_gate_officer_gets_a_clear_indonesian_refusal_at_a_counter(client, make_staff):
    counter = CounterFactory()
    client.force_login(make_staff(Role.GATE_OFFICER))
    response = client.get(reverse("appointments:counter", args=[counter.pk]))
    page = response.content.decode()
    assert response.status_code == 403
    assert "Petugas gerbang tidak melayani loket" in page and "halaman Gerbang" in page


def test_ticket_page_has_a_print_button_auto_print_and_receipt_css(client, make_staff):
    point = point_with_kits()
    open_on(point, timezone.localdate(), dt.time(0, 0), dt.time(23, 59))
    gate = make_staff(Role.GATE_OFFICER)
    ticket = services.issue_walk_in(point=point, actor=gate)
    client.force_login(gate)
    page = client.get(reverse("appointments:ticket", args=[ticket.pk])).content.decode()
    assert 'id="print-ticket"' in page and ">Cetak<" in page and 'id="auto-print"' in page
    assert "appointments/ticket.css" in page and "appointments/ticket.js" in page
    assert "Perkiraan jendela" not in page


def test_board_marks_each_call_for_the_chime_and_the_voice(client, make_staff):
    point = point_with_kits()
    open_on(point, timezone.localdate(), dt.time(0, 0), dt.time(23, 59))
    counter = CounterFactory(service_point=point, name="Loket 2")
    services.issue_walk_in(point=point, actor=make_staff(Role.GATE_OFFICER))
    services.call_next(counter=counter, actor=make_staff(Role.OPERATOR))
    board = client.get(reverse("booking:board", args=[point.pk])).content.decode()
    assert 'id="board-speech"' in board and "appointments/board.js" in board
    rows = client.get(reverse("booking:board_rows", args=[point.pk])).content.decode()
    assert 'data-label="B-001"' in rows and 'data-counter="Loket 2"' in rows


def test_point_day_without_counters_tells_the_gate_officer_whom_to_ask(client, make_staff):
    point = point_with_kits()
    client.force_login(make_staff(Role.GATE_OFFICER))
    page = client.get(reverse("appointments:point", args=[point.pk])).content.decode()
    assert "Belum ada loket." in page and "Minta kepala dinas / supervisor" in page


def test_walk_in_service_refuses_after_closing_and_names_the_next_opening(make_staff):
    point = point_with_kits()
    gate = make_staff(Role.GATE_OFFICER)
    with pytest.raises(services.QueueError) as err:
        services.issue_walk_in(point=point, actor=gate, now=at(WORKDAY, 15, 53))
    assert err.value.rule == "closed"
    assert err.value.message.startswith("Layanan hari ini sudah tutup pukul 15:00.")
    assert "Buka lagi Selasa, 23 Desember 2025" in err.value.message
    with pytest.raises(services.QueueError):
        services.issue_walk_in(point=point, actor=gate, now=at(WORKDAY, 15, 0))
    with pytest.raises(services.QueueError) as holiday:
        services.issue_walk_in(point=point, actor=gate, now=at(HOLIDAY, 9, 0))
    assert "Hari libur" in holiday.value.message
    assert not QueueTicket.objects.exists()
    ticket = services.issue_walk_in(point=point, actor=gate, now=at(WORKDAY, 14, 59))
    assert ticket.label == "B-001"


def _fixed_clock(monkeypatch, moment):
    """Stop Django's clock at `moment` for the request under test (no time-machine here)."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_api_walk_in_is_refused_after_closing_like_the_gate_page(client, make_staff, monkeypatch):
    point = point_with_kits()
    gate = make_staff(Role.GATE_OFFICER)
    token = issue_api_token(user=gate, name="uji")
    _fixed_clock(monkeypatch, at(WORKDAY, 15, 53))
    response = client.post(
        f"/api/v1/appointments/points/{point.pk}/walk-in",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 422
    assert "sudah tutup pukul 15:00" in str(response.json())
    client.force_login(gate)
    page = client.post(reverse("appointments:gate", args=[point.pk]), {"action": "walk_in"})
    assert page.status_code == 422 and "sudah tutup pukul 15:00" in page.content.decode()
    assert not QueueTicket.objects.exists()


def test_api_walk_in_is_given_during_opening_hours(client, make_staff, monkeypatch):
    point = point_with_kits()
    token = issue_api_token(user=make_staff(Role.GATE_OFFICER), name="uji")
    _fixed_clock(monkeypatch, at(WORKDAY, 9, 0))
    response = client.post(
        f"/api/v1/appointments/points/{point.pk}/walk-in",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201 and response.json()["label"] == "B-001"
