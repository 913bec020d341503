"""API tokens expire, die with a password change, and are listed and revoked by their owner."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ektp.core.models import ApiToken, Role
from ektp.core.services import issue_api_token

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def works(client, token: str) -> bool:
    return client.get("/api/v1/regions/18.09", **bearer(token)).status_code == 200


def test_a_token_expires_after_the_configured_days(client, operator, settings):
    settings.EKTP_API_TOKEN_DAYS = 30
    token = issue_api_token(user=operator, name="uji")
    stored = ApiToken.objects.get(user=operator)
    assert stored.expires_at - stored.created_at == pytest.approx(
        timedelta(days=30), abs=timedelta(minutes=1)
    )
    assert works(client, token)
    ApiToken.objects.filter(pk=stored.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/regions/18.09", **bearer(token))
    assert response.status_code == 401
    assert "tidak berlaku" in response.json()["detail"]


def test_the_default_life_is_90_days(operator):
    issue_api_token(user=operator, name="uji")
    stored = ApiToken.objects.get(user=operator)
    assert (stored.expires_at - stored.created_at).days in (89, 90)


def test_a_token_dies_when_the_password_changes(client, operator):
    token = issue_api_token(user=operator, name="uji")
    assert works(client, token)
    operator.set_password("kata-sandi-baru-2027")
    operator.save()
    assert not works(client, token)
    # A token issued after the change works.
    assert works(client, issue_api_token(user=operator, name="baru"))


def test_the_owner_lists_own_tokens_without_their_keys(client, operator, make_staff):
    first = issue_api_token(user=operator, name="laptop")
    issue_api_token(user=operator, name="skrip")
    issue_api_token(user=make_staff(Role.SUPERVISOR), name="milik-orang-lain")
    response = client.get("/api/v1/auth/tokens", **bearer(first))
    assert response.status_code == 200
    listed = response.json()
    assert sorted(t["name"] for t in listed) == ["laptop", "skrip"]
    assert [t["current"] for t in listed if t["name"] == "laptop"] == [True]
    assert first not in response.content.decode()
    assert all(t["revoked_at"] is None and t["expires_at"] for t in listed)


def test_the_owner_revokes_a_token_and_it_stops_working(client, operator):
    keeper = issue_api_token(user=operator, name="laptop")
    lost = issue_api_token(user=operator, name="hilang")
    lost_id = ApiToken.objects.get(name="hilang").id
    response = client.delete(f"/api/v1/auth/tokens/{lost_id}", **bearer(keeper))
    assert response.status_code == 204
    assert not works(client, lost)
    assert works(client, keeper)
    # Revoking again is harmless.
    assert client.delete(f"/api/v1/auth/tokens/{lost_id}", **bearer(keeper)).status_code == 204


def test_nobody_revokes_another_users_token(client, operator, make_staff):
    mine = issue_api_token(user=operator, name="saya")
    theirs = issue_api_token(user=make_staff(Role.SUPERVISOR), name="mereka")
    their_id = ApiToken.objects.get(name="mereka").id
    response = client.delete(f"/api/v1/auth/tokens/{their_id}", **bearer(mine))
    assert response.status_code == 404
    assert "tidak ditemukan" in response.json()["detail"]
    assert works(client, theirs)


@pytest.mark.parametrize("token_id", [str(uuid.uuid4()), "bukan-uuid", "1"])
def test_revoking_an_unknown_or_malformed_id_is_a_clear_answer(client, operator, token_id):
    mine = issue_api_token(user=operator, name="saya")
    response = client.delete(f"/api/v1/auth/tokens/{token_id}", **bearer(mine))
    assert response.status_code in (404, 422)
    assert response.json()["detail"]


def test_listing_tokens_needs_a_token(client):
    assert client.get("/api/v1/auth/tokens").status_code == 401
