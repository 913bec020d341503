"""The signed QR payload and the PAdES signature of the PDF: intact, forged, tampered."""

from __future__ import annotations

import base64
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
        "kid",
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


def test_production_refuses_missing_keys_and_makes_none(settings, tmp_path):
    settings.ENVIRONMENT = "production"
    settings.EKTP_KEY_DIR = tmp_path / "keys"
    settings.EKTP_SUKET_QR_KEY = ""
    problems = [m.msg for m in run_checks() if m.id == "suket.E001"]
    assert problems == [
        f"EKTP_SUKET_QR_KEY: berkas {tmp_path}/keys/suket-qr-ed25519.pem tidak ada."
    ]
    with pytest.raises(ImproperlyConfigured, match="EKTP_SUKET_QR_KEY"):
        signing.office_keys()
    assert not (tmp_path / "keys").exists()


def test_development_generates_the_keys_once_in_the_key_dir_readable_by_the_owner_only(
    settings, tmp_path
):
    settings.EKTP_KEY_DIR = tmp_path / "keys"
    settings.EKTP_SUKET_QR_KEY = settings.EKTP_SUKET_SIGNING_KEY = ""
    settings.EKTP_SUKET_SIGNING_CERT = ""
    first = signing.office_keys()
    created = (tmp_path / "keys" / "suket-signing-cert.pem").read_bytes()
    second = signing.office_keys()
    assert (tmp_path / "keys" / "suket-signing-cert.pem").read_bytes() == created
    assert first.qr_public_pem() == second.qr_public_pem()
    for name in ("suket-qr-ed25519.pem", "suket-signing-key.pem", "suket-signing-cert.pem"):
        assert (tmp_path / "keys" / name).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700


def test_development_warns_that_the_suket_keys_are_self_signed(settings):
    warnings = [m for m in run_checks() if m.id == "suket.W001"]
    assert len(warnings) == 1
    assert "swa-tanda-tangan" in warnings[0].msg
    settings.ENVIRONMENT = "production"
    assert not [m for m in run_checks() if m.id == "suket.W001"]


@pytest.fixture
def own_keys(settings, tmp_path):
    """Suket keys in a directory of this test only (rotation rewrites them)."""
    settings.EKTP_KEY_DIR = tmp_path / "keys"
    settings.EKTP_SUKET_QR_KEY = settings.EKTP_SUKET_SIGNING_KEY = ""
    settings.EKTP_SUKET_SIGNING_CERT = ""
    return signing.office_keys()


def test_a_suket_signed_before_a_rotation_still_verifies_after_it(own_keys, office, operator):
    resident = RecordedResidentFactory(nik="1809014501950002")
    old = issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))
    old_pdf = documents.signed_pdf(old, verify_url=URL)

    rotated = signing.rotate_keys()

    assert rotated.qr_public_pem() != own_keys.qr_public_pem()
    assert rotated.cert != own_keys.cert
    assert signing.verify_qr_payload(old.qr_payload, rotated.qr_public_keys)["number"] == old.number
    assert signing.check_pdf_signature(old_pdf, rotated.trusted_certs).ok
    assert not signing.check_pdf_signature(old_pdf, rotated.cert).ok
    new = issue_suket(
        resident=RecordedResidentFactory(nik="1809014501950003"),
        office=office,
        officer=operator,
        at=at(DAY),
    )
    assert json.loads(new.qr_payload)["kid"] == signing.public_key_id(rotated.qr_public)
    assert json.loads(old.qr_payload)["kid"] == signing.public_key_id(own_keys.qr_public)
    with pytest.raises(signing.ForgedPayload):
        signing.verify_qr_payload(new.qr_payload, own_keys.qr_public)
    assert signing.verify_qr_payload(new.qr_payload, rotated.qr_public_keys)
    assert (
        (settings_dir := own_keys.signing_cert_path.parent) / "suket-retired.pem"
    ).stat().st_mode & 0o777 == 0o600
    assert settings_dir.stat().st_mode & 0o777 == 0o700


def test_the_verify_endpoint_accepts_a_suket_signed_before_a_rotation(
    own_keys, office, operator, client
):
    resident = RecordedResidentFactory(nik="1809014501950004")
    old = issue_suket(resident=resident, office=office, officer=operator, at=at(DAY))
    signing.rotate_keys()
    response = client.post(
        "/api/v1/suket/verify-qr", {"payload": old.qr_payload}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["signature_valid"] is True
    keys = client.get("/api/v1/suket/public-key").json()
    assert keys["retired_public_keys_pem"] == [own_keys.qr_public_pem()]


def test_a_payload_without_a_key_id_from_before_key_ids_still_verifies(suket_keys):
    fields = {
        "number": "474.11/0001/SKT",
        "nik": "180901******0001",
        "name": "SI** RA****",
        "valid_until": "2027-05-25",
        "status": "valid",
    }
    body = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    signature = base64.urlsafe_b64encode(suket_keys.qr_private.sign(body)).rstrip(b"=").decode()
    legacy = json.dumps({**fields, "sig": signature})
    assert signing.verify_qr_payload(legacy, suket_keys.qr_public_keys) == fields


def test_keys_rotate_suket_command_keeps_the_old_key_for_verification(own_keys, capsys):
    from django.core.management import call_command

    call_command("keys", "rotate-suket")
    out = capsys.readouterr().out
    assert "1 kunci publik lama" in out and "swa-tanda-tangan" in out
    rotated = signing.office_keys()
    assert rotated.retired_public_pems() == [own_keys.qr_public_pem()]
    assert rotated.retired_certs == (own_keys.cert,)


def test_keys_rotate_suket_refuses_keys_given_by_the_environment(own_keys, monkeypatch):
    from django.core.management import CommandError, call_command

    monkeypatch.setenv("EKTP_SUKET_QR_KEY", str(own_keys.signing_key_path.parent / "qr.pem"))
    with pytest.raises(CommandError, match="EKTP_SUKET_QR_KEY"):
        call_command("keys", "rotate-suket")
    assert signing.office_keys().qr_public_pem() == own_keys.qr_public_pem()
