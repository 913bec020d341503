"""Pages that show personal data are never kept by browsers or proxies."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_staff_pages_are_sent_with_no_store(operator_client):
    resident = ResidentFactory(nik="1809015708060001")
    ResidentFactory(nik="1809015708060002")
    for url in (
        reverse("core:home"),
        reverse("residents:search") + "?q=PENDUDUK",
        reverse("residents:detail", args=[resident.nik]),
        reverse("residents:create"),
        reverse("residents:edit", args=[resident.nik]),
    ):
        response = operator_client.get(url)
        assert response.status_code == 200, url
        assert no_store(response), url


def test_api_answers_to_staff_are_sent_with_no_store(client, api_token):
    response = client.get(
        "/api/v1/residents/?q=1809015708060001", HTTP_AUTHORIZATION=f"Bearer {api_token}"
    )
    assert no_store(response)


def test_public_pages_with_personal_data_are_sent_with_no_store(client):
    for url in ("/cek/", "/janji/", "/verify/470/123/2026"):
        response = client.get(url)
        assert no_store(response), url


def test_pages_without_personal_data_keep_their_caching(operator_client):
    assert not no_store(Client().get("/api/v1/openapi.json"))
    static = operator_client.get("/static/ektp/ektp.css")
    b"".join(static.streaming_content)  # read to the end: the test client closes the file
    assert not no_store(static)
