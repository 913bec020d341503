"""Two operators, one last blank: exactly one card (PostgreSQL, real connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ektp.cards import services
from ektp.cards.models import Blank, CardPrint, LedgerEntry, PrintReservation
from ektp.cards.printers import PdfProofPrinter
from ektp.residents.models import KtpStatus
from tests.cards.factories import PrrResidentFactory
from tests.threads import run_in_threads


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operators_one_last_blank_print_exactly_one_card(
    office, point, supervisor, operator, receive
):
    receive("180926000001", "180926000001")
    services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=1, actor=supervisor
    )
    residents = [PrrResidentFactory(), PrrResidentFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def work(resident):
        try:
            barrier.wait(timeout=10)
            card = services.print_card(
                request_or_resident=resident,
                service_point=point,
                printer=PdfProofPrinter(),
                operator=operator,
            )
            outcomes.append(card.pk)
        except services.NoBlankInStock as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(r,)) for r in residents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    refusals = [o for o in outcomes if isinstance(o, services.NoBlankInStock)]
    assert len(outcomes) == 2 and len(refusals) == 1
    assert "Tidak ada blangko tersedia di UPT Gedong Tataan" in str(refusals[0])
    assert CardPrint.objects.count() == 1
    assert Blank.objects.get().state == Blank.State.USED
    assert LedgerEntry.objects.filter(kind="consumption").count() == 1
    statuses = sorted(type(r).objects.get(pk=r.pk).ktp_status for r in residents)
    assert statuses == [KtpStatus.CARD_PRINTED, KtpStatus.PRINT_READY_RECORD]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_operators_never_use_a_serial_twice(office, point, supervisor, operator, receive):
    receive("180926000001", "180926000040")
    services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=20, actor=supervisor
    )
    residents = [PrrResidentFactory() for _ in range(24)]
    barrier = threading.Barrier(4)
    refused: list[Exception] = []

    def work(batch):
        try:
            barrier.wait(timeout=10)
            for resident in batch:
                try:
                    services.print_card(
                        request_or_resident=resident,
                        service_point=point,
                        printer=PdfProofPrinter(),
                        operator=operator,
                    )
                except services.NoBlankInStock as exc:
                    refused.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(residents[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert CardPrint.objects.count() == 20
    assert len(refused) == 4
    assert Blank.objects.filter(service_point=point, state=Blank.State.IN_STOCK).count() == 0
    assert CardPrint.objects.values("blank").distinct().count() == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_operators_at_once_never_print_beyond_the_daily_allowance(office, stocked_point, operator):
    """Under shortage the day's allowance is one card: four operators try at the same moment,
    one prints and three are told the allowance is used up."""
    from ektp.cards import rationing

    residents = [PrrResidentFactory() for _ in range(12)]
    assert rationing.shortage(office).daily_allowance == 1
    waiting = residents[:4]

    def work():
        services.print_card(
            request_or_resident=waiting.pop(),
            service_point=stocked_point,
            printer=PdfProofPrinter(),
            operator=operator,
        )

    refused = run_in_threads(work, 4)
    assert [type(e) for e in refused] == [services.PrintDeferred] * 3
    assert all("Jatah cetak hari ini (1 kartu) sudah habis" in str(e) for e in refused)
    assert CardPrint.objects.count() == 1
    assert Blank.objects.filter(state=Blank.State.USED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operators_reserving_for_the_same_resident_print_one_card(
    office, stocked_point, make_staff
):
    """Two operators press Cetak for the same resident at once: one blank is reserved and
    printed; the other is told the card is on the printer, and no blank leaves stock for it."""
    operators = [make_staff(username="operator-satu"), make_staff(username="operator-dua")]
    resident = PrrResidentFactory()
    printed: list[str] = []
    attempt_over = threading.Event()

    class SlowPrinter:
        """Holds the card until the other operator's attempt has ended (or 20 s pass)."""

        def print_card(self, face):
            attempt_over.wait(timeout=20)
            printed.append(face.serial)
            return PdfProofPrinter().print_card(face)

    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def work(operator):
        try:
            barrier.wait(timeout=10)
            outcomes.append(
                services.print_card(
                    request_or_resident=resident,
                    service_point=stocked_point,
                    printer=SlowPrinter(),
                    operator=operator,
                )
            )
        except services.CardsError as exc:
            outcomes.append(exc)
            attempt_over.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(op,)) for op in operators]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(refused) == 1
    assert isinstance(refused[0], services.PrintInProgress)
    assert "sedang dicetak pada blangko 180926000001" in str(refused[0])
    assert printed == ["180926000001"]
    assert PrintReservation.objects.get().status == "printed"
    assert CardPrint.objects.get().blank.serial == "180926000001"
    assert Blank.objects.filter(state=Blank.State.IN_STOCK).count() == 9
    assert Blank.objects.filter(state=Blank.State.PRINTING).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_operators_reserving_at_once_never_share_a_blank(office, stocked_point, operator):
    """Four operators reserve at once while every printer is still busy: four blanks, four
    reservations, each blank on one printer only."""
    residents = [PrrResidentFactory() for _ in range(4)]
    on_printer: list[str] = []
    all_reserved = threading.Barrier(4)

    class BusyPrinter:
        def print_card(self, face):
            on_printer.append(face.serial)
            all_reserved.wait(timeout=20)  # every reservation is committed before any confirm
            return ""

    def work():
        services.print_card(
            request_or_resident=residents.pop(),
            service_point=stocked_point,
            printer=BusyPrinter(),
            operator=operator,
        )

    assert run_in_threads(work, 4) == []
    assert sorted(on_printer) == [f"18092600000{i}" for i in range(1, 5)]
    assert PrintReservation.objects.filter(status="printed").count() == 4
    assert CardPrint.objects.values("blank").distinct().count() == 4
