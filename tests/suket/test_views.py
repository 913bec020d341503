"""Staff pages (issue, list, revoke, PDF, outstanding) and the public verification page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.suket import signing
from ektp.suket.models import Suket
from ektp.suket.services import issue_suket, revoke_suket, void_suket_for
from tests.suket.conftest import at
from tests.suket.factories import PrrResidentFactory, RecordedResidentFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 25)


@pytest.fixture
def suket(office, operator):
    resident = RecordedResidentFactory(
        name="SITI RAHAYU", nik="1809014501950001", birth_date=dt.date(1995, 1, 5)
    )
    return issue_suket(resident=resident, office=office, officer=operator)


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def verify_path(suket: Suket) -> str:
    return reverse("verify:verify", args=[suket.number])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Staff pages


def test_operator_issues_a_suket_from_the_list_page(operator_client, office):
    resident = RecordedResidentFactory()
    page = operator_client.get(reverse("suket:list"))
    assert page.status_code == 200
    assert "Aturan bawaan" in page.content.decode()
    response = operator_client.post(
        reverse("suket:issue"), {"nik": resident.nik, "purpose": ""}, follow=True
    )
    suket = Suket.objects.get()
    assert response.redirect_chain[-1][0] == reverse("suket:detail", args=[suket.pk])
    assert f"Suket {suket.number} diterbitkan" in messages_of(response)[0]


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("", "NIK: NIK wajib diisi."),
        ("12345", "NIK: NIK harus 16 digit (yang diisi 5 karakter)."),
        ("18090145019500x1", "NIK: NIK hanya boleh berisi angka 0–9."),
        ("18０９014501959999", "NIK: NIK hanya boleh berisi angka 0–9."),
        ("1809014501959999", "NIK tidak ditemukan di wilayah kerja Anda."),
    ],
)
def test_issue_form_with_bad_nik_issues_nothing(operator_client, office, nik, message):
    response = operator_client.post(reverse("suket:issue"), {"nik": nik}, follow=True)
    assert messages_of(response) == [message]
    assert not Suket.objects.exists()


def test_issue_page_says_why_a_prr_record_is_refused(operator_client, stock):
    resident = PrrResidentFactory()
    response = operator_client.post(reverse("suket:issue"), {"nik": resident.nik}, follow=True)
    assert messages_of(response) == [
        "Suket tidak diterbitkan: Rekaman sudah PRR dan masih ada 120 blangko: cetak KTP-el."
    ]
    assert not Suket.objects.exists()


def test_gate_officer_cannot_issue(client, make_staff, office):
    client.force_login(make_staff(Role.GATE_OFFICER))
    response = client.post(reverse("suket:issue"), {"nik": RecordedResidentFactory().nik})
    assert response.status_code == 403
    assert not Suket.objects.exists()


def test_issue_needs_login(client, office):
    response = client.post(reverse("suket:issue"), {"nik": "1809014501950001"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))


def test_list_and_detail_show_the_suket(operator_client, suket):
    listing = operator_client.get(reverse("suket:list") + "?status=valid").content.decode()
    assert suket.number in listing
    detail = operator_client.get(reverse("suket:detail", args=[suket.pk])).content.decode()
    assert suket.nik in detail and "Berlaku" in detail


def test_list_with_an_unknown_status_lists_everything(operator_client, suket):
    response = operator_client.get(reverse("suket:list") + "?status=xyz&hal=abc")
    assert response.status_code == 200


def test_supervisor_revokes_from_the_detail_page(supervisor_client, suket):
    response = supervisor_client.post(
        reverse("suket:revoke", args=[suket.pk]), {"reason": "Data tempat lahir salah"}, follow=True
    )
    assert messages_of(response) == [f"Suket {suket.number} dicabut."]
    suket.refresh_from_db()
    assert suket.status == Suket.Status.REVOKED


def test_revoke_form_without_a_reason_changes_nothing(supervisor_client, suket):
    response = supervisor_client.post(
        reverse("suket:revoke", args=[suket.pk]), {"reason": ""}, follow=True
    )
    assert messages_of(response) == ["Alasan pencabutan: Alasan pencabutan wajib diisi."]
    suket.refresh_from_db()
    assert suket.status == Suket.Status.VALID


def test_operator_cannot_open_revoke(operator_client, suket):
    response = operator_client.post(
        reverse("suket:revoke", args=[suket.pk]), {"reason": "Data tempat lahir salah"}
    )
    assert response.status_code == 403


def test_staff_of_another_district_cannot_see_the_suket(client, make_staff, suket):
    client.force_login(make_staff(Role.OPERATOR, region="18.71"))
    assert client.get(reverse("suket:detail", args=[suket.pk])).status_code == 404
    assert client.get(reverse("suket:pdf", args=[suket.pk])).status_code == 404


def test_operator_downloads_the_signed_pdf(operator_client, suket, suket_keys):
    response = operator_client.get(reverse("suket:pdf", args=[suket.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert signing.check_pdf_signature(response.content, suket_keys.cert).ok


def test_head_of_office_sees_outstanding_against_blanks(supervisor_client, stock, operator):
    expired = at(dt.date(2025, 1, 2))
    issue_suket(resident=RecordedResidentFactory(), office=stock, officer=operator, at=expired)
    issue_suket(resident=RecordedResidentFactory(), office=stock, officer=operator)
    body = supervisor_client.get(reverse("suket:outstanding")).content.decode()
    assert "Blangko cukup" in body
    assert "<dd>1</dd>" in body and "<dd>120</dd>" in body


# Public verification page


def test_public_page_shows_a_valid_suket_with_masked_data(client, suket):
    response = client.get(verify_path(suket))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Berlaku" in body
    assert "180901**********" in body and "SI** RA****" in body
    assert "1809014501950001" not in body and "SITI RAHAYU" not in body


def test_public_page_gives_neither_the_birth_date_nor_the_serial_of_the_nik(client, suket):
    """With the region and the serial shown, only the birth date would be left to guess, and
    the status inquiry would confirm each guess."""
    body = client.get(verify_path(suket)).content.decode()
    for part in ("450195", "0001", "05-01-1995", "5 Januari 1995", "1995-01-05"):
        assert part not in body.replace(suket.number, "")


@pytest.mark.parametrize(
    ("change", "label"),
    [
        ("void", "Tidak berlaku (KTP-el sudah dicetak)"),
        ("revoke", "Dicabut"),
        ("expire", "Kedaluwarsa"),
    ],
)
def test_public_page_shows_each_state(client, suket, supervisor, change, label):
    if change == "void":
        void_suket_for(suket.resident, "KTP-el dicetak")
    elif change == "revoke":
        revoke_suket(suket=suket, reason="Data tempat lahir salah", actor=supervisor)
    else:
        Suket.objects.filter(pk=suket.pk).update(
            issued_on=dt.date(2020, 1, 1), valid_until=dt.date(2020, 7, 1)
        )
    body = client.get(verify_path(suket)).content.decode()
    assert label in body


@pytest.mark.parametrize(
    "number", ["474.11/9999/SKT/1809/XI/2026", "x" * 300, "<script>", "..%2F..%2Fetc"]
)
def test_public_page_for_an_unknown_number_says_it_is_not_valid(client, office, number):
    response = client.get("/verify/" + number)
    assert response.status_code == 404
    assert "tidak terdaftar" in response.content.decode()


def test_nik_and_birth_date_no_longer_download_the_suket(client, suket):
    response = client.post(
        verify_path(suket), {"nik": "1809014501950001", "birth_date": "1995-01-05"}
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"%PDF" not in response.content


def test_holder_of_the_qr_downloads_the_suket(client, suket, suket_keys):
    scanned = f"https://ektp.example.id{verify_path(suket)}\n{suket.qr_payload}"
    response = client.post(verify_path(suket), {"qr": scanned})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert signing.check_pdf_signature(response.content, suket_keys.cert).ok
    alone = client.post(verify_path(suket), {"qr": suket.qr_payload})
    assert alone["Content-Type"] == "application/pdf"


def test_the_qr_of_another_suket_does_not_download_this_one(client, suket, office, operator):
    other = issue_suket(resident=RecordedResidentFactory(), office=office, officer=operator)
    response = client.post(verify_path(suket), {"qr": other.qr_payload})
    assert response.status_code == 400
    assert "milik suket lain" in response.content.decode()


def tampered(suket) -> str:
    data = json.loads(suket.qr_payload)
    data["valid_until"] = "2099-12-31"
    return json.dumps(data)


@pytest.mark.parametrize(
    ("qr", "message"),
    [
        (lambda s: tampered(s), "palsu atau telah diubah"),
        (lambda s: "bukan json", "bukan data suket"),
        (lambda s: "{}", "tidak lengkap"),
        (lambda s: "", "Tempel isi kode QR"),
        (lambda s: "x" * 3000, "terlalu panjang"),
    ],
)
def test_a_forged_or_malformed_qr_gets_no_pdf(client, suket, qr, message):
    response = client.post(verify_path(suket), {"qr": qr(suket)})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()


def test_public_page_is_rate_limited_by_ip(client, suket, settings):
    settings.EKTP_VERIFY_RATE = "3/m"
    for _ in range(3):
        assert client.get(verify_path(suket)).status_code == 200
    response = client.get(verify_path(suket))
    assert response.status_code == 429
    assert "coba lagi nanti" in response.content.decode()
    other = client.get(verify_path(suket), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_verify_without_a_number_offers_a_form(client):
    response = client.get("/verify/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="nomor"' in body and 'action="/verify/"' in body
    assert "Nomor suket" in body


def test_verify_form_sends_the_reader_to_the_number_page(client, suket):
    response = client.get("/verify/", {"nomor": f"  {suket.number} "})
    assert response.status_code == 302
    assert response["Location"] == verify_path(suket)
    assert client.get(response["Location"]).status_code == 200


def test_verify_form_takes_the_link_of_the_qr_code(client, suket):
    link = f"https://ektp.example.id{verify_path(suket)}"
    response = client.get("/verify/", {"nomor": link})
    assert response["Location"] == verify_path(suket)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Isi nomor suket"), ("   ", "Isi nomor suket"), ("x" * 61, "terlalu panjang")],
)
def test_verify_form_refuses_an_empty_or_overlong_number(client, typed, message):
    response = client.get("/verify/", {"nomor": typed})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_verify_form_for_an_unknown_number_leads_to_the_not_valid_answer(client, office):
    response = client.get("/verify/", {"nomor": "474.11/9999/SKT/1809/XI/2026"}, follow=True)
    assert response.status_code == 404
    assert "tidak terdaftar" in response.content.decode()
