"""A NIK typed with digits that are not ASCII 0–9 gets a clear refusal on every API endpoint
and form that takes one, never a server error, and is never stored.

str.isdigit() says yes to superscripts ('²', which int() refuses) and int() reads
Arabic-Indic and fullwidth digits: a NIK parser that trusts either answered 500 or stored a
NIK in another script.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.residents.models import Resident
from tests.offices.factories import ServicePointFactory
from tests.residents.factories import ResidentFactory, resident_data

pytestmark = pytest.mark.django_db

# 1809011705900001 spelled with foreign digits in its kab/kota or birth-date segment (int()
# refuses the superscripts; it reads the others), and wholly in other scripts.
UNICODE_NIKS = [
    pytest.param("18²³011705900001", id="superscript-kabkota"),
    pytest.param("180901¹⁷05900001", id="superscript-day"),
    pytest.param("18٠٩011705900001", id="arabic-indic-kabkota"),
    pytest.param("18۰۹011705900001", id="persian-kabkota"),
    pytest.param("18０９011705900001", id="fullwidth-kabkota"),
    pytest.param("１８０９０１１７０５９０００１", id="fullwidth-all"),
    pytest.param("١٨٠٩٠١١٧٠٥٩٠٠٠١", id="arabic-indic-all"),
]


def _auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _resident_json(nik: str) -> dict:
    data = resident_data(nik=nik)
    data["birth_date"] = str(data["birth_date"])
    return data


def _refused_with_detail(response):
    assert response.status_code < 500, response.content[:500]
    assert response.status_code >= 400, response.content[:500]
    return response.content.decode()


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_residents_api_refuses_a_nik_of_foreign_digits(client, api_token, nik):
    response = client.post(
        "/api/v1/residents/",
        _resident_json(nik),
        content_type="application/json",
        **_auth(api_token),
    )
    assert response.status_code == 422, response.content
    assert "nik" in response.content.decode()
    assert not Resident.objects.exists()


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_resident_form_refuses_a_nik_of_foreign_digits(operator_client, nik):
    data = resident_data(nik=nik)
    data["birth_date"] = str(data["birth_date"])
    response = operator_client.post(reverse("residents:create"), data)
    assert response.status_code == 422
    assert "NIK" in response.content.decode()
    assert not Resident.objects.exists()


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_kk_number_of_foreign_digits_is_refused(operator_client, nik):
    data = resident_data(kk_number=nik)
    data["birth_date"] = str(data["birth_date"])
    response = operator_client.post(reverse("residents:create"), data)
    assert response.status_code == 422
    assert "No. KK" in response.content.decode()


@pytest.mark.parametrize("rt", ["²", "٣", "３"])
def test_rt_of_foreign_digits_is_refused(client, api_token, rt):
    data = _resident_json(resident_data()["nik"])
    data["rt"] = rt
    response = client.post(
        "/api/v1/residents/", data, content_type="application/json", **_auth(api_token)
    )
    assert response.status_code == 422, response.content
    assert "rt" in response.content.decode()


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_staff_lookups_by_nik_answer_not_found(client, operator_client, api_token, nik):
    """Search boxes, pages and API paths that look a NIK up: nothing found, no error."""
    ResidentFactory(nik="1809011705900001")
    for path in (
        f"/api/v1/residents/{nik}",
        f"/api/v1/enrollment/{nik}",
        f"/api/v1/enrollment/{nik}/history",
    ):
        assert client.get(path, **_auth(api_token)).status_code == 404, path
    assert client.post(f"/api/v1/enrollment/{nik}/send", **_auth(api_token)).status_code == 404
    for name in ("residents:detail", "enrollment:history", "enrollment:record"):
        assert operator_client.get(reverse(name, args=[nik])).status_code == 404, name
    search = operator_client.get(reverse("residents:search"), {"q": nik})
    assert search.status_code == 200
    assert "1809011705900001" not in search.content.decode()
    find = operator_client.get(reverse("enrollment:find"), {"q": nik})
    assert find.status_code == 200


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_public_booking_and_status_refuse_a_nik_of_foreign_digits(client, nik):
    body = {"nik": nik, "birth_date": "1990-05-17"}
    identify = client.post(
        "/api/v1/appointments/bookings",
        {**body, "window_id": "00000000-0000-4000-8000-000000000000"},
        content_type="application/json",
    )
    assert _refused_with_detail(identify)
    for_member = client.post(
        "/api/v1/appointments/bookings",
        {"code": "TIDAKADA", "for_nik": nik, "window_id": "00000000-0000-4000-8000-000000000000"},
        content_type="application/json",
    )
    assert _refused_with_detail(for_member)
    status = client.post("/api/v1/portal/status", body, content_type="application/json")
    assert _refused_with_detail(status)
    form = client.post(reverse("booking:identify"), body)
    assert form.status_code < 500
    assert "NIK" in form.content.decode()
    page = client.post(reverse("portal:status"), {"nik": nik, "birth_date": "17-05-1990"})
    assert page.status_code == 400
    assert "NIK" in page.content.decode()


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_walk_in_refuses_a_nik_of_foreign_digits(client, make_staff, nik):
    gate = make_staff(Role.GATE_OFFICER)
    point = ServicePointFactory()
    response = client.post(
        f"/api/v1/appointments/points/{point.pk}/walk-in",
        {"nik": nik},
        content_type="application/json",
        **_auth(issue_api_token(user=gate, name="uji")),
    )
    assert response.status_code == 422, response.content
    assert "NIK" in response.json()["detail"]
    client.force_login(gate)
    page = client.post(
        reverse("appointments:gate", args=[point.pk]), {"nik": nik, "action": "walk_in"}
    )
    assert page.status_code < 500


@pytest.mark.parametrize("nik", UNICODE_NIKS)
def test_outreach_cards_and_suket_api_refuse_a_nik_of_foreign_digits(
    client, api_token, make_staff, nik
):
    supervisor = issue_api_token(user=make_staff(Role.SUPERVISOR), name="uji")
    need = client.post(
        "/api/v1/outreach/special-needs",
        {"nik": nik, "kind": "disabilitas"},
        content_type="application/json",
        **_auth(api_token),
    )
    assert _refused_with_detail(need)
    card = client.post(
        "/api/v1/cards/print", {"nik": nik}, content_type="application/json", **_auth(supervisor)
    )
    assert _refused_with_detail(card)
    suket = client.post(
        "/api/v1/suket/", {"nik": nik}, content_type="application/json", **_auth(supervisor)
    )
    assert _refused_with_detail(suket)
