"""The resident page: the next steps that fit the state, the family, history, cards, sukets
and bookings, read with a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ektp.appointments import services as booking_services
from ektp.cards import services as card_services
from ektp.cards.models import LedgerEntry
from ektp.cards.printers import PdfProofPrinter
from ektp.core.models import Role
from ektp.residents import selectors
from ektp.residents.models import FamilyRelation, KtpStatus
from ektp.suket.services import issue_suket
from tests.appointments.factories import WORKDAY, TimeWindowFactory, at
from tests.cards.factories import OfficeFactory, PrinterDeviceFactory
from tests.enrollment.factories import open_point, record
from tests.residents.factories import FamilyFactory, ResidentFactory

pytestmark = pytest.mark.django_db
PAGE_QUERIES = 8  # resident, region path, family, history, edits, cards, sukets, bookings


def _page(client, resident) -> str:
    response = client.get(reverse("residents:detail", args=[resident.nik]))
    assert response.status_code == 200
    return response.content.decode()


def _actions(page: str) -> str:
    return page[
        page.index('id="resident-actions"') : page.index(
            "</div>", page.index('id="resident-actions"')
        )
    ]


@pytest.fixture
def family():
    family = FamilyFactory()
    head = ResidentFactory(family=family, family_relation=FamilyRelation.HEAD, name="BUDI SANTOSO")
    child = ResidentFactory(family=family, family_relation=FamilyRelation.CHILD, name="ANI SANTOSO")
    return family, head, child


def test_a_resident_not_yet_recorded_offers_recording_and_a_booking(operator_client, family):
    _, head, child = family
    page = _page(operator_client, head)
    actions = _actions(page)
    assert reverse("enrollment:record", args=[head.nik]) in actions and "Rekam biometrik" in actions
    assert reverse("booking:identify") in actions
    assert "Cetak KTP-el" not in actions and "Terbitkan suket" not in actions
    # The family's other members, each a link to their own page.
    assert (
        f'href="{reverse("residents:detail", args=[child.nik])}"' in page and "ANI SANTOSO" in page
    )
    assert "Anak" in page


def test_a_print_ready_resident_is_sent_to_the_print_queue_and_may_get_a_suket(operator_client):
    resident = ResidentFactory(
        ktp_status=KtpStatus.PRINT_READY_RECORD, recorded_on=timezone.localdate()
    )
    actions = _actions(_page(operator_client, resident))
    assert f"{reverse('cards:queue')}?q={resident.nik}" in actions
    assert f"{reverse('suket:list')}?nik={resident.nik}" in actions
    assert "Rekam biometrik" not in actions and reverse("booking:identify") not in actions


def test_the_gate_officer_sees_only_the_steps_that_role_may_open(client, make_staff):
    resident = ResidentFactory()
    client.force_login(make_staff(Role.GATE_OFFICER))
    actions = _actions(_page(client, resident))
    assert "Rekam biometrik" not in actions and "Ubah data" not in actions
    assert reverse("enrollment:history", args=[resident.nik]) in actions
    assert reverse("booking:identify") in actions  # the public booking page: anyone may open it


def test_a_resident_outside_the_jurisdiction_or_unknown_is_not_found(operator_client):
    outside = ResidentFactory(address_region_id="18.71.01.1003")
    assert operator_client.get(reverse("residents:detail", args=[outside.nik])).status_code == 404
    for bad in ("1809010101010001", "bukan-nik", "0" * 40):
        assert operator_client.get(reverse("residents:detail", args=[bad])).status_code == 404


def test_suket_page_opened_from_the_resident_page_has_the_nik_filled_in(operator_client):
    OfficeFactory()
    resident = ResidentFactory(
        ktp_status=KtpStatus.SENT_FOR_ENROLLMENT, recorded_on=timezone.localdate()
    )
    page = operator_client.get(reverse("suket:list"), {"nik": resident.nik, "kab": "18.09"})
    assert f'value="{resident.nik}"' in page.content.decode()
    odd = operator_client.get(reverse("suket:list"), {"nik": '"><script>', "kab": "18.09"})
    assert "<script>" not in odd.content.decode().split("<main", 1)[-1]


def _load(resident, operator, supervisor):
    """Give a resident two cancelled bookings, a recording, a suket and a printed card."""
    point, kit = open_point()
    for hour in (8, 9):
        window = TimeWindowFactory(
            service_point=point, starts_at=dt.time(hour, 0), ends_at=dt.time(hour + 1, 0)
        )
        booking = booking_services.book(
            resident=resident, window=window, now=at(WORKDAY - dt.timedelta(days=2), 10)
        )
        booking_services.cancel_booking(booking=booking)
    record(operator, resident=resident, point=point, kit=kit)
    office = point.office
    PrinterDeviceFactory(service_point=point)
    card_services.receive_blanks(
        office=office,
        serial_first="180926000001",
        serial_last="180926000003",
        source=LedgerEntry.Source.MINISTRY,
        reference="B-001/DUKCAPIL/2026",
        actor=supervisor,
    )
    card_services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=3, actor=supervisor
    )
    type(resident).objects.filter(pk=resident.pk).update(ktp_status=KtpStatus.SENT_FOR_ENROLLMENT)
    resident.refresh_from_db()
    issue_suket(resident=resident, office=office, officer=operator)
    type(resident).objects.filter(pk=resident.pk).update(ktp_status=KtpStatus.PRINT_READY_RECORD)
    resident.refresh_from_db()
    card_services.print_card(
        request_or_resident=resident,
        service_point=point,
        printer=PdfProofPrinter(),
        operator=operator,
    )
    return point


def test_resident_page_reads_with_a_fixed_number_of_queries(client, operator, make_staff, family):
    _, head, child = family
    supervisor = make_staff(Role.SUPERVISOR)
    _load(head, operator, supervisor)
    with CaptureQueriesContext(connection) as bare:
        assert selectors.resident_page(user=operator, nik=child.nik) is not None
    with CaptureQueriesContext(connection) as loaded:
        page = selectors.resident_page(user=operator, nik=head.nik)
        page.timeline  # noqa: B018 - reads the actors and places of every row
        [
            (c.service_point.name, b.window.service_point.name)
            for c in page.cards
            for b in page.bookings
        ]
    assert len(bare) == len(loaded) == PAGE_QUERIES
    assert page.cards and page.sukets and len(page.bookings) == 2 and page.history
    client.force_login(operator)
    with CaptureQueriesContext(connection) as bare_page:
        _page(client, child)
    with CaptureQueriesContext(connection) as loaded_page:
        html = _page(client, head)
    assert len(bare_page) == len(loaded_page)
    assert "Belum diserahkan" in html and page.sukets[0].number in html
    assert "Dibatalkan" in html  # the cancelled bookings
