"""The office's documents as naskah dinas PDFs: what they say, who may open them."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from ektp.cards import forecast
from ektp.cards import services as cards
from ektp.core.models import Role
from ektp.naskah.models import Letter
from ektp.suket import signing
from tests.cards.factories import PrrResidentFactory
from tests.naskah.pdftext import text_of

KAB = {"kab": "18.09"}


def _signature_block(text: str) -> None:
    assert "Kepala Dinas Kependudukan dan Pencatatan Sipil" in text
    assert "Drs. Sukma Wijaya Pratama, M.Si." in text
    assert "Pembina Utama Muda (IV/c)" in text
    assert "NIP 197003152000031002" in text


def test_request_letter_is_a_numbered_signed_naskah_dinas_with_the_forecast_figures(
    head_client, letterhead, submitted_request, office_keys
):
    response = head_client.get(reverse("naskah:request_letter", args=[submitted_request.pk]), KAB)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = text_of(response.content)
    assert "PEMERINTAH KABUPATEN PESAWARAN" in text
    assert "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL" in text
    assert "Jalan Raya Kedondong Nomor 12" in text and "(0721) 555-0101" in text
    year = timezone.localdate().year
    letter = Letter.objects.get(kind=Letter.Kind.BLANK_REQUEST)
    assert letter.number.startswith("470/0001/Disdukcapil/") and letter.number.endswith(str(year))
    assert f"Nomor : {letter.number}" in text
    assert "Sifat : " in text and "Lampiran : -" in text
    assert "Perihal : Permohonan Blangko KTP-el" in text
    assert "Yth. Direktur Jenderal Kependudukan dan Pencatatan Sipil" in text
    figures = submitted_request.figures
    assert f"sebanyak {submitted_request.quantity} keping" in text
    assert f"Antrean siap cetak (PRR) : {figures['backlog']} orang" in text
    assert f"Stok blangko tersedia : {figures['on_hand']} keping" in text
    assert "Gedong Tataan, " in text
    _signature_block(text)
    assert "∞" not in text
    assert signing.check_pdf_signature(response.content, office_keys.cert).ok


def test_the_letter_figures_are_the_forecast_of_the_day_it_was_drafted(office, supervisor):
    PrrResidentFactory()
    draft = cards.draft_blank_request(office=office, actor=supervisor)
    cover = forecast.office_cover(office)
    assert draft.figures["backlog"] == cover.backlog
    assert draft.quantity == cover.suggested_request


def test_printing_the_letter_again_keeps_its_number(head_client, letterhead, submitted_request):
    url = reverse("naskah:request_letter", args=[submitted_request.pk])
    head_client.get(url, KAB)
    head_client.get(url, KAB)
    assert Letter.objects.count() == 1


def test_a_draft_letter_carries_no_number_yet(head_client, letterhead, office, supervisor):
    PrrResidentFactory()
    draft = cards.draft_blank_request(office=office, actor=supervisor)
    response = head_client.get(reverse("naskah:request_letter", args=[draft.pk]), KAB)
    assert response.status_code == 200
    assert "diberi nomor saat diajukan" in text_of(response.content)
    assert not Letter.objects.exists()


def test_a_letter_without_letterhead_shows_dotted_lines_where_the_head_signs(
    head_client, submitted_request
):
    response = head_client.get(reverse("naskah:request_letter", args=[submitted_request.pk]), KAB)
    text = text_of(response.content)
    assert "PEMERINTAH KABUPATEN PESAWARAN" in text
    assert "NIP ......" in text


def test_the_letter_page_links_to_its_pdf(head_client, submitted_request):
    page = head_client.get(reverse("cards:letter", args=[submitted_request.pk]), KAB)
    assert reverse("naskah:request_letter", args=[submitted_request.pk]) in page.content.decode()


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        (Role.OPERATOR, "18.09", 403),
        (Role.GATE_OFFICER, "18.09", 403),
        (Role.SUPERVISOR, "18.01", 404),
    ],
)
def test_only_the_head_of_that_office_opens_the_letter(
    client, make_staff, submitted_request, role, region, status
):
    client.force_login(make_staff(role, region=region, username=f"u-{role}-{region}"))
    response = client.get(reverse("naskah:request_letter", args=[submitted_request.pk]), KAB)
    assert response.status_code == status
    assert Letter.objects.count() == 1  # the one numbered when the request was submitted


def test_the_province_admin_opens_a_district_letter(client, make_staff, submitted_request):
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="18", username="admin-lampung"))
    response = client.get(reverse("naskah:request_letter", args=[submitted_request.pk]), KAB)
    assert response.status_code == 200


# ---------------------------------------------------------------- hand-over receipt


def test_after_a_hand_over_the_queue_links_to_its_receipt(operator_client, handed_card):
    page = operator_client.get(reverse("cards:queue"), KAB).content.decode()
    assert "Diserahkan hari ini" in page
    assert reverse("naskah:receipt", args=[handed_card.pk]) in page


def test_the_receipt_names_the_card_the_receiver_and_the_head(
    operator_client, letterhead, handed_card, office_keys
):
    response = operator_client.get(reverse("naskah:receipt", args=[handed_card.pk]), KAB)
    assert response.status_code == 200
    text = text_of(response.content)
    letter = Letter.objects.get(kind=Letter.Kind.HANDOVER_RECEIPT)
    assert "TANDA TERIMA KTP-el" in text
    assert f"Nomor: {letter.number}" in text
    assert handed_card.resident.nik in text and handed_card.resident.name in text
    assert handed_card.blank.serial in text
    assert "Rini Astuti (Yang bersangkutan)" in text
    assert "Yang menerima," in text and "Yang menyerahkan," in text
    _signature_block(text)
    assert signing.check_pdf_signature(response.content, office_keys.cert).ok
    again = operator_client.get(reverse("naskah:receipt", args=[handed_card.pk]), KAB)
    assert letter.number in text_of(again.content)
    assert Letter.objects.count() == 1


def test_a_card_not_yet_handed_over_has_no_receipt(operator_client, printed_card):
    response = operator_client.get(reverse("naskah:receipt", args=[printed_card.pk]), KAB)
    assert response.status_code == 404
    assert not Letter.objects.exists()


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        (Role.GATE_OFFICER, "18.09", 403),
        (Role.OPERATOR, "18.01", 404),
        (Role.PROVINCE_ADMIN, "18", 403),
    ],
)
def test_only_printing_staff_of_that_office_print_the_receipt(
    client, make_staff, handed_card, role, region, status
):
    client.force_login(make_staff(role, region=region, username=f"u-{role}-{region}"))
    response = client.get(reverse("naskah:receipt", args=[handed_card.pk]), KAB)
    assert response.status_code == status


# ---------------------------------------------------------------- rekap harian


def test_the_daily_report_counts_the_day_per_point(head_client, letterhead, handed_card):
    page = head_client.get(reverse("naskah:daily"), KAB)
    assert page.status_code == 200
    report = page.context["report"]
    upt = next(r for r in report.rows if r.place == "UPT Gedong Tataan")
    store = next(r for r in report.rows if r.place == "Gudang kantor")
    assert (upt.prints, upt.hand_overs, upt.blanks_used, upt.blanks_left) == (1, 1, 1, 4)
    assert (store.prints, store.blanks_left) == (0, 5)
    assert (report.total.prints, report.total.blanks_left) == (1, 9)


def test_the_daily_report_prints_as_a_pdf_with_kop_and_figures(
    head_client, letterhead, handed_card
):
    response = head_client.get(reverse("naskah:daily"), {**KAB, "format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    text = text_of(response.content)
    assert "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL" in text
    assert "LAPORAN REKAPITULASI HARIAN LAYANAN KTP-el" in text
    assert "UPT Gedong Tataan" in text and "Gudang kantor" in text and "Jumlah" in text
    assert "Penunggalan" in text and "Blangko" in text and "Sisa" in text
    assert "Suket diterbitkan: 0" in text
    _signature_block(text)


def test_the_daily_report_opens_in_a_spreadsheet_with_the_figures(
    head_client, letterhead, handed_card
):
    response = head_client.get(reverse("naskah:daily"), {**KAB, "format": "xlsx"})
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    header = list(rows["Titik layanan"])
    upt = dict(zip(header, rows["UPT Gedong Tataan"], strict=True))
    total = dict(zip(header, rows["Jumlah"], strict=True))
    assert upt["KTP-el dicetak"] == 1 and upt["KTP-el diserahkan"] == 1
    assert upt["Blangko terpakai"] == 1 and upt["Sisa blangko"] == 4
    assert total["Sisa blangko"] == 9
    assert rows["Suket diterbitkan"][0] == 0


@pytest.mark.parametrize("day", ["2999-01-01", "31-02-2026", "kemarin"])
def test_a_bad_day_shows_the_form_again_and_no_file(head_client, office, day):
    response = head_client.get(reverse("naskah:daily"), {**KAB, "tanggal": day, "format": "pdf"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        (Role.OPERATOR, "18.09", 403),
        (Role.GATE_OFFICER, "18.09", 403),
        (Role.SUPERVISOR, "18.01", 404),
    ],
)
def test_only_the_head_of_that_office_reads_its_daily_report(
    client, make_staff, office, role, region, status
):
    client.force_login(make_staff(role, region=region, username=f"u-{role}-{region}"))
    response = client.get(reverse("naskah:daily"), {**KAB, "format": "xlsx"})
    assert response.status_code == status


def _within_page(pdf: bytes, page_width: float) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from tests.naskah.pdftext import runs

    for text, x, _, size in runs(pdf):
        right = x + stringWidth(text.strip(), "Helvetica", size)
        assert x >= 0 and right <= page_width - 40, f"{text!r} runs past the margin"


def test_a_long_address_wraps_inside_the_receipt(operator_client, letterhead, handed_card):
    from reportlab.lib.pagesizes import A4

    resident = handed_card.resident
    resident.street = (
        "Jalan Lintas Barat Sumatera Kilometer 27 Gang Melati Indah Nomor 118 Blok C " * 2
    )
    resident.save(update_fields=["street"])
    pdf = operator_client.get(reverse("naskah:receipt", args=[handed_card.pk]), KAB).content
    _within_page(pdf, A4[0])
    assert "Kilometer 27" in text_of(pdf)


def test_the_daily_report_counts_recordings_and_penunggalan_results(office, operator):
    from ektp.enrollment.services import complete_penunggalan, send_for_penunggalan
    from ektp.naskah.daily import daily_report
    from ektp.residents.models import KtpStatus
    from tests.enrollment.factories import open_point, record
    from tests.residents.factories import ResidentFactory

    point, kit = open_point(office=office, name="Kantor Dinas Gedong Tataan")
    outcomes = [KtpStatus.PRINT_READY_RECORD, KtpStatus.DUPLICATE_RECORD]
    for outcome in [*outcomes, None]:
        resident = ResidentFactory()
        enrollment = record(operator, resident=resident, point=point, kit=kit)
        if outcome is None:
            continue
        send_for_penunggalan(resident=resident, actor=operator)
        resident.refresh_from_db()
        if resident.ktp_status == KtpStatus.SENT_FOR_ENROLLMENT:
            complete_penunggalan(enrollment=enrollment, outcome=outcome, actor=None, reason="Uji")
    report = daily_report(office, timezone.localdate())
    row = next(r for r in report.rows if r.place == "Kantor Dinas Gedong Tataan")
    assert row.recordings == 3
    assert row.prr + row.duplicates + row.failures == 2
    assert report.total.recordings == 3
