"""The signed QR payload and the PAdES signature of the PDF: intact, forged, tampered."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from ektp.suket import documents, signing
from ektp.suket.services import issue_suket
from tests.suket.conftest import at
from tests.suket.factories import RecordedResidentFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 25)
URL = "https://ektp.example.id/verify/474.11/0001/SKT/1809/XI/2026"


@pytest.fixture
def suket(office, operator):
    resident = RecordedResidentFactory(name="SITI RAHAYU", nik="1809014501950001")
    return issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))


def test_qr_payload_verifies_with_only_the_office_public_key(suket, suket_keys):
    fields = signing.verify_qr_payload(suket.qr_payload, suket_keys.qr_public)
    assert fields == {
        "number": suket.number,
        "nik": "180901******0001",
        "name": "SI** RA****",
        "valid_until": "2027-05-25",
        "status": "valid",
    }


def test_qr_payload_is_compact_json_without_the_full_nik(suket):
    assert " " not in suket.qr_payload.replace("SI** RA****", "")
    assert "1809014501950001" not in suket.qr_payload
    assert set(json.loads(suket.qr_payload)) == {
        "number",
        "nik",
        "name",
        "valid_until",
        "status",
        "sig",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("valid_until", "2099-12-31"), ("name", "BU** SA*****"), ("number", "474.11/0002/SKT")],
)
def test_an_altered_qr_payload_is_detected(suket, suket_keys, field, value):
    data = json.loads(suket.qr_payload)
    data[field] = value
    with pytest.raises(signing.ForgedPayload, match="palsu atau telah diubah"):
        signing.verify_qr_payload(json.dumps(data), suket_keys.qr_public)


def test_a_payload_signed_by_another_key_is_detected(suket, suket_keys):
    data = json.loads(suket.qr_payload)
    data.pop("sig")
    forged = signing.sign_qr_payload(data, Ed25519PrivateKey.generate())
    with pytest.raises(signing.ForgedPayload):
        signing.verify_qr_payload(forged, suket_keys.qr_public)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "bukan json",
        "[]",
        '{"number":"1"}',
        '{"number":1,"nik":"","name":"","valid_until":"","status":"","sig":""}',
        b"\xff\xfe",
    ],
)
def test_malformed_qr_payloads_are_refused_in_indonesian(suket_keys, payload):
    with pytest.raises(signing.ForgedPayload, match="QR"):
        signing.verify_qr_payload(payload, suket_keys.qr_public)


def test_pdf_carries_a_valid_pades_signature(suket, suket_keys):
    pdf = documents.signed_pdf(suket, verify_url=URL)
    assert pdf.startswith(b"%PDF")
    check = signing.check_pdf_signature(pdf, suket_keys.cert)
    assert check.ok, check


def test_a_modified_pdf_fails_validation(suket, suket_keys):
    pdf = bytearray(documents.signed_pdf(suket, verify_url=URL))
    position = pdf.index(b"/Title")
    pdf[position + 8] = (pdf[position + 8] + 1) % 256
    check = signing.check_pdf_signature(bytes(pdf), suket_keys.cert)
    assert not check.ok
    assert not check.intact


def test_content_appended_after_signing_is_detected(suket, suket_keys):
    pdf = documents.signed_pdf(suket, verify_url=URL)
    check = signing.check_pdf_signature(pdf + b"\n% tambahan\n", suket_keys.cert)
    assert not check.ok


def test_a_pdf_signed_by_another_certificate_is_not_trusted(suket, suket_keys, tmp_path):
    other = signing.KeyPaths(tmp_path / "q.pem", tmp_path / "k.pem", tmp_path / "c.pem")
    signing.generate_development_pair(other)
    from cryptography import x509

    other_cert = x509.load_pem_x509_certificate(other.signing_cert.read_bytes())
    pdf = documents.signed_pdf(suket, verify_url=URL)
    assert not signing.check_pdf_signature(pdf, other_cert).ok


def test_garbage_is_not_a_signed_pdf(suket_keys):
    assert not signing.check_pdf_signature(b"bukan pdf", suket_keys.cert).ok


def test_pdf_is_a4_in_indonesian_with_the_number_and_a_qr_image(suket):
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(documents.render_pdf(suket, verify_url=URL)))
    page = reader.root["/Pages"]["/Kids"][0]
    assert [round(float(v)) for v in page["/MediaBox"]] == [0, 0, 595, 842]
    text = page["/Contents"].data.decode("latin-1")
    for words in ("SURAT KETERANGAN", suket.number, "SITI RAHAYU", "25 Mei 2027", "perekaman"):
        assert words in text
    images = page["/Resources"]["/XObject"]
    assert any(images[name]["/Subtype"] == "/Image" for name in images)


def test_qr_text_holds_the_link_then_the_signed_payload(suket):
    text = documents.qr_text(URL, suket.qr_payload)
    assert text.split("\n") == [URL, suket.qr_payload]


def test_production_refuses_the_development_pair(settings):
    settings.ENVIRONMENT = "production"
    problems = [m.msg for m in run_checks() if m.id == "suket.E001"]
    assert problems == ["Sertifikat suket pengembangan tidak boleh dipakai di produksi."]
    with pytest.raises(ImproperlyConfigured, match="pengembangan"):
        signing.office_keys()


def test_production_refuses_missing_key_settings(settings):
    settings.ENVIRONMENT = "production"
    settings.EKTP_SUKET_QR_KEY = ""
    problems = [m.msg for m in run_checks() if m.id == "suket.E001"]
    assert "EKTP_SUKET_QR_KEY harus diisi di produksi." in problems


def test_development_generates_a_pair_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.EKTP_SUKET_QR_KEY = settings.EKTP_SUKET_SIGNING_KEY = ""
    settings.EKTP_SUKET_SIGNING_CERT = ""
    first = signing.office_keys()
    created = (tmp_path / "keys" / "suket-signing-cert.pem").read_bytes()
    second = signing.office_keys()
    assert (tmp_path / "keys" / "suket-signing-cert.pem").read_bytes() == created
    assert first.qr_public_pem() == second.qr_public_pem()
