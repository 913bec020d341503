import pytest
from django.test import override_settings
from django.urls import reverse

from ektp.core import otp
from ektp.core.models import AuditEvent, Role
from ektp.core.services import InvalidStaffAssignment
from tests.conftest import EVERY_ROLE, PASSWORD
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "region"), EVERY_ROLE)
def test_each_role_logs_in_and_sees_its_home(client, make_staff, role, region):
    user = make_staff(role, region=region)
    response = client.post(reverse("core:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    if otp.second_factor_required(user):  # the second factor first (see test_otp.py)
        device = otp.enrol_confirmed(user)
        response = client.post(reverse("core:otp_verify"), {"token": otp.current_code(device)})
        assert response.status_code == 302
    home = client.get(reverse("core:home"))
    assert home.status_code == 200
    assert user.get_role_display() in home.content.decode()
    assert AuditEvent.objects.filter(user=user, action="login").exists()


def test_office_staff_must_be_bound_to_a_kabkota(make_staff):
    with pytest.raises(InvalidStaffAssignment):
        make_staff(Role.OPERATOR, region="18")
    with pytest.raises(InvalidStaffAssignment):
        make_staff(Role.PROVINCE_ADMIN, region="18.09")


def test_wrong_password_shows_an_indonesian_message(client, operator):
    response = client.post(
        reverse("core:login"), {"username": operator.username, "password": "salah"}
    )
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in response.content.decode()
    assert AuditEvent.objects.filter(action="login_failed").exists()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_even_with_the_right_password(client, operator):
    for _ in range(3):
        client.post(reverse("core:login"), {"username": operator.username, "password": "salah"})
    response = client.post(
        reverse("core:login"), {"username": operator.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "terkunci" in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=2)
def test_api_token_lockout_answers_json(client, operator):
    for _ in range(2):
        client.post(
            "/api/v1/auth/token",
            {"username": operator.username, "password": "x"},
            content_type="application/json",
        )
    response = client.post(
        "/api/v1/auth/token",
        {"username": operator.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert "terkunci" in response.json()["detail"]


def test_pages_need_login(client):
    response = client.get(reverse("residents:search"))
    assert response.status_code == 302 and reverse("core:login") in response["Location"]


def test_security_headers_and_csp(operator_client):
    response = operator_client.get(reverse("core:home"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_csrf_is_enforced(operator):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    response = strict.post(reverse("residents:create"), {})
    assert response.status_code == 403


def test_jurisdiction_hides_residents_of_another_district(client, make_staff):
    here = ResidentFactory(address_region_id="18.09.01.2001")
    there = ResidentFactory(address_region_id="18.71.01.1003")
    op = make_staff(Role.OPERATOR, region="18.09")
    client.force_login(op)
    assert client.get(reverse("residents:detail", args=[here.nik])).status_code == 200
    assert client.get(reverse("residents:detail", args=[there.nik])).status_code == 404
    province = make_staff(Role.PROVINCE_ADMIN, region="18")
    client.force_login(province)
    assert client.get(reverse("residents:detail", args=[there.nik])).status_code == 200
    other_province = make_staff(Role.PROVINCE_ADMIN, region="31", username="dki")
    client.force_login(other_province)
    assert client.get(reverse("residents:detail", args=[here.nik])).status_code == 404


def test_gate_officer_cannot_register_residents(client, make_staff):
    client.force_login(make_staff(Role.GATE_OFFICER))
    response = client.get(reverse("residents:create"))
    assert response.status_code == 403
    assert "tidak diizinkan" in response.content.decode()


def test_unknown_page_is_a_friendly_404(operator_client):
    response = operator_client.get("/tidak-ada/")
    assert response.status_code == 404
    assert "tidak ditemukan" in response.content.decode().lower()
