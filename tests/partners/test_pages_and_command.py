"""The import page and `ektp import`: upload, preview, apply; bad input answered on the page."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from ektp.core.models import Role
from ektp.offices.models import Office
from ektp.partners.models import Election, IkdActivation, PartnerImport
from ektp.residents.models import MaritalStatus
from tests.partners.factories import csv_file, marriage_row, voter_row
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
MARRIED_ON = (timezone.localdate() - dt.timedelta(days=5)).isoformat()


@pytest.fixture
def head(make_staff):
    Office.objects.get_or_create(region_id="18.09", defaults={"name": "Disdukcapil Pesawaran"})
    return make_staff(Role.SUPERVISOR)


def _couple():
    return ResidentFactory(), ResidentFactory(sex="P", birth_date=dt.date(1998, 3, 3))


def test_upload_preview_and_apply_on_the_page(client, head):
    husband, wife = _couple()
    client.force_login(head)
    content = csv_file("kua", [marriage_row(husband, wife, married_on=MARRIED_ON)])
    answer = client.post(
        reverse("partners:imports"),
        {"kind": "kua", "file": SimpleUploadedFile("kua.csv", content)},
    )
    staged = PartnerImport.objects.get()
    assert answer.status_code == 302 and answer.url == reverse("partners:preview", args=[staged.pk])
    page = client.get(answer.url)
    assert page.status_code == 200 and page.context["p"].counts["nik"] == 2
    assert "status perkawinan: Belum kawin → Kawin" in page.content.decode()
    client.post(reverse("partners:apply", args=[staged.pk]))
    husband.refresh_from_db()
    assert husband.marital_status == MaritalStatus.MARRIED
    again = client.post(reverse("partners:apply", args=[staged.pk]))
    assert again.status_code in (409, 422)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "kua"}, "Pilih berkas"),
        ({"kind": "xyz", "file": b"a"}, "Pilih salah satu"),
        ({"kind": "kua", "file": b"\x00\x01"}, "bukan CSV atau XLSX"),
        ({"kind": "kua", "file": b"nik;nama\n1;A\n"}, "Kolom wajib tidak ada"),
        ({"kind": "kpu", "file": b"nik\n"}, "pilih pemilihan"),
        (
            {
                "kind": "kpu",
                "file": b"nik\n",
                "election_name": "Pilkada",
                "polling_day": "2027-02-30",
            },
            "TTTT-BB-HH",
        ),
    ],
)
def test_bad_upload_answered_on_the_page(client, head, data, message):
    client.force_login(head)
    if "file" in data:
        data = {**data, "file": SimpleUploadedFile("x.csv", data["file"])}
    answer = client.post(reverse("partners:imports"), data)
    assert answer.status_code == 422
    assert message in answer.content.decode()
    assert not PartnerImport.objects.exists()


def test_operator_may_not_open_imports(operator_client):
    assert operator_client.get(reverse("partners:imports")).status_code == 403


def test_ikd_page_records_an_activation_and_refuses_the_unrecorded(client, operator):
    holder = ResidentFactory(recorded_on=dt.date(2021, 1, 1), ktp_status="CARD_ISSUED")
    client.force_login(operator)
    data = {
        "form": "activation",
        "channel": "loket",
        "place": "Loket 1",
        "activated_on": timezone.localdate(),
    }
    assert client.post(reverse("partners:ikd"), {**data, "nik": holder.nik}).status_code == 302
    assert IkdActivation.objects.get().resident == holder
    refused = client.post(reverse("partners:ikd"), {**data, "nik": ResidentFactory().nik})
    assert refused.status_code == 422 and "belum rekam KTP-el" in refused.content.decode()
    bad_nik = client.post(reverse("partners:ikd"), {**data, "nik": "123"})
    assert bad_nik.status_code == 422 and "16 digit" in bad_nik.content.decode()


def test_command_previews_then_applies(tmp_path, head):
    voter = ResidentFactory()
    path = tmp_path / "dpt.csv"
    path.write_bytes(csv_file("kpu", [voter_row(voter), voter_row(nik="12")]))
    out = StringIO()
    args = ["import", "kpu", str(path), "--user", head.username, "--pemilihan", "Pilkada 2027"]
    call_command(*args, "--hari-pemungutan", "2027-11-24", stdout=out)
    text = out.getvalue()
    assert "Cocok NIK: 1" in text and "baris 3" in text and "Belum diterapkan" in text
    call_command(*args, "--hari-pemungutan", "2027-11-24", "--terapkan", stdout=out)
    assert "voters=1" in out.getvalue()
    assert Election.objects.count() == 1
    with pytest.raises(CommandError, match="sudah diterapkan"):
        call_command(*args, "--hari-pemungutan", "2027-11-24", "--terapkan", stdout=out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kua", "/tidak/ada.csv", "--user", "supervisor-18.09"], "tidak ada"),
        (["kua", "FILE", "--user", "siapa"], "Pengguna siapa"),
        (["kpu", "FILE", "--user", "supervisor-18.09", "--hari-pemungutan", "besok"], "TTTT-BB-HH"),
        (["kua", "FILE", "--user", "supervisor-18.09", "--kab", "18.10"], "di luar wilayah kerja"),
    ],
)
def test_command_bad_input(tmp_path, head, args, message):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_file("kua", []))
    args = [str(path) if a == "FILE" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("import", *args, stdout=StringIO())


def test_api_records_an_activation_and_answers_bad_input(client, operator, head):
    from ektp.core.services import issue_api_token

    holder = ResidentFactory(recorded_on=dt.date(2021, 1, 1), ktp_status="CARD_ISSUED")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=operator, name='uji')}"}
    body = {
        "nik": holder.nik,
        "channel": "loket",
        "place": "Loket 1",
        "activated_on": str(timezone.localdate()),
    }
    url = "/api/v1/partners/ikd/activations"
    created = client.post(url, body, content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["nik"] == holder.nik
    again = client.post(url, body, content_type="application/json", **auth)
    assert again.status_code == 409
    bad = client.post(url, {**body, "nik": "12"}, content_type="application/json", **auth)
    assert bad.status_code == 422
    unrecorded = client.post(
        url, {**body, "nik": ResidentFactory().nik}, content_type="application/json", **auth
    )
    assert unrecorded.status_code == 422 and "belum rekam" in unrecorded.json()["detail"]
    # an operator does not read imports; the head does
    staged = PartnerImport.objects.create(
        kind="kua", kabkota_id="18.09", file_name="x.csv", sha256="0" * 64, created_by=head
    )
    assert client.get(f"/api/v1/partners/imports/{staged.pk}", **auth).status_code == 403
    head_auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=head, name='uji')}"}
    preview = client.get(f"/api/v1/partners/imports/{staged.pk}", **head_auth)
    assert preview.status_code == 200 and preview.json()["counts"]["nik"] == 0
