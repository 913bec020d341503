"""Printing a card takes one blank by serial; hand-over is a separate step."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.cards import selectors, services
from ektp.cards.models import Blank, CardPrint, LedgerEntry, ReprintRequest
from ektp.cards.printers import SpoolerPrinter, default_printer
from ektp.offices.models import Device
from ektp.residents.models import KtpStatus
from tests.cards.factories import PrinterDeviceFactory, PrrResidentFactory, ServicePointFactory
from tests.residents.factories import ResidentFactory


def test_print_takes_the_lowest_serial_and_marks_the_resident_printed(
    stocked_point, printer, operator
):
    resident = PrrResidentFactory()
    card = services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    assert card.blank.serial == "180926000001"
    assert card.blank.state == Blank.State.USED
    assert card.reason == "baru" and card.operator == operator and card.printer is not None
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.CARD_PRINTED
    consumption = LedgerEntry.objects.get(kind="consumption")
    assert consumption.from_point == stocked_point and consumption.device == card.printer
    assert selectors.on_hand(stocked_point.office, stocked_point) == 4
    proof = Path(settings.MEDIA_ROOT) / card.proof
    assert proof.read_bytes().startswith(b"%PDF")
    step = resident.ktp_history.get()
    assert (step.from_status, step.to_status) == (
        KtpStatus.PRINT_READY_RECORD,
        KtpStatus.CARD_PRINTED,
    )
    assert step.actor == operator and step.service_point == stocked_point


def test_print_by_serial_uses_that_blank(stocked_point, printer, operator):
    card = services.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=printer,
        operator=operator,
        serial="180926000004",
    )
    assert card.blank.serial == "180926000004"


def test_print_with_a_serial_outside_the_point_stock_is_refused(stocked_point, printer, operator):
    resident = PrrResidentFactory()
    with pytest.raises(services.BlankUnavailable, match="180926000009 tidak ada dalam stok"):
        services.print_card(
            request_or_resident=resident,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
            serial="180926000009",
        )
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.PRINT_READY_RECORD
    assert CardPrint.objects.count() == 0


def test_print_with_no_blank_is_refused_with_a_clear_message(point, printer, operator):
    resident = PrrResidentFactory()
    with pytest.raises(services.NoBlankInStock, match="Tidak ada blangko tersedia di UPT"):
        services.print_card(
            request_or_resident=resident, service_point=point, printer=printer, operator=operator
        )
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.PRINT_READY_RECORD


def test_printing_twice_for_the_same_record_is_refused(stocked_point, printer, operator):
    resident = PrrResidentFactory()
    services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    with pytest.raises(services.NotPrintable, match="bukan siap cetak"):
        services.print_card(
            request_or_resident=resident,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )
    assert CardPrint.objects.count() == 1


def test_record_that_is_not_prr_is_refused(stocked_point, printer, operator):
    resident = ResidentFactory(
        ktp_status=KtpStatus.SENT_FOR_ENROLLMENT, recorded_on=dt.date(2026, 1, 2)
    )
    with pytest.raises(services.NotPrintable, match="Menunggu penunggalan"):
        services.print_card(
            request_or_resident=resident,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )


def test_a_used_serial_cannot_be_printed_on_again_in_the_database(stocked_point, printer, operator):
    card = services.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CardPrint.objects.create(
            blank=card.blank,
            resident=PrrResidentFactory(),
            reason="baru",
            service_point=stocked_point,
            operator=operator,
            printed_at=timezone.now(),
        )


def test_under_17_unmarried_card_is_held_until_the_17th_birthday(stocked_point, printer, operator):
    today = timezone.localdate()
    birth = dt.date(today.year - 16, 1, 1)
    resident = PrrResidentFactory(birth_date=birth, recorded_on=today)
    with pytest.raises(services.CardHeld, match=f"01-01-{birth.year + 17}"):
        services.print_card(
            request_or_resident=resident,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )
    assert selectors.on_hand(stocked_point.office, stocked_point) == 5


def test_under_17_but_married_is_printed(stocked_point, printer, operator):
    today = timezone.localdate()
    resident = PrrResidentFactory(
        birth_date=dt.date(today.year - 16, 1, 1), recorded_on=today, marital_status="kawin"
    )
    services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )


def test_a_broken_printer_blocks_printing_at_its_point_with_the_reason(
    stocked_point, printer, operator
):
    Device.objects.filter(service_point=stocked_point).update(
        status=Device.Status.BROKEN, status_reason="Ribbon putus"
    )
    resident = PrrResidentFactory()
    with pytest.raises(services.PrinterUnavailable, match="rusak: Ribbon putus"):
        services.print_card(
            request_or_resident=resident,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )
    assert selectors.on_hand(stocked_point.office, stocked_point) == 5


def test_a_second_working_printer_keeps_the_point_printing(stocked_point, printer, operator):
    Device.objects.filter(service_point=stocked_point).update(
        status=Device.Status.IN_REPAIR, status_reason="Servis head"
    )
    spare = PrinterDeviceFactory(service_point=stocked_point, serial_number="PRN-ZZZ")
    card = services.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    assert card.printer == spare


def test_a_point_without_a_card_printer_cannot_print(office, operator, printer):
    bare = ServicePointFactory(office=office, code="MOB01", kind="mobile")
    with pytest.raises(services.PrinterUnavailable, match="Tidak ada printer kartu"):
        services.print_card(
            request_or_resident=PrrResidentFactory(),
            service_point=bare,
            printer=printer,
            operator=operator,
        )


def test_misprint_voids_that_blank_with_the_reason_and_takes_the_next(
    stocked_point, printer, operator
):
    resident = PrrResidentFactory()
    first = services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    second = services.report_misprint(
        card_print=first, reason="Foto bergeser", printer=printer, operator=operator
    )
    first.refresh_from_db()
    assert first.void_reason == "Foto bergeser" and first.voided_at is not None
    assert Blank.objects.get(serial="180926000001").state == Blank.State.SPOILED
    assert second.blank.serial == "180926000002"
    spoil = LedgerEntry.objects.get(kind="spoilage")
    assert (spoil.spoil_cause, spoil.reason) == ("misprint", "Foto bergeser")
    with pytest.raises(services.StockInvalid, match="sudah dibatalkan"):
        services.report_misprint(
            card_print=first, reason="lagi", printer=printer, operator=operator
        )
    with pytest.raises(services.StockInvalid, match="Alasan"):
        services.report_misprint(card_print=second, reason="", printer=printer, operator=operator)


def test_hand_over_records_the_receiver_and_issues_the_card(stocked_point, printer, operator):
    resident = PrrResidentFactory()
    card = services.print_card(
        request_or_resident=resident,
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    services.hand_over(
        card_print=card, received_by_name="  Siti  Aminah ", relation="orang_tua", operator=operator
    )
    card.refresh_from_db()
    resident.refresh_from_db()
    assert card.received_by_name == "Siti Aminah" and card.handed_over_by == operator
    assert resident.ktp_status == KtpStatus.CARD_ISSUED
    with pytest.raises(services.NotPrintable, match="sudah diserahkan"):
        services.hand_over(
            card_print=card, received_by_name="Lain", relation="anak", operator=operator
        )


@pytest.mark.parametrize(
    ("name", "relation", "message"),
    [
        ("", "anak", "Nama penerima"),
        ("x" * 101, "anak", "Nama penerima"),
        ("Ani", "tetangga", "Hubungan"),
    ],
)
def test_hand_over_with_bad_input_is_refused(
    stocked_point, printer, operator, name, relation, message
):
    card = services.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    with pytest.raises(services.NotPrintable, match=message):
        services.hand_over(
            card_print=card, received_by_name=name, relation=relation, operator=operator
        )
    card.refresh_from_db()
    assert card.handed_over_at is None


def test_reprint_request_for_a_lost_card_is_printed_and_closed(stocked_point, printer, operator):
    resident = ResidentFactory(ktp_status=KtpStatus.CARD_ISSUED, recorded_on=dt.date(2015, 1, 1))
    request = services.create_reprint_request(resident=resident, reason="hilang", actor=operator)
    with pytest.raises(services.NotPrintable, match="sudah punya permohonan"):
        services.create_reprint_request(resident=resident, reason="rusak", actor=operator)
    card = services.print_card(
        request_or_resident=request, service_point=stocked_point, printer=printer, operator=operator
    )
    request.refresh_from_db()
    assert card.reason == "hilang" and request.status == ReprintRequest.Status.PRINTED
    with pytest.raises(services.NotPrintable, match="sudah dicetak"):
        services.print_card(
            request_or_resident=request,
            service_point=stocked_point,
            printer=printer,
            operator=operator,
        )


def test_reprint_request_needs_a_reprint_reason_and_a_recorded_resident(operator):
    resident = ResidentFactory()
    with pytest.raises(services.NotPrintable, match="Alasan cetak ulang"):
        services.create_reprint_request(resident=resident, reason="baru", actor=operator)
    with pytest.raises(services.NotPrintable, match="belum siap cetak"):
        services.create_reprint_request(resident=resident, reason="hilang", actor=operator)


def test_printer_backend_is_chosen_by_setting(settings):
    settings.EKTP_CARD_PRINTER = "ektp.cards.printers.SpoolerPrinter"
    assert isinstance(default_printer(), SpoolerPrinter)


def test_spooler_without_lp_refuses_cleanly(stocked_point, operator):
    resident = PrrResidentFactory()
    with pytest.raises(services.PrinterUnavailable, match="tidak tersedia"):
        services.print_card(
            request_or_resident=resident,
            service_point=stocked_point,
            printer=SpoolerPrinter(command="lp-tidak-ada"),
            operator=operator,
        )
    # The job never reached a printer: the blank stays in stock, the resident in the queue.
    assert selectors.on_hand(stocked_point.office, stocked_point) == 5
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.PRINT_READY_RECORD
