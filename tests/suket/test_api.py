"""The suket API: rule in force, issue, list, revoke, PDF, outstanding, QR check, bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.suket import signing
from ektp.suket.models import Suket, SuketRule
from ektp.suket.services import issue_suket
from tests.suket.factories import PrrResidentFactory, RecordedResidentFactory, pilkada_2020

pytestmark = pytest.mark.django_db

BASE = "/api/v1/suket"


@pytest.fixture
def auth(api_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}


@pytest.fixture
def supervisor_auth(supervisor):
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=supervisor, name='uji')}"}


def post(client, path, body, **headers):
    return client.post(BASE + path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def suket(office, operator):
    return issue_suket(resident=RecordedResidentFactory(), office=office, officer=operator)


def test_rule_in_force_names_its_source(client, auth, office):
    body = client.get(BASE + "/rule?kab=18.09", **auth).json()
    assert body["rule_id"] is None and body["source"].startswith("Aturan bawaan")
    assert body["mode"] == "allow"


def test_issue_then_list_then_detail(client, auth, office):
    resident = RecordedResidentFactory()
    response = post(client, "/", {"kab": "18.09", "nik": resident.nik}, **auth)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "valid"
    assert created["verify_path"] == f"/verify/{created['number']}"
    listed = client.get(BASE + "/?kab=18.09&status=valid", **auth).json()
    assert [s["number"] for s in listed] == [created["number"]]
    assert client.get(f"{BASE}/{created['id']}", **auth).json()["nik"] == resident.nik


def test_issue_refused_answers_409_with_the_reason(client, auth, stock):
    resident = PrrResidentFactory()
    response = post(client, "/", {"kab": "18.09", "nik": resident.nik}, **auth)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "Rekaman sudah PRR dan masih ada 120 blangko: cetak KTP-el."
    )
    assert not Suket.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"kab": "18.09", "nik": "123"}, 422, "NIK harus 16 digit (yang diisi 3 karakter)."),
        ({"kab": "18.09", "nik": "18٠٩014501959999"}, 422, "NIK hanya boleh berisi angka 0–9."),
        ({"kab": "18.09", "nik": "1809014501959999"}, 404, "NIK tidak ditemukan"),
        ({"kab": "1809", "nik": "1809014501959999"}, 422, "NN.NN"),
        ({"kab": "18.71", "nik": "1809014501959999"}, 404, "Kantor Disdukcapil tidak ditemukan"),
        ({"kab": "18.09"}, 422, "Wajib diisi"),
        ({"kab": "18.09", "nik": "1" * 17}, 422, "NIK harus 16 digit (yang diisi 17 karakter)."),
        ({"kab": "18.09", "nik": "1" * 41}, 422, "Paling banyak 40 karakter"),
        ({"kab": "18.09", "nik": 1809014501959999}, 422, "Harus berupa teks"),
    ],
)
def test_issue_with_bad_input_issues_nothing(client, auth, office, body, status, words):
    response = post(client, "/", body, **auth)
    assert response.status_code == status
    assert words in json.dumps(response.json(), ensure_ascii=False)
    assert not Suket.objects.exists()


def test_issue_with_a_body_that_is_not_json(client, auth, office):
    response = client.post(BASE + "/", "bukan json", content_type="application/json", **auth)
    assert response.status_code in (400, 422)
    assert not Suket.objects.exists()


def test_issue_needs_a_token(client, office):
    assert post(client, "/", {"kab": "18.09", "nik": "1" * 16}).status_code == 401


def test_supervisor_revokes_and_operator_may_not(client, auth, supervisor_auth, suket):
    refused = post(client, f"/{suket.pk}/revoke", {"reason": "Data salah ketik"}, **auth)
    assert refused.status_code == 403
    done = post(client, f"/{suket.pk}/revoke", {"reason": "Data salah ketik"}, **supervisor_auth)
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    again = post(client, f"/{suket.pk}/revoke", {"reason": "Data salah ketik"}, **supervisor_auth)
    assert again.status_code == 409 and "tidak dapat dicabut" in again.json()["detail"]


def test_revoke_without_reason_is_refused(client, supervisor_auth, suket):
    response = post(client, f"/{suket.pk}/revoke", {"reason": ""}, **supervisor_auth)
    assert response.status_code == 422
    assert "Alasan pencabutan wajib diisi" in response.json()["detail"]


@pytest.mark.parametrize("suket_id", ["bukan-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_suket_id_is_a_404_in_indonesian(client, auth, office, suket_id):
    response = client.get(f"{BASE}/{suket_id}", **auth)
    assert response.status_code == 404
    assert response.json()["detail"] == "Suket tidak ditemukan di wilayah kerja Anda."


def test_pdf_download_is_signed(client, auth, suket, suket_keys):
    response = client.get(f"{BASE}/{suket.pk}/pdf", **auth)
    assert response.status_code == 200
    assert signing.check_pdf_signature(response.content, suket_keys.cert).ok


def test_outstanding_counts_valid_suket_against_blanks(client, make_staff, stock, suket):
    token = issue_api_token(user=make_staff(Role.SUPERVISOR, username="kadis"), name="uji")
    body = client.get(BASE + "/outstanding?kab=18.09", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body == {
        "office": stock.name,
        "valid": 1,
        "blanks": 120,
        "cover": True,
    }


def test_list_with_a_bad_status_is_refused(client, auth, office):
    response = client.get(BASE + "/?kab=18.09&status=apa", **auth)
    assert response.status_code == 422
    assert "status" in response.json()["detail"]


def test_offline_check_with_the_published_public_key(client, suket):
    pem = client.get(BASE + "/public-key").json()["public_key_pem"]
    fields = signing.verify_qr_payload(suket.qr_payload, load_pem_public_key(pem.encode()))
    assert fields["number"] == suket.number


def test_verify_qr_endpoint_accepts_the_scanned_text(client, suket):
    scanned = f"https://ektp.example.id/verify/{suket.number}\n{suket.qr_payload}"
    response = post(client, "/verify-qr", {"payload": scanned})
    assert response.status_code == 200
    assert response.json()["status_now"] == "valid"
    assert response.json()["nik"] == suket.masked_nik


@pytest.mark.parametrize("payload", ["", "{}", "tidak sah"])
def test_verify_qr_endpoint_refuses_garbage(client, office, payload):
    response = post(client, "/verify-qr", {"payload": payload})
    assert response.status_code == 422
    assert "QR" in response.json()["detail"]


def test_verify_qr_endpoint_detects_a_tampered_payload(client, suket):
    data = json.loads(suket.qr_payload)
    data["valid_until"] = "2099-12-31"
    response = post(client, "/verify-qr", {"payload": json.dumps(data)})
    assert response.status_code == 422
    assert "palsu atau telah diubah" in response.json()["detail"]


def test_province_admin_creates_the_pilkada_rule(client, make_staff, office):
    admin = make_staff(Role.PROVINCE_ADMIN, region="18")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=admin, name='uji')}"}
    body = {
        "authority": "province",
        "region": "18",
        "title": "Suket khusus Pilkada 2020",
        "mode": "purpose_only",
        "purpose": "Pilkada 2020",
        "effective_from": "2020-09-01",
        "issue_until": "2020-12-09",
        "valid_until": "2020-12-31",
    }
    response = post(client, "/rules", body, **headers)
    assert response.status_code == 201, response.content
    assert response.json()["issue_until"] == "2020-12-09"


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"authority": "kecamatan"}, 422, "Penerbit kebijakan"),
        ({"region": "31"}, 403, "di luar wilayah kerja"),
        ({"region": "99"}, 422, "kode provinsi yang ada"),
        ({"mode": "purpose_only", "purpose": ""}, 422, "harus menyebut keperluannya"),
        ({"mode": "maybe"}, 422, "Ketentuan harus"),
        ({"effective_from": "2020-13-01"}, 422, "Tanggal tidak sah"),
        ({"issue_until": "2019-01-01"}, 422, "Penerbitan sampai tidak boleh sebelum"),
        ({"valid_until": "2020-12-01", "issue_until": "2020-12-09"}, 422, "tidak boleh sebelum"),
        ({"valid_until": "2020-12-31"}, 422, "memerlukan tanggal akhir penerbitan"),
        ({"valid_months": 0}, 422, "Paling kecil 1"),
        ({"title": "   "}, 422, "Judul kebijakan wajib diisi"),
        ({"authority": "ministry", "region": None}, 403, "admin sistem nasional"),
    ],
)
def test_rule_with_bad_input_creates_nothing(client, make_staff, office, change, status, words):
    admin = make_staff(Role.PROVINCE_ADMIN, region="18")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=admin, name='uji')}"}
    body = {
        "authority": "province",
        "region": "18",
        "title": "Kebijakan uji",
        "mode": "allow",
        "effective_from": "2020-09-01",
    }
    body.update(change)
    response = post(client, "/rules", body, **headers)
    assert response.status_code == status, response.content
    assert words in json.dumps(response.json(), ensure_ascii=False)
    assert not SuketRule.objects.exists()


def test_operator_cannot_create_a_province_rule(client, auth, office):
    body = {
        "authority": "province",
        "region": "18",
        "title": "Kebijakan uji",
        "mode": "forbid",
        "effective_from": "2020-09-01",
    }
    assert post(client, "/rules", body, **auth).status_code == 403


def test_pilkada_rule_shows_in_the_rule_endpoint_during_the_campaign(client, auth, office):
    pilkada_2020(effective_to=None, issue_until=dt.date(2099, 12, 9), valid_until=None)
    body = client.get(BASE + "/rule?kab=18.09", **auth).json()
    assert body["mode"] == "purpose_only" and body["purpose"] == "Pilkada 2020"
