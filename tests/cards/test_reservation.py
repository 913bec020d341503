"""Reserve the blank, print outside any transaction, confirm; a stopped job waits for an operator."""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ektp.cards import jobs, rationing, selectors, services
from ektp.cards.models import Blank, CardPrint, LedgerEntry, PrintReservation, ReprintRequest
from ektp.cards.printers import JournalPrinter, PdfProofPrinter, PrinterError, default_printer
from ektp.core.models import AuditEvent, Role
from ektp.residents.models import KtpStatus, Resident
from tests.cards.factories import DyingPrinter, PowerCut, PrrResidentFactory, stopped_print
from tests.residents.factories import ResidentFactory


class FailingPrinter:
    def __init__(self, *, card_fed: bool = True):
        self.card_fed = card_fed

    def print_card(self, face):
        raise PrinterError("Kertas macet.", card_fed=self.card_fed)


class WatchingPrinter:
    """Runs a check while the card is on the printer, then prints a proof."""

    def __init__(self, check):
        self.check = check

    def print_card(self, face):
        self.check(face)
        return PdfProofPrinter().print_card(face)


def print_for(resident, point, operator, printer=None, **kw) -> CardPrint:
    return services.print_card(
        request_or_resident=resident,
        service_point=point,
        printer=printer or PdfProofPrinter(),
        operator=operator,
        **kw,
    )


# The reservation and the printer


@pytest.mark.django_db(transaction=True)
def test_the_printer_works_on_a_committed_reservation_with_no_transaction_open(
    settings, stocked_point, operator
):
    resident = PrrResidentFactory()
    seen = {}

    def check(face):
        seen["in_transaction"] = connection.in_atomic_block
        reservation = PrintReservation.objects.select_related("blank").get()
        seen["reservation"] = (
            reservation.status,
            reservation.blank.serial,
            reservation.blank.state,
            reservation.resident_id,
            reservation.operator_id,
            reservation.printer_id is not None,
            reservation.service_point_id,
        )
        seen["on_hand"] = selectors.on_hand(stocked_point.office, stocked_point)

    card = print_for(resident, stocked_point, operator, WatchingPrinter(check))
    assert seen["in_transaction"] is False
    assert seen["reservation"] == (
        "printing",
        "180926000001",
        Blank.State.PRINTING,
        resident.pk,
        operator.pk,
        True,
        stocked_point.pk,
    )
    assert seen["on_hand"] == 4
    reservation = PrintReservation.objects.get()
    assert reservation.status == "printed" and reservation.card_print == card
    assert reservation.resolved_by == operator and not reservation.reconciled
    assert card.blank.state == Blank.State.USED
    assert list(settings.EKTP_PRINT_JOB_DIR.glob("*.lock")) == []


@pytest.mark.django_db(transaction=True)
def test_a_resident_can_be_updated_while_their_card_is_on_the_printer(stocked_point, operator):
    """The printer takes 10–30 s a card: no write lock (SQLite) nor row lock (PostgreSQL)
    may be held meanwhile, or every other writer of the office waits for it."""
    resident = PrrResidentFactory()
    outcome = {}

    def update_phone():
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '3s'")
                Resident.objects.filter(pk=resident.pk).update(phone="081299990000")
            outcome["done"] = True
        except Exception as exc:  # reported in the assertion below
            outcome["error"] = exc
        finally:
            connection.close()

    def check(face):
        writer = threading.Thread(target=update_phone)
        writer.start()
        writer.join(timeout=30)

    print_for(resident, stocked_point, operator, WatchingPrinter(check))
    assert outcome == {"done": True}
    resident.refresh_from_db()
    assert resident.phone == "081299990000"
    assert resident.ktp_status == KtpStatus.CARD_PRINTED


def test_a_printer_failure_spoils_the_blank_and_keeps_the_resident_in_the_queue(
    stocked_point, operator
):
    resident = PrrResidentFactory()
    with pytest.raises(services.PrinterUnavailable, match=r"Kertas macet.*dicatat rusak"):
        print_for(resident, stocked_point, operator, FailingPrinter())
    blank = Blank.objects.get(serial="180926000001")
    assert blank.state == Blank.State.SPOILED
    spoilage = LedgerEntry.objects.get(kind="spoilage")
    assert spoilage.spoil_cause == "misprint" and "Kertas macet" in spoilage.reason
    assert LedgerEntry.objects.filter(kind="consumption").count() == 0
    reservation = PrintReservation.objects.get()
    assert reservation.status == "spoiled" and "Kertas macet" in reservation.note
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.PRINT_READY_RECORD
    q = selectors.print_queue(stocked_point.office)
    items, _ = q.items, q.shortage
    assert [i.resident for i in items] == [resident]
    card = print_for(resident, stocked_point, operator)
    assert card.blank.serial == "180926000002"


