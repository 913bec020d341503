"""The head of office keeps the kop surat and the signature block in ektp's own pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core.models import AuditEvent, Role
from ektp.naskah import services
from ektp.naskah.errors import NaskahError, NaskahForbidden
from ektp.naskah.models import Letterhead
from tests.naskah.conftest import HEAD

KAB = {"kab": "18.09"}


def test_the_head_saves_the_letterhead_and_the_office_address(office, supervisor):
    saved = services.save_letterhead(actor=supervisor, office=office, **HEAD)
    office.refresh_from_db()
    assert office.address == HEAD["address"]
    assert (saved.head_name, saved.head_nip) == (HEAD["head_name"], HEAD["head_nip"])
    assert AuditEvent.objects.filter(object_type="letterhead", object_id=str(office.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("head_nip", "19700315200003100", "18 angka"),
        ("head_nip", "19701315200003100X", "18 angka"),
        ("head_nip", "197013152000031002", "tanggal lahir"),
        ("head_nip", "197003152000131002", "bulan pengangkatan"),
        ("head_nip", "197003152000033002", "jenis kelamin"),
        ("head_name", "   ", "Nama kepala dinas wajib diisi"),
        ("head_rank", "", "Pangkat/golongan wajib diisi"),
        ("city", "x" * 61, "paling banyak 60"),
        ("email", "bukan-surel", "surel tidak sah"),
        ("number_format", "470/Disdukcapil", "{nomor}"),
        ("address", "", "Alamat kantor wajib diisi"),
    ],
)
def test_a_bad_letterhead_is_refused_and_nothing_changes(office, supervisor, field, value, message):
    with pytest.raises(NaskahError, match=message.replace("{", r"\{").replace("}", r"\}")):
        services.save_letterhead(actor=supervisor, office=office, **{**HEAD, field: value})
    assert not Letterhead.objects.exists()


def test_a_nip_typed_with_spaces_is_kept_as_18_digits(office, supervisor):
    saved = services.save_letterhead(
        actor=supervisor, office=office, **{**HEAD, "head_nip": "19700315 200003 1 002"}
    )
    assert saved.head_nip == "197003152000031002"


@pytest.mark.parametrize(("role", "region"), [(Role.OPERATOR, "18.09"), (Role.SUPERVISOR, "18.01")])
def test_only_the_head_of_that_office_changes_the_letterhead(office, make_staff, role, region):
    actor = make_staff(role, region=region, username=f"u-{role}-{region}")
    with pytest.raises(NaskahForbidden):
        services.save_letterhead(actor=actor, office=office, **HEAD)
    assert not Letterhead.objects.exists()


def test_the_setup_page_links_to_the_letterhead_form(head_client, office):
    page = head_client.get(reverse("offices:setup"), KAB).content.decode()
    assert reverse("offices:letterhead") in page


def test_the_head_fills_in_the_letterhead_form(head_client, office):
    page = head_client.get(reverse("offices:letterhead"), KAB)
    assert page.status_code == 200
    assert "470/0001/Disdukcapil/" in page.content.decode()
    response = head_client.post(reverse("offices:letterhead") + "?kab=18.09", HEAD)
    assert response.status_code == 302
    assert Letterhead.objects.get(office=office).head_name == HEAD["head_name"]
    page = head_client.get(response["Location"])
    assert HEAD["head_nip"] in page.content.decode()


def test_a_bad_nip_in_the_form_is_shown_and_nothing_is_saved(head_client, office):
    response = head_client.post(
        reverse("offices:letterhead") + "?kab=18.09", {**HEAD, "head_nip": "12345"}
    )
    assert response.status_code == 422
    assert "NIP harus 18 angka." in response.content.decode()
    assert not Letterhead.objects.exists()


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        (Role.OPERATOR, "18.09", 403),
        (Role.GATE_OFFICER, "18.09", 403),
        (Role.SUPERVISOR, "18.01", 404),
    ],
)
def test_the_letterhead_form_is_for_the_head_of_that_office(
    client, make_staff, office, role, region, status
):
    client.force_login(make_staff(role, region=region, username=f"u-{role}-{region}"))
    assert client.post(reverse("offices:letterhead") + "?kab=18.09", HEAD).status_code == status
    assert not Letterhead.objects.exists()


def test_the_demo_office_has_a_letterhead_with_a_synthetic_head(pesawaran):
    from ektp.offices.demo import ensure_demo_offices

    office = ensure_demo_offices(pesawaran)
    ensure_demo_offices(pesawaran)
    head = Letterhead.objects.get(office=office)
    assert head.government == "PEMERINTAH KABUPATEN PESAWARAN"
    assert head.head_name and head.head_rank and len(head.head_nip) == 18
    assert services.check_nip(head.head_nip) == head.head_nip
