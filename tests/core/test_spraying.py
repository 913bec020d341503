"""Password spraying: many user names from one address are stopped, other addresses not."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core.models import AuditEvent, Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashes(settings):
    """Hundreds of logins: the hashing cost is not what is tested here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


SPRAYER = "192.0.2.66"


def test_180_tries_over_60_user_names_from_one_address_are_stopped_early(client, make_staff):
    names = [f"petugas-{number:02d}" for number in range(60)]
    for name in names:
        make_staff(Role.OPERATOR, username=name)
    answers = []
    for password in ("rahasia1", "Jakarta2026", "ektp12345"):
        for name in names:
            response = client.post(
                reverse("core:login"),
                {"username": name, "password": password},
                REMOTE_ADDR=SPRAYER,
            )
            answers.append(response.status_code)
    first_refusal = answers.index(429)
    assert first_refusal <= 25  # the per-address limit (20) stops it, well before 180
    assert set(answers[first_refusal:]) == {429}
    # Every try is in the audit log, refused ones too.
    assert AuditEvent.objects.filter(action="login_failed").count() == 180
    # Even the right password is refused from that address now...
    refused = client.post(
        reverse("core:login"), {"username": names[0], "password": PASSWORD}, REMOTE_ADDR=SPRAYER
    )
    assert refused.status_code == 429
    # ...while the same staff member at another address logs in.
    response = client.post(
        reverse("core:login"),
        {"username": names[0], "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302


def test_an_office_sharing_one_address_survives_a_few_typos(client, make_staff, settings):
    settings.EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    names = [f"loket-{number}" for number in range(6)]
    for name in names:
        make_staff(Role.OPERATOR, username=name)
    for name in names:
        for _ in range(2):
            client.post(
                reverse("core:login"), {"username": name, "password": "typo"}, REMOTE_ADDR=SPRAYER
            )
    response = client.post(
        reverse("core:login"), {"username": names[0], "password": PASSWORD}, REMOTE_ADDR=SPRAYER
    )
    assert response.status_code == 302


def test_the_per_address_limit_also_guards_the_api_token_exchange(client, make_staff, settings):
    settings.EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 4
    names = [f"api-{number}" for number in range(5)]
    for name in names:
        make_staff(Role.OPERATOR, username=name)
    for name in names[:4]:
        client.post(
            "/api/v1/auth/token",
            {"username": name, "password": "salah"},
            content_type="application/json",
            REMOTE_ADDR=SPRAYER,
        )
    response = client.post(
        "/api/v1/auth/token",
        {"username": names[4], "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR=SPRAYER,
    )
    assert response.status_code == 429
