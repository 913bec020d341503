"""The blank stock is a ledger of serials: receipts, transfers, spoilage, returns, loans, counts."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from ektp.cards import selectors, services
from ektp.cards.models import Blank, LedgerEntry, LedgerLine
from ektp.core.models import Role
from ektp.offices.models import Office
from tests.cards.factories import ServicePointFactory
from tests.residents.factories import ResidentFactory


def ledger_snapshot():
    return (
        LedgerEntry.objects.count(),
        LedgerLine.objects.count(),
        sorted(Blank.objects.values_list("serial", "state", "service_point_id")),
    )


def test_receipt_creates_one_blank_per_serial_in_the_store(office, receive):
    entry = receive("180926000001", "180926000100")
    assert entry.quantity == 100
    assert (entry.serial_first, entry.serial_last) == ("180926000001", "180926000100")
    assert selectors.on_hand(office) == 100
    assert entry.lines.count() == 100
    assert entry.node == "office"


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("18092600001A", "180926000010", "angka"),
        ("12345", "12345", "angka"),
        ("180926000010", "180926000001", "lebih kecil"),
        ("18092600001", "180926000010", "sama panjang"),
        ("100000000000", "100000200000", "paling banyak"),
    ],
)
def test_receipt_with_a_bad_range_is_refused(receive, first, last, message):
    with pytest.raises(services.StockInvalid, match=message):
        receive(first, last)
    assert Blank.objects.count() == 0


def test_receipt_overlapping_an_earlier_range_is_refused_and_changes_nothing(receive):
    receive("180926000001", "180926000010")
    before = ledger_snapshot()
    with pytest.raises(services.StockInvalid, match=r"tumpang tindih.*180926000010"):
        receive("180926000010", "180926000020", reference="B-002")
    assert ledger_snapshot() == before


def test_receipt_needs_a_source_and_a_reference(receive):
    with pytest.raises(services.StockInvalid, match="Sumber"):
        receive(source="pasar")
    with pytest.raises(services.StockInvalid, match="referensi"):
        receive(reference="  ")
    assert Blank.objects.count() == 0


def test_serial_is_unique_in_the_database(office, receive):
    receive()
    with pytest.raises(IntegrityError), transaction.atomic():
        Blank.objects.create(serial="180926000001", office=office)


def test_a_blank_cannot_be_lent_out_while_at_a_point(stocked_point):
    blank = Blank.objects.filter(service_point=stocked_point).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Blank.objects.filter(pk=blank.pk).update(state="lent_out")


def test_a_blank_state_outside_the_list_is_refused_by_the_database(office, receive):
    receive()
    with pytest.raises(IntegrityError), transaction.atomic():
        Blank.objects.filter(serial="180926000001").update(state="hilang")


def test_transfer_moves_the_lowest_serials_and_on_hand_follows(office, point, supervisor, receive):
    receive()
    entry = services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=3, actor=supervisor
    )
    assert (entry.serial_first, entry.serial_last) == ("180926000001", "180926000003")
    assert selectors.on_hand(office, point) == 3
    assert selectors.on_hand(office) == 7
    rows = {r.place: r.in_stock for r in selectors.stock_by_location(office)}
    assert rows == {"Gudang kantor": 7, point.name: 3}


def test_transfer_of_more_than_on_hand_is_refused_and_ledger_unchanged(
    office, point, supervisor, receive
):
    receive()
    before = ledger_snapshot()
    with pytest.raises(services.StockInvalid, match="hanya 10 blangko"):
        services.transfer_blanks(
            office=office, from_point=None, to_point=point, quantity=11, actor=supervisor
        )
    assert ledger_snapshot() == before


def test_transfer_of_a_blank_not_at_the_source_is_refused(office, stocked_point, supervisor):
    other = ServicePointFactory(office=office, code="UPT002", name="UPT Padang Cermin")
    before = ledger_snapshot()
    with pytest.raises(services.BlankUnavailable, match="180926000009 tidak tersedia"):
        services.transfer_blanks(
            office=office,
            from_point=stocked_point,
            to_point=other,
            serials=["180926000001", "180926000009"],
            actor=supervisor,
        )
    assert ledger_snapshot() == before


def test_point_to_point_transfer_by_serial(office, stocked_point, supervisor):
    other = ServicePointFactory(office=office, code="UPT002", name="UPT Padang Cermin")
    services.transfer_blanks(
        office=office,
        from_point=stocked_point,
        to_point=other,
        serials=["180926000002"],
        actor=supervisor,
    )
    assert Blank.objects.get(serial="180926000002").service_point == other


def test_transfer_to_the_same_place_or_another_office_point_is_refused(
    office, point, supervisor, receive
):
    receive()
    with pytest.raises(services.StockInvalid, match="sama"):
        services.transfer_blanks(
            office=office, from_point=None, to_point=None, quantity=1, actor=supervisor
        )
    lampung_selatan = Office.objects.create(region_id="18.01", name="Disdukcapil Lampung Selatan")
    foreign = ServicePointFactory(office=lampung_selatan, code="X1", region_id="18.01.04")
    with pytest.raises(services.StockInvalid, match="bukan milik"):
        services.transfer_blanks(
            office=office, from_point=None, to_point=foreign, quantity=1, actor=supervisor
        )
    with pytest.raises(services.StockInvalid, match="minimal 1"):
        services.transfer_blanks(
            office=office, from_point=None, to_point=point, quantity=0, actor=supervisor
        )


def test_staff_of_another_district_cannot_move_this_stock(office, point, make_staff, receive):
    receive()
    outsider = make_staff(Role.SUPERVISOR, region="18.01", username="kadis-lamsel")
    with pytest.raises(services.CardsError, match="di luar wilayah kerja"):
        services.transfer_blanks(
            office=office, from_point=None, to_point=point, quantity=1, actor=outsider
        )


def test_spoilage_voids_the_blank_with_its_reason(office, stocked_point, supervisor):
    entry = services.spoil_blank(
        office=office, serial="180926000003", cause="damaged", reason="Chip retak", actor=supervisor
    )
    assert entry.reason == "Chip retak" and entry.from_point == stocked_point
    assert Blank.objects.get(serial="180926000003").state == Blank.State.SPOILED
    assert selectors.on_hand(office, stocked_point) == 4
    with pytest.raises(services.BlankUnavailable):
        services.spoil_blank(
            office=office, serial="180926000003", cause="damaged", reason="lagi", actor=supervisor
        )
    with pytest.raises(services.StockInvalid, match="Alasan"):
        services.spoil_blank(
            office=office, serial="180926000004", cause="damaged", reason=" ", actor=supervisor
        )


def test_returned_old_card_is_voided_and_kept(office, supervisor):
    resident = ResidentFactory(ktp_status="CARD_ISSUED", recorded_on="2015-01-01")
    entry = services.return_old_card(
        office=office, serial="180912345678", resident=resident, actor=supervisor
    )
    assert entry.kind == LedgerEntry.Kind.RETURN_VOID
    blank = Blank.objects.get(serial="180912345678")
    assert blank.state == Blank.State.VOIDED_RETURN
    assert selectors.on_hand(office) == 0


def test_returning_a_blank_still_in_stock_is_refused(office, receive, supervisor):
    receive()
    resident = ResidentFactory(ktp_status="CARD_ISSUED", recorded_on="2015-01-01")
    with pytest.raises(services.StockInvalid, match="bukan kartu yang pernah dicetak"):
        services.return_old_card(
            office=office, serial="180926000001", resident=resident, actor=supervisor
        )


def test_loan_between_districts_goes_through_the_province(office, receive, make_staff):
    receive()
    borrower = Office.objects.create(region_id="18.01", name="Disdukcapil Lampung Selatan")
    province = make_staff(Role.PROVINCE_ADMIN, region="18", username="admin-lampung")
    out = services.lend_blanks(
        from_office=office, to_office=borrower, quantity=4, reference="P-7/2026", actor=province
    )
    assert Blank.objects.filter(state=Blank.State.LENT_OUT).count() == 4
    assert selectors.on_hand(office) == 6
    assert list(selectors.pending_loans(borrower)) == [out]
    services.receive_loan(loan_out=out, actor=province)
    assert selectors.on_hand(borrower) == 4
    assert selectors.pending_loans(borrower).count() == 0
    with pytest.raises(services.StockInvalid, match="sudah diterima"):
        services.receive_loan(loan_out=out, actor=province)


def test_only_the_province_lends_and_never_more_than_on_hand(
    office, receive, supervisor, make_staff
):
    receive()
    borrower = Office.objects.create(region_id="18.01", name="Disdukcapil Lampung Selatan")
    with pytest.raises(services.CardsError, match="admin provinsi"):
        services.lend_blanks(
            from_office=office, to_office=borrower, quantity=1, reference="x", actor=supervisor
        )
    province = make_staff(Role.PROVINCE_ADMIN, region="18", username="admin-lampung")
    with pytest.raises(services.StockInvalid, match="tidak cukup"):
        services.lend_blanks(
            from_office=office, to_office=borrower, quantity=11, reference="x", actor=province
        )


def test_stock_count_records_the_discrepancy_without_booking_it(office, stocked_point, supervisor):
    entry = services.record_stock_count(
        office=office, service_point=stocked_point, counted=4, actor=supervisor, note="opname"
    )
    assert (entry.expected, entry.counted, entry.discrepancy) == (5, 4, -1)
    assert selectors.on_hand(office, stocked_point) == 5
    with pytest.raises(services.StockInvalid, match="0 atau lebih"):
        services.record_stock_count(
            office=office, service_point=stocked_point, counted=-1, actor=supervisor
        )


def test_demo_stock_is_realistic_and_idempotent(office, point):
    services.ensure_demo_stock(office)
    services.ensure_demo_stock(office)
    assert Blank.objects.count() == 3000
    assert selectors.on_hand(office, point) == 300
    assert LedgerEntry.objects.filter(kind="receipt").count() == 1
