import pytest

from ektp.core import otp
from ektp.core.models import Role
from tests.conftest import EVERY_ROLE, PASSWORD
from tests.residents.factories import ResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, base, user):
    """Log in through the form, with the TOTP code when the role needs one."""
    device = otp.enrol_confirmed(user) if otp.second_factor_required(user) else None
    page.goto(f"{base}/masuk/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    if device is not None:
        page.wait_for_selector("#id_token")
        page.fill("#id_token", otp.current_code(device))
        page.press("#id_token", "Enter")  # the top bar's first button is Keluar


def test_each_role_logs_in_and_finds_a_resident_by_nik(live_server, page, make_staff):
    resident = ResidentFactory(name="RATNA SARI", address_region_id="18.09.01.2001")
    for role, region in EVERY_ROLE:
        user = make_staff(role, region=region)
        _login(page, live_server.url, user)
        page.wait_for_selector("h1:has-text('Selamat datang')")
        page.goto(f"{live_server.url}/penduduk/")
        page.fill("#id_q", resident.nik)
        page.click("form.card button[type=submit]")
        page.wait_for_selector("h1:has-text('RATNA SARI')")
        assert resident.nik in page.content()
        page.click("text=Keluar")
        page.wait_for_url("**/masuk/")


def test_operator_registers_a_resident_and_sees_rule_messages(live_server, page, make_staff):
    user = make_staff(Role.OPERATOR, region="18.09")
    _login(page, live_server.url, user)
    page.goto(f"{live_server.url}/penduduk/baru/")
    page.fill("#id_nik", "1809011705900000")
    page.fill("#id_name", "Joko Widodo")
    page.click("button:has-text('Simpan')")
    page.wait_for_selector(".errorlist")
    text = page.content()
    assert "0000" in text and "Wajib diisi" in text
    page.fill("#id_nik", "1809011705900001")
    page.fill("#id_birth_place", "Gedong Tataan")
    page.fill("#id_birth_date", "1990-05-17")
    page.fill("#id_mother_name", "Sulastri")
    page.fill("#id_address_region", "18.09.01.2001")
    page.fill("#id_rt", "3")
    page.fill("#id_rw", "1")
    page.click("button:has-text('Simpan')")
    page.wait_for_selector("h1:has-text('JOKO WIDODO')")
    assert "terdaftar" in page.content()
