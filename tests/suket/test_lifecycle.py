"""A suket after issue: voided when the card is printed, revoked by a supervisor, delivered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from ektp.cards import services as cards_services
from ektp.cards.printers import PdfProofPrinter
from ektp.core.models import AuditEvent, Role
from ektp.residents.models import KtpStatus
from ektp.suket.models import Suket
from ektp.suket.services import (
    SuketInvalid,
    SuketNotAllowed,
    issue_suket,
    revoke_suket,
    void_suket_for,
)
from ektp.suket.tasks import deliver_suket
from tests.cards.factories import PrinterDeviceFactory, ServicePointFactory
from tests.suket.conftest import at
from tests.suket.factories import PrrResidentFactory, RecordedResidentFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 25)
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def suket(office, operator):
    return issue_suket(
        resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY)
    )


def test_printing_the_card_voids_the_suket(stock, supervisor, operator):
    point = ServicePointFactory(office=stock, code="UPT001", name="UPT Gedong Tataan")
    device = PrinterDeviceFactory(
        service_point=point, status="broken", status_reason="Head printer macet"
    )
    cards_services.transfer_blanks(
        office=stock, from_point=None, to_point=point, quantity=5, actor=supervisor
    )
    resident = PrrResidentFactory()
    suket = issue_suket(
        resident=resident,
        office=stock,
        officer=operator,
        technical_failure="Printer rusak pagi ini",
    )
    device.status, device.status_reason = "active", ""
    device.save()  # repaired
    cards_services.print_card(
        request_or_resident=resident,
        service_point=point,
        printer=PdfProofPrinter(),
        operator=operator,
    )
    suket.refresh_from_db()
    assert suket.status == Suket.Status.VOIDED
    assert suket.status_reason.startswith("KTP-el dicetak pada")
    assert suket.status_changed_by == operator


def test_void_suket_for_voids_only_the_valid_one_and_is_safe_twice(suket, operator):
    resident = suket.resident
    assert void_suket_for(resident, "KTP-el dicetak", actor=operator) == 1
    assert void_suket_for(resident, "KTP-el dicetak", actor=operator) == 0
    suket.refresh_from_db()
    assert suket.status == Suket.Status.VOIDED and suket.status_reason == "KTP-el dicetak"


def test_supervisor_revokes_with_a_reason(suket, supervisor):
    revoked = revoke_suket(suket=suket, reason="Data tempat lahir salah", actor=supervisor)
    assert revoked.status == Suket.Status.REVOKED
    assert revoked.status_reason == "Data tempat lahir salah"
    assert AuditEvent.objects.filter(object_type="suket", object_id=str(suket.pk)).count() == 2


def test_operator_cannot_revoke(suket, operator):
    with pytest.raises(SuketNotAllowed, match="Hanya kepala dinas/supervisor"):
        revoke_suket(suket=suket, reason="Data salah sekali", actor=operator)
    suket.refresh_from_db()
    assert suket.status == Suket.Status.VALID


@pytest.mark.parametrize("reason", ["", "   ", "ok"])
def test_revoke_needs_a_reason(suket, supervisor, reason):
    with pytest.raises(SuketInvalid, match="Alasan pencabutan wajib diisi"):
        revoke_suket(suket=suket, reason=reason, actor=supervisor)
    suket.refresh_from_db()
    assert suket.status == Suket.Status.VALID


def test_a_voided_suket_cannot_be_revoked(suket, supervisor):
    void_suket_for(suket.resident, "KTP-el dicetak")
    with pytest.raises(SuketNotAllowed, match="tidak dapat dicabut"):
        revoke_suket(suket=suket, reason="Data tempat lahir salah", actor=supervisor)


def test_revoke_from_another_district_is_refused(suket, make_staff):
    other = make_staff(Role.SUPERVISOR, region="18.71")
    with pytest.raises(SuketNotAllowed, match="di luar wilayah kerja"):
        revoke_suket(suket=suket, reason="Data tempat lahir salah", actor=other)


def test_a_valid_suket_past_its_last_day_reads_as_expired(suket):
    assert suket.current_status(suket.valid_until) == Suket.Status.VALID
    assert suket.current_status(suket.valid_until + dt.timedelta(days=1)) == Suket.Status.EXPIRED


def test_after_revocation_a_new_suket_may_be_issued(suket, supervisor, operator):
    revoke_suket(suket=suket, reason="Data tempat lahir salah", actor=supervisor)
    again = issue_suket(resident=suket.resident, office=suket.office, officer=operator, at=at(DAY))
    assert again.number.startswith("474.11/0002/")


@override_settings(TASKS=IMMEDIATE)
def test_delivery_is_recorded_once_after_issue(
    office, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        suket = issue_suket(
            resident=RecordedResidentFactory(), office=office, officer=operator, at=at(DAY)
        )
    suket.refresh_from_db()
    first = suket.delivery_recorded_at
    assert first is not None
    assert deliver_suket.call(suket_id=str(suket.pk)) is False
    suket.refresh_from_db()
    assert suket.delivery_recorded_at == first


def test_prr_resident_gets_a_suket_after_the_card_is_issued_only_without_blanks(stock, operator):
    resident = PrrResidentFactory(ktp_status=KtpStatus.CARD_ISSUED)
    with pytest.raises(SuketNotAllowed, match="masih ada 120 blangko"):
        issue_suket(resident=resident, office=stock, officer=operator, at=at(DAY))