def test_a_job_refused_before_any_card_moved_leaves_the_blank_in_stock(stocked_point, operator):
    resident = PrrResidentFactory()
    with pytest.raises(services.PrinterUnavailable, match=r"Kertas macet.*tetap tersedia"):
        print_for(resident, stocked_point, operator, FailingPrinter(card_fed=False))
    assert Blank.objects.get(serial="180926000001").state == Blank.State.IN_STOCK
    reservation = PrintReservation.objects.get()
    assert reservation.status == "not_printed" and "Kertas macet" in reservation.note
    assert AuditEvent.objects.filter(object_type="print_reservation").count() == 1
    assert selectors.on_hand(stocked_point.office, stocked_point) == 5


# A job that stopped


def test_a_blank_whose_job_stopped_is_not_handed_out_again(office, stocked_point, operator):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    blank = reservation.blank
    blank.refresh_from_db()
    assert blank.state == Blank.State.PRINTING
    assert selectors.on_hand(office, stocked_point) == 4
    assert selectors.blank_totals(office)["printing"] == 1
    other = print_for(PrrResidentFactory(), stocked_point, operator)
    assert other.blank.serial == "180926000002"
    with pytest.raises(services.BlankUnavailable, match="180926000001 tidak ada dalam stok"):
        print_for(PrrResidentFactory(), stocked_point, operator, serial="180926000001")
    with pytest.raises(services.BlankUnavailable):
        services.spoil_blank(
            office=office, serial="180926000001", cause="damaged", reason="x", actor=operator
        )
    with pytest.raises(services.BlankUnavailable):
        services.transfer_blanks(
            office=office,
            from_point=stocked_point,
            to_point=None,
            serials=["180926000001"],
            actor=operator,
        )
    with pytest.raises(services.PrintInProgress, match="sedang dicetak pada blangko 180926000001"):
        print_for(resident, stocked_point, operator)
    q = selectors.print_queue(office)
    items, _ = q.items, q.shortage
    assert resident not in [i.resident for i in items]
    blank.refresh_from_db()
    assert blank.state == Blank.State.PRINTING


