"""Counters that cannot be reached (a broken disk, a database or Redis down): the public pages
answer as if nothing was counted (fail open, the default), or, when the install says
RATELIMIT_FAIL_OPEN = False, say the service is briefly unavailable (503, Retry-After), never
"too many requests"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.factories import PortalResidentFactory

pytestmark = pytest.mark.django_db
UNAVAILABLE = "Layanan sedang tidak tersedia sebentar"


@pytest.fixture
def broken_host_cache(settings, tmp_path):
    """The real host cache where it cannot make its directory (it would lie under a plain
    file): every count fails with an OSError, as on a broken disk."""
    plain = tmp_path / "plain-file"
    plain.write_text("")
    settings.CACHES = {
        "default": {"BACKEND": "ektp.core.ratelimit.HostCache", "LOCATION": str(plain / "cache")}
    }


@pytest.fixture
def fail_closed(settings):
    settings.RATELIMIT_FAIL_OPEN = False


def _unavailable(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    return response


def test_status_page_says_the_service_is_briefly_unavailable(
    client, broken_host_cache, fail_closed
):
    resident = PortalResidentFactory()
    page = _unavailable(
        client.post(reverse("portal:status"), {"nik": resident.nik, "birth_date": "17-05-1990"})
    )
    text = page.content.decode()
    assert UNAVAILABLE in text
    assert "Terlalu banyak" not in text
    assert resident.name not in text
    bad_input = _unavailable(
        client.post(reverse("portal:status"), {"nik": "123", "birth_date": "kemarin"})
    )
    assert UNAVAILABLE in bad_input.content.decode()
    assert client.get(reverse("portal:status")).status_code == 200  # the form counts nothing


def test_status_api_says_the_service_is_briefly_unavailable(client, broken_host_cache, fail_closed):
    resident = PortalResidentFactory()
    answer = _unavailable(
        client.post(
            "/api/v1/portal/status",
            {"nik": resident.nik, "birth_date": "17-05-1990"},
            content_type="application/json",
        )
    )
    assert answer.json()["detail"].startswith(UNAVAILABLE)


def test_booking_identification_says_the_service_is_briefly_unavailable(
    client, broken_host_cache, fail_closed
):
    resident = PortalResidentFactory()
    body = {"nik": resident.nik, "birth_date": "1990-05-17"}
    page = _unavailable(client.post(reverse("booking:identify"), body))
    assert UNAVAILABLE in page.content.decode()
    api = _unavailable(
        client.post(
            "/api/v1/appointments/bookings",
            {**body, "window_id": "00000000-0000-4000-8000-000000000000"},
            content_type="application/json",
        )
    )
    assert api.json()["detail"].startswith(UNAVAILABLE)


def test_by_default_the_pages_answer_as_if_nothing_was_counted(client, broken_host_cache):
    resident = PortalResidentFactory()
    page = client.post(reverse("portal:status"), {"nik": resident.nik, "birth_date": "17-05-1990"})
    assert page.status_code == 200
    assert "Belum rekam" in page.content.decode()
    assert UNAVAILABLE not in page.content.decode()
    api = client.post(
        "/api/v1/portal/status",
        {"nik": resident.nik, "birth_date": "17-05-1990"},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert api.json()["found"] is True
    bad_input = client.post(reverse("portal:status"), {"nik": "123", "birth_date": "kemarin"})
    assert bad_input.status_code == 400
    booking = client.post(
        reverse("booking:identify"), {"nik": resident.nik, "birth_date": "1990-05-17"}
    )
    assert booking.status_code in (200, 302)
