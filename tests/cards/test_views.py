"""Staff pages: queue, print, hand-over, stock forms, cover; bad input never changes data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.cards import services
from ektp.cards.models import (
    Blank,
    BlankRequest,
    CardPrint,
    LedgerEntry,
    LedgerLine,
    PrintReservation,
)
from ektp.core.models import Role
from ektp.residents.models import KtpStatus
from tests.cards.factories import PrrResidentFactory, stopped_print


def snapshot():
    return (
        LedgerEntry.objects.count(),
        LedgerLine.objects.count(),
        CardPrint.objects.count(),
        sorted(Blank.objects.values_list("serial", "state", "service_point_id")),
    )


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def test_queue_page_lists_prr_residents_with_a_print_button(operator_client, stocked_point):
    resident = PrrResidentFactory()
    response = operator_client.get(reverse("cards:queue"), {"titik": stocked_point.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert resident.name in body and 'name="nik"' in body and "Cetak" in body


def test_queue_page_with_a_malformed_point_shows_the_whole_office(operator_client, office):
    response = operator_client.get(reverse("cards:queue"), {"titik": "bukan-uuid"})
    assert response.status_code == 200


def test_print_then_hand_over_through_the_pages(operator_client, stocked_point):
    resident = PrrResidentFactory()
    response = operator_client.post(
        reverse("cards:print"), {"point": stocked_point.pk, "nik": resident.nik, "kab": "18.09"}
    )
    assert response.status_code == 302
    card = CardPrint.objects.get()
    assert card.blank.serial == "180926000001"
    page = operator_client.get(reverse("cards:queue"))
    assert "180926000001" in page.content.decode()
    response = operator_client.post(
        reverse("cards:hand_over", args=[card.pk]),
        {"received_by_name": "Budi", "relation": "diri_sendiri"},
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.CARD_ISSUED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"point": "x", "nik": "1809011001950006"}, "Titik layanan tidak sah"),
        ({"nik": "123"}, "NIK harus 16 digit (yang diisi 3 karakter)."),
        ({"nik": "18٠٩011001950006"}, "NIK hanya boleh berisi angka 0–9."),
        ({}, "Pilih satu penduduk"),
        ({"nik": "1809011001950006", "serial": "12ab"}, "6–20 angka"),
        ({"nik": "9999999999999999"}, "tidak ditemukan"),
    ],
)
def test_print_with_bad_input_says_why_and_prints_nothing(
    operator_client, stocked_point, data, message
):
    data.setdefault("point", str(stocked_point.pk))
    before = snapshot()
    response = operator_client.post(reverse("cards:print"), data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before


def test_print_with_no_blank_shows_the_reason(operator_client, point):
    resident = PrrResidentFactory()
    response = operator_client.post(
        reverse("cards:print"), {"point": point.pk, "nik": resident.nik}, follow=True
    )
    assert "Tidak ada blangko tersedia" in response.content.decode()


def test_hand_over_with_bad_input_is_refused(operator_client, stocked_point, operator, printer):
    card = services.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    response = operator_client.post(
        reverse("cards:hand_over", args=[card.pk]),
        {"received_by_name": "", "relation": "tetangga"},
        follow=True,
    )
    body = response.content.decode()
    assert "Nama penerima" in body
    card.refresh_from_db()
    assert card.handed_over_at is None


def test_misprint_page_voids_and_reprints(operator_client, stocked_point, operator, printer):
    card = services.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=printer,
        operator=operator,
    )
    operator_client.post(reverse("cards:misprint", args=[card.pk]), {"reason": "Tinta luntur"})
    assert Blank.objects.get(serial="180926000001").state == Blank.State.SPOILED
    assert CardPrint.objects.filter(voided_at__isnull=True).get().blank.serial == "180926000002"
    before = snapshot()
    response = operator_client.post(
        reverse("cards:misprint", args=[card.pk]), {"reason": ""}, follow=True
    )
    assert "Alasan salah cetak: Bidang ini tidak boleh kosong" in response.content.decode()
    assert snapshot() == before


def test_reprint_request_form(operator_client, stocked_point):
    resident = PrrResidentFactory(ktp_status=KtpStatus.CARD_ISSUED)
    operator_client.post(
        reverse("cards:reprint_request"), {"nik": resident.nik, "reason": "hilang"}
    )
    assert resident.reprint_requests.count() == 1
    response = operator_client.post(
        reverse("cards:reprint_request"), {"nik": resident.nik, "reason": "baru"}, follow=True
    )
    assert "Alasan cetak ulang tidak dikenal" in response.content.decode()


def test_stock_page_shows_locations_and_ledger(supervisor_client, stocked_point):
    response = supervisor_client.get(reverse("cards:stock"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "UPT Gedong Tataan" in body and "180926000001–180926000005" in body


def test_receive_form_records_a_receipt(supervisor_client, office):
    response = supervisor_client.post(
        reverse("cards:receive"),
        {
            "serial_first": "180926000001",
            "serial_last": "180926000050",
            "source": "ministry",
            "reference": "B-9",
        },
    )
    assert response.status_code == 302
    assert Blank.objects.count() == 50


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"serial_first": "abc", "serial_last": "180926000050"}, "6–20 angka"),
        ({"serial_first": "180926000050", "serial_last": "180926000001"}, "lebih kecil"),
        ({"source": "pasar"}, "Kemendagri atau provinsi"),
        ({"reference": ""}, "Nomor surat/pengiriman"),
        ({"serial_first": "180926000005", "serial_last": "180926000007"}, "tumpang tindih"),
        ({"request": "bukan"}, "Permohonan tidak dikenal"),
    ],
)
def test_receive_form_with_bad_input_says_why(supervisor_client, office, receive, data, message):
    receive()
    before = snapshot()
    form = {
        "serial_first": "180926000101",
        "serial_last": "180926000150",
        "source": "ministry",
        "reference": "B-9",
        **data,
    }
    response = supervisor_client.post(reverse("cards:receive"), form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quantity": "11"}, "hanya 10 blangko"),
        ({"quantity": "-1"}, "minimal 1"),
        ({"quantity": "dua"}, "bilangan bulat"),
        ({"quantity": ""}, "Isi jumlah atau nomor seri"),
        ({"to_place": "bukan"}, "Lokasi tidak dikenal"),
        ({"to_place": ""}, "sama"),
        ({"quantity": "", "serials": "180926099999"}, "tidak tersedia"),
    ],
)
def test_transfer_form_with_bad_input_says_why(
    supervisor_client, office, point, receive, data, message
):
    receive()
    before = snapshot()
    form = {"from_place": "", "to_place": str(point.pk), "quantity": "3", **data}
    response = supervisor_client.post(reverse("cards:transfer"), form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot() == before


def test_transfer_form_moves_blanks(supervisor_client, office, point, receive):
    receive()
    supervisor_client.post(
        reverse("cards:transfer"), {"from_place": "", "to_place": str(point.pk), "quantity": "4"}
    )
    assert Blank.objects.filter(service_point=point).count() == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"serial": "180926000099"}, "tidak ada dalam stok"),
        ({"cause": "hilang"}, "salah cetak atau rusak fisik"),
        ({"reason": ""}, "Alasan"),
    ],
)
def test_spoil_form_with_bad_input_says_why(supervisor_client, office, receive, data, message):
    receive()
    before = snapshot()
    form = {"serial": "180926000001", "cause": "damaged", "reason": "retak", **data}
    response = supervisor_client.post(reverse("cards:spoil"), form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot() == before


def test_count_form_reports_the_discrepancy(supervisor_client, office, receive):
    receive()
    response = supervisor_client.post(
        reverse("cards:count"), {"place": "", "counted": "8"}, follow=True
    )
    assert "selisih -2" in response.content.decode()
    before = snapshot()
    response = supervisor_client.post(reverse("cards:count"), {"place": "", "counted": "-3"})
    assert response.status_code == 422 and "minimal 0" in response.content.decode()
    assert snapshot() == before


def test_cover_page_shows_the_alert_and_the_head_submits_the_draft(
    supervisor_client, client, office, operator
):
    PrrResidentFactory()
    response = supervisor_client.get(reverse("cards:cover"))
    assert "Peringatan" in response.content.decode()
    supervisor_client.post(reverse("cards:draft_request"))
    draft = BlankRequest.objects.get()
    client.force_login(operator)
    client.post(reverse("cards:submit_request", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == BlankRequest.Status.DRAFT
    supervisor_client.force_login(draft.created_by)
    supervisor_client.post(reverse("cards:submit_request", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == BlankRequest.Status.SUBMITTED
    letter = supervisor_client.get(reverse("cards:letter", args=[draft.pk]))
    assert "mengajukan permohonan" in letter.content.decode()


def test_gate_officer_cannot_print(client, make_staff, stocked_point):
    client.force_login(make_staff(Role.GATE_OFFICER))
    resident = PrrResidentFactory()
    response = client.post(reverse("cards:print"), {"point": stocked_point.pk, "nik": resident.nik})
    assert response.status_code == 403
    assert CardPrint.objects.count() == 0


def test_staff_of_another_district_sees_no_office(client, make_staff, office):
    client.force_login(make_staff(Role.SUPERVISOR, region="18.01", username="kadis-lamsel"))
    assert client.get(reverse("cards:stock"), {"kab": "18.09"}).status_code == 404


def test_province_page_lists_its_districts(client, make_staff, office, receive):
    receive()
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="18", username="admin-lampung"))
    response = client.get(reverse("cards:province"))
    assert office.name in response.content.decode()
    stock = client.get(reverse("cards:stock"), {"kab": "18.09"})
    assert stock.status_code == 200


def test_a_stopped_print_is_flagged_on_the_queue_and_settled_on_the_reconciliation_page(
    operator_client, stocked_point, operator
):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    queue = operator_client.get(reverse("cards:queue")).content.decode()
    assert "1 blangko sedang dicetak atau menunggu konfirmasi" in queue
    assert reverse("cards:reconcile") in queue
    page = operator_client.get(reverse("cards:reconcile"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "180926000001" in body and resident.name in body
    assert reverse("cards:reconcile_print", args=[reservation.pk]) in body
    assert "Tidak tercetak (blangko utuh, kembali ke stok)" in body
    response = operator_client.post(
        reverse("cards:reconcile_print", args=[reservation.pk]),
        {"kab": "18.09", "outcome": "printed", "note": ""},
        follow=True,
    )
    body = response.content.decode()
    assert f"Kartu {resident.name} dicatat tercetak pada blangko 180926000001" in body
    assert "Belum ada cetakan yang direkonsiliasi" not in body
    assert CardPrint.objects.get().blank.serial == "180926000001"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "hilang"}, "Pilih hasil cetak"),
        ({}, "Pilih hasil cetak"),
        ({"outcome": "spoiled", "note": ""}, "Keterangan wajib"),
        ({"outcome": "not_printed", "note": "x" * 251}, "paling banyak 250"),
    ],
)
def test_reconciliation_with_bad_input_says_why_and_changes_nothing(
    operator_client, stocked_point, operator, data, message
):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    before = snapshot()
    response = operator_client.post(
        reverse("cards:reconcile_print", args=[reservation.pk]), data, follow=True
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before
    reservation.refresh_from_db()
    assert reservation.status == "printing"


def test_reconciliation_page_is_for_the_office_staff_of_the_district(
    client, make_staff, stocked_point, operator
):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    url = reverse("cards:reconcile_print", args=[reservation.pk])
    client.force_login(make_staff(Role.GATE_OFFICER))
    assert client.get(reverse("cards:reconcile")).status_code == 403
    assert client.post(url, {"outcome": "not_printed", "note": "x"}).status_code == 403
    client.force_login(make_staff(Role.OPERATOR, region="18.01", username="operator-lamsel"))
    assert client.get(reverse("cards:reconcile"), {"kab": "18.09"}).status_code == 404
    response = client.post(url, {"kab": "18.01", "outcome": "not_printed", "note": "x"})
    assert response.status_code == 404
    assert PrintReservation.objects.get().status == "printing"


def test_reconciliation_page_with_nothing_open_leads_back_to_the_queue(operator_client, office):
    body = operator_client.get(reverse("cards:reconcile")).content.decode()
    assert "Tidak ada blangko yang sedang dicetak" in body
    assert reverse("cards:queue") in body