def test_the_database_refuses_a_second_open_reservation_or_a_blank_reserved_twice(
    stocked_point, operator
):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    fields = {
        "reason": "baru",
        "service_point": stocked_point,
        "operator": operator,
        "reserved_at": timezone.now(),
    }
    another_blank = Blank.objects.get(serial="180926000002")
    with pytest.raises(IntegrityError), transaction.atomic():
        PrintReservation.objects.create(blank=another_blank, resident=resident, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        PrintReservation.objects.create(
            blank=reservation.blank, resident=PrrResidentFactory(), **fields
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PrintReservation.objects.filter(pk=reservation.pk).update(status="not_printed")


def test_a_stopped_job_awaits_reconciliation_at_once_a_running_one_does_not(
    stocked_point, operator
):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    assert reservation.host == jobs.this_host()
    assert selectors.awaits_reconciliation(reservation)
    seen = {}

    def check(face):
        running = PrintReservation.objects.get(status="printing", blank__serial=face.serial)
        seen["awaiting"] = selectors.awaits_reconciliation(running)
        with pytest.raises(services.PrintInProgress, match="masih berjalan"):
            services.reconcile_print(
                reservation=running, outcome="not_printed", note="dikira macet", actor=operator
            )

    print_for(PrrResidentFactory(), stocked_point, operator, WatchingPrinter(check))
    assert seen == {"awaiting": False}


def test_a_job_on_another_server_awaits_reconciliation_after_the_set_minutes(
    settings, stocked_point, operator
):
    settings.EKTP_PRINT_RECONCILE_AFTER_MINUTES = 15
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    PrintReservation.objects.filter(pk=reservation.pk).update(host="server-lain")
    reservation.refresh_from_db()
    assert not selectors.awaits_reconciliation(reservation)
    with pytest.raises(services.PrintInProgress, match="setelah 15 menit"):
        services.reconcile_print(
            reservation=reservation, outcome="not_printed", note="x", actor=operator
        )
    PrintReservation.objects.filter(pk=reservation.pk).update(
        reserved_at=timezone.now() - dt.timedelta(minutes=16)
    )
    reservation.refresh_from_db()
    assert selectors.awaits_reconciliation(reservation)


# Reconciliation


def test_reconciled_as_printed_records_the_card_as_a_live_print_would(stocked_point, operator):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    settled = services.reconcile_print(
        reservation=reservation, outcome="printed", note="", actor=operator
    )
    assert settled.status == "printed" and settled.reconciled
    card = CardPrint.objects.get()
    assert settled.card_print == card and card.blank.serial == "180926000001"
    assert card.blank.state == Blank.State.USED
    consumption = LedgerEntry.objects.get(kind="consumption")
    assert "rekonsiliasi" in consumption.reason
    assert list(consumption.blanks.values_list("serial", flat=True)) == ["180926000001"]
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.CARD_PRINTED
    step = resident.ktp_history.get()
    assert step.to_status == KtpStatus.CARD_PRINTED and "rekonsiliasi" in step.reason
    with pytest.raises(services.PrintSettled, match="sudah diselesaikan"):
        services.reconcile_print(
            reservation=reservation, outcome="not_printed", note="x", actor=operator
        )


def test_reconciled_as_spoiled_books_the_spoilage_and_returns_the_resident_to_the_queue(
    office, stocked_point, operator
):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    services.reconcile_print(
        reservation=reservation,
        outcome="spoiled",
        note="Kartu tertahan di laminator",
        actor=operator,
    )
    assert Blank.objects.get(serial="180926000001").state == Blank.State.SPOILED
    spoilage = LedgerEntry.objects.get(kind="spoilage")
    assert spoilage.reason == "Kartu tertahan di laminator"
    assert CardPrint.objects.count() == 0
    assert [i.resident for i in selectors.print_queue(office).items] == [resident]


def test_reconciled_as_not_printed_puts_the_blank_back_on_record(office, stocked_point, operator):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    services.reconcile_print(
        reservation=reservation,
        outcome="not_printed",
        note="  Blangko masih di   baki, utuh ",
        actor=operator,
    )
    assert Blank.objects.get(serial="180926000001").state == Blank.State.IN_STOCK
    reservation.refresh_from_db()
    assert reservation.status == "not_printed" and reservation.reconciled
    assert reservation.note == "Blangko masih di baki, utuh"
    assert reservation.resolved_by == operator and reservation.resolved_at is not None
    event = AuditEvent.objects.get(object_type="print_reservation")
    assert event.detail["outcome"] == "not_printed" and event.detail["serial"] == "180926000001"
    assert list(selectors.reconciled_prints(office)) == [reservation]
    again = print_for(resident, stocked_point, operator)
    assert again.blank.serial == "180926000001"


@pytest.mark.parametrize(
    ("outcome", "note", "error", "message"),
    [
        ("hilang", "x", services.StockInvalid, "Pilih hasil cetak"),
        ("", "x", services.StockInvalid, "Pilih hasil cetak"),
        ("spoiled", "   ", services.StockInvalid, "Keterangan wajib"),
        ("not_printed", "", services.StockInvalid, "Keterangan wajib"),
        ("not_printed", "x" * 251, services.StockInvalid, "paling banyak 250"),
    ],
)
def test_reconciliation_with_bad_input_changes_nothing(
    stocked_point, operator, outcome, note, error, message
):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    with pytest.raises(error, match=message):
        services.reconcile_print(
            reservation=reservation, outcome=outcome, note=note, actor=operator
        )
    reservation.refresh_from_db()
    assert reservation.status == "printing"
    assert Blank.objects.get(serial="180926000001").state == Blank.State.PRINTING


def test_reconciliation_is_for_office_staff_of_the_district(make_staff, stocked_point, operator):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    outsider = make_staff(Role.OPERATOR, region="18.01", username="operator-lamsel")
    with pytest.raises(services.CardsError, match="di luar wilayah kerja"):
        services.reconcile_print(
            reservation=reservation, outcome="not_printed", note="x", actor=outsider
        )
    gate = make_staff(Role.GATE_OFFICER)
    with pytest.raises(services.CardsError, match="Hanya operator atau kepala dinas"):
        services.reconcile_print(
            reservation=reservation, outcome="not_printed", note="x", actor=gate
        )
    reservation.refresh_from_db()
    assert reservation.status == "printing"


def test_a_printer_answering_after_reconciliation_is_told_and_audited(stocked_point, operator):
    """A hung printer comes back after the office said "not printed": the card is not
    booked on a blank that is back in stock, and the operator is told what to do."""
    resident = PrrResidentFactory()

    def reconciled_meanwhile(face):
        PrintReservation.objects.filter(status="printing").update(
            reserved_at=timezone.now() - dt.timedelta(minutes=60)
        )
        services.reconcile_print(
            reservation=PrintReservation.objects.get(status="printing"),
            outcome="not_printed",
            note="Printer tidak menjawab",
            actor=operator,
        )

    with pytest.raises(services.PrintSettled, match="catat blangko 180926000001 rusak"):
        print_for(resident, stocked_point, operator, WatchingPrinter(reconciled_meanwhile))
    assert CardPrint.objects.count() == 0
    assert AuditEvent.objects.filter(
        object_type="print_reservation", detail__late_printer_answer="not_printed"
    ).exists()


def test_confirming_twice_returns_the_same_card(stocked_point, operator):
    card = print_for(PrrResidentFactory(), stocked_point, operator)
    again = services.confirm_print(
        reservation=PrintReservation.objects.get(), proof="x", actor=operator
    )
    assert again == card and CardPrint.objects.count() == 1


# Misprints, reprint requests and rationing keep their rules


def test_a_failed_reprint_of_a_misprint_leaves_the_first_card_as_it_was(stocked_point, operator):
    first = print_for(PrrResidentFactory(), stocked_point, operator)
    with pytest.raises(services.PrinterUnavailable):
        services.report_misprint(
            card_print=first, reason="Foto bergeser", printer=FailingPrinter(), operator=operator
        )
    first.refresh_from_db()
    assert first.voided_at is None
    assert Blank.objects.get(serial="180926000001").state == Blank.State.USED
    assert Blank.objects.get(serial="180926000002").state == Blank.State.SPOILED


def test_a_misprint_reprint_cut_off_by_a_crash_is_settled_on_reconciliation(
    stocked_point, operator
):
    resident = PrrResidentFactory()
    first = print_for(resident, stocked_point, operator)
    with pytest.raises(PowerCut):
        services.report_misprint(
            card_print=first, reason="Foto bergeser", printer=DyingPrinter(), operator=operator
        )
    reservation = PrintReservation.objects.get(status="printing")
    assert reservation.replaces == first
    with pytest.raises(services.NotPrintable, match=r"pengganti.*sedang dicetak"):
        services.hand_over(
            card_print=first, received_by_name="Budi", relation="diri_sendiri", operator=operator
        )
    services.reconcile_print(reservation=reservation, outcome="printed", note="", actor=operator)
    first.refresh_from_db()
    assert first.voided_at is not None and first.void_reason == "Foto bergeser"
    assert Blank.objects.get(serial="180926000001").state == Blank.State.SPOILED
    valid = CardPrint.objects.get(voided_at__isnull=True)
    assert valid.blank.serial == "180926000002" and valid.resident == resident


def test_a_reprint_request_cut_off_by_a_crash_stays_open_until_reconciled(stocked_point, operator):
    resident = ResidentFactory(ktp_status=KtpStatus.CARD_ISSUED, recorded_on=dt.date(2015, 1, 1))
    request = services.create_reprint_request(resident=resident, reason="hilang", actor=operator)
    reservation = stopped_print(request, stocked_point, operator)
    request.refresh_from_db()
    assert request.status == ReprintRequest.Status.WAITING
    assert reservation.request == request and reservation.reason == "hilang"
    q = selectors.print_queue(stocked_point.office)
    items, _ = q.items, q.shortage
    assert request not in [i.request for i in items]
    with pytest.raises(services.PrintInProgress):
        print_for(request, stocked_point, operator)
    services.reconcile_print(reservation=reservation, outcome="printed", note="", actor=operator)
    request.refresh_from_db()
    assert request.status == ReprintRequest.Status.PRINTED


def test_a_card_on_the_printer_counts_against_the_daily_allowance(office, stocked_point, operator):
    for _ in range(12):
        PrrResidentFactory()
    assert rationing.shortage(office).daily_allowance == 1
    waiting = list(Resident.objects.filter(ktp_status=KtpStatus.PRINT_READY_RECORD)[:2])
    stopped_print(waiting[0], stocked_point, operator)
    with pytest.raises(services.PrintDeferred, match=r"Jatah cetak hari ini \(1 kartu\)"):
        print_for(waiting[1], stocked_point, operator)


# The journal printer


def test_the_journal_printer_writes_one_line_per_card(settings, tmp_path, stocked_point, operator):
    journal = tmp_path / "jurnal" / "printer.log"
    settings.EKTP_CARD_PRINTER = "ektp.cards.printers.JournalPrinter"
    settings.EKTP_CARD_PRINTER_JOURNAL = journal
    settings.EKTP_CARD_PRINTER_DELAY = 0
    printer = default_printer()
    assert isinstance(printer, JournalPrinter)
    residents = [PrrResidentFactory(), PrrResidentFactory()]
    cards = [print_for(r, stocked_point, operator, printer) for r in residents]
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(line["serial"], line["nik"]) for line in lines] == [
        (c.blank.serial, c.resident.nik) for c in cards
    ]
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert cards[0].proof == f"printer.log#{cards[0].blank.serial}"


def test_the_journal_printer_that_cannot_write_prints_nothing(tmp_path, stocked_point, operator):
    blocked = tmp_path / "berkas"
    blocked.write_text("")
    printer = JournalPrinter(journal=blocked / "printer.log", delay=0)
    with pytest.raises(services.PrinterUnavailable, match="Jurnal printer tidak dapat ditulis"):
        print_for(PrrResidentFactory(), stocked_point, operator, printer)
    assert Blank.objects.get(serial="180926000001").state == Blank.State.IN_STOCK
