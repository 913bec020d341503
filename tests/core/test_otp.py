"""The second factor: TOTP for head of office, province and system admins, open to all."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from ektp.core import otp
from ektp.core.models import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttling_between_tries(settings):
    """django-otp makes a device wait longer after each wrong code (1 s, 2 s, ...): these
    tests try a wrong code and the right one at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


REQUIRED = [(Role.SUPERVISOR, "18.09"), (Role.PROVINCE_ADMIN, "18"), (Role.SYSTEM_ADMIN, None)]


def password_login(client, user):
    response = client.post(reverse("core:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


@pytest.mark.parametrize(("role", "region"), REQUIRED)
def test_a_required_role_without_a_device_is_led_to_enrol_one(make_staff, role, region):
    user = make_staff(role, region=region)
    client = Client()
    password_login(client, user)
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("core:otp_enrol"))
    # Personal data stays out of reach until the device is confirmed.
    assert client.get(reverse("residents:search")).status_code == 302
    page = client.get(home["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert "<svg" in html and otp.secret_of(device) in html
    wrong = client.post(home["Location"], {"token": "000000"})
    assert "Kode salah" in wrong.content.decode()
    confirmed = client.post(home["Location"], {"token": otp.current_code(device)})
    assert confirmed.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200


@pytest.mark.parametrize(("role", "region"), REQUIRED)
def test_a_required_role_gives_its_code_after_the_password(make_staff, role, region):
    user = make_staff(role, region=region)
    device = otp.enrol_confirmed(user)
    client = Client()
    password_login(client, user)
    asked = client.get(reverse("core:home"))
    assert asked["Location"].startswith(reverse("core:otp_verify"))
    for bad in ("", "abcdef", "²³⁴⁵⁶⁷", "1" * 50, "000000"):
        response = client.post(reverse("core:otp_verify"), {"token": bad})
        assert response.status_code == 200
    assert client.get(reverse("core:home")).status_code == 302
    client.post(reverse("core:otp_verify"), {"token": otp.current_code(device)})
    assert client.get(reverse("core:home")).status_code == 200


def test_an_operator_gets_in_without_a_code_but_may_enrol_one(make_staff):
    operator = make_staff(Role.OPERATOR)
    client = Client()
    password_login(client, operator)
    assert client.get(reverse("core:home")).status_code == 200
    enrol = client.get(reverse("core:otp_enrol"))
    assert enrol.status_code == 200
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    client.post(reverse("core:otp_enrol"), {"token": otp.current_code(device)})
    # Once enrolled, the next login asks for the code too.
    again = Client()
    password_login(again, operator)
    assert again.get(reverse("core:home"))["Location"].startswith(reverse("core:otp_verify"))


def test_the_code_page_does_not_redirect_elsewhere(make_staff):
    user = make_staff(Role.SUPERVISOR)
    device = otp.enrol_confirmed(user)
    client = Client()
    password_login(client, user)
    response = client.post(
        reverse("core:otp_verify"),
        {"token": otp.current_code(device), "next": "https://jahat.example/"},
    )
    assert response["Location"] == reverse("core:home")


@pytest.mark.parametrize(("role", "region"), REQUIRED)
def test_the_api_token_exchange_asks_a_required_role_for_its_code(client, make_staff, role, region):
    user = make_staff(role, region=region)
    body = {"username": user.username, "password": PASSWORD}
    no_device = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert no_device.status_code == 401
    assert "autentikator" in no_device.json()["detail"]
    device = otp.enrol_confirmed(user)
    for bad in ("", "123", "000000"):
        response = client.post(
            "/api/v1/auth/token", {**body, "otp": bad}, content_type="application/json"
        )
        assert response.status_code == 401
    good = client.post(
        "/api/v1/auth/token",
        {**body, "otp": otp.current_code(device)},
        content_type="application/json",
    )
    assert good.status_code == 200 and good.json()["token"]


def test_an_operator_exchanges_a_token_without_a_code(client, operator):
    response = client.post(
        "/api/v1/auth/token",
        {"username": operator.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200


def test_otp_code_prints_a_demo_accounts_current_code(make_staff, capsys):
    user = make_staff(Role.SUPERVISOR, username="kadis")
    device = otp.enrol_confirmed(user)
    call_command("otp_code", "kadis")
    assert capsys.readouterr().out.strip() == otp.current_code(device)
    with pytest.raises(CommandError):
        call_command("otp_code", "tidak-ada")


def test_otp_code_refuses_in_production(make_staff, settings):
    make_staff(Role.SUPERVISOR, username="kadis")
    settings.ENVIRONMENT = "production"
    with pytest.raises(CommandError, match="produksi"):
        call_command("otp_code", "kadis")


def test_wrong_codes_make_the_device_wait(make_staff, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    user = make_staff(Role.SUPERVISOR)
    device = otp.enrol_confirmed(user)
    client = Client()
    password_login(client, user)
    client.post(reverse("core:otp_verify"), {"token": "000000"})
    # Right after a wrong code even the right one is refused for a while.
    client.post(reverse("core:otp_verify"), {"token": otp.current_code(device)})
    assert client.get(reverse("core:home")).status_code == 302


def test_the_demo_logins_enrol_the_accounts_that_need_a_code(make_staff, capsys):
    kadis = make_staff(Role.SUPERVISOR, username="kadis")
    operator = make_staff(Role.OPERATOR, username="operator")
    call_command("demo_logins")
    out = capsys.readouterr().out
    assert "ektp otp_code kadis" in out
    assert otp.has_device(kadis) and not otp.has_device(operator)
    # The printed way to the code works: a newcomer gets straight in.
    call_command("otp_code", "kadis")
    code = capsys.readouterr().out.strip()
    client = Client()
    password_login(client, kadis)
    client.post(reverse("core:otp_verify"), {"token": code})
    assert client.get(reverse("core:home")).status_code == 200


@pytest.mark.parametrize("enrolled", [True, False], ids=["code page", "enrolment page"])
def test_the_second_factor_page_shows_no_menu_and_no_data_before_the_code(make_staff, enrolled):
    supervisor = make_staff(Role.SUPERVISOR)
    device = otp.enrol_confirmed(supervisor) if enrolled else None
    client = Client()
    password_login(client, supervisor)
    page = client.get(reverse("core:otp_verify" if enrolled else "core:otp_enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    for hidden in (
        reverse("residents:search"),
        reverse("coverage:dashboard"),
        supervisor.region.name,
        supervisor.get_role_display(),
    ):
        assert hidden not in html
    assert reverse("core:logout") in html  # the way out stays
    if device is None:
        device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
        client.post(reverse("core:otp_enrol"), {"token": otp.current_code(device)})
    else:
        client.post(reverse("core:otp_verify"), {"token": otp.current_code(device)})
    home = client.get(reverse("core:home")).content.decode()
    assert reverse("residents:search") in home and supervisor.region.name in home


def test_a_key_read_from_someone_elses_enrolment_page_is_never_the_one_confirmed(make_staff):
    """The password alone opens the enrolment page: whoever else opened it must not end up
    holding the key the user then confirms."""
    from django_otp.oath import TOTP

    supervisor = make_staff(Role.SUPERVISOR)
    intruder, owner = Client(), Client()
    password_login(intruder, supervisor)
    intruder.get(reverse("core:otp_enrol"))
    intruder_key = TOTPDevice.objects.get(user=supervisor, confirmed=False).bin_key
    password_login(owner, supervisor)
    page = owner.get(reverse("core:otp_enrol")).content.decode()
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert device.bin_key != intruder_key
    assert otp.secret_of(device) in page
    confirmed = owner.post(reverse("core:otp_enrol"), {"token": otp.current_code(device)})
    assert confirmed.status_code == 302
    assert TOTPDevice.objects.get(user=supervisor, confirmed=True).bin_key != intruder_key
    # A code from the key the intruder was shown confirms nothing.
    intruder_code = f"{TOTP(intruder_key).token():06d}"
    intruder.post(reverse("core:otp_enrol"), {"token": intruder_code})
    assert TOTPDevice.objects.filter(user=supervisor, confirmed=True).count() == 1
