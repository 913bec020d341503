"""The head imports a KUA marriage file in the browser: uploads it, reads the preview (who
matched by NIK, what changes), applies it and opens the invitation of the bride who married
at 16 and so became wajib KTP without a recording."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.residents.models import MaritalStatus
from tests.appointments.factories import open_on, point_with_kits
from tests.offices.factories import OfficeFactory
from tests.partners.factories import csv_file, marriage_row
from tests.residents.factories import ResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_head_imports_marriages_previews_applies_and_sees_the_invitation(
    page, live_server, log_in, look, make_staff, tmp_path, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    today = timezone.localdate()
    office = OfficeFactory()
    point = point_with_kits(office=office, throughput=4, kind="kantor", name="Kantor Dinas")
    open_on(point, today + dt.timedelta(days=1))
    head = make_staff(Role.SUPERVISOR)
    groom = ResidentFactory(birth_date=today.replace(year=today.year - 22), name="RUDI HARTONO")
    bride = ResidentFactory(
        birth_date=today.replace(year=today.year - 16) - dt.timedelta(days=30),
        sex="P",
        name="SRI WAHYUNI",
    )
    married_on = (today - dt.timedelta(days=7)).isoformat()
    path = tmp_path / "nikah-kua-gedong-tataan.csv"
    path.write_bytes(csv_file("kua", [marriage_row(groom, bride, married_on=married_on)]))

    log_in(page, head)
    page.goto(f"{live_server.url}/mitra/")
    page.select_option("#id_kind", "kua")
    page.set_input_files("#id_file", str(path))
    look(page, "unggah")
    page.click("text=Baca dan periksa")
    page.wait_for_selector("#ringkasan")
    assert page.inner_text("[data-count=nik]") == "2"
    assert "menjadi wajib KTP sejak: " + married_on in page.content()
    bride.refresh_from_db()
    assert bride.marital_status == MaritalStatus.SINGLE  # the preview changed nothing
    look(page, "pratinjau")

    page.click("button:has-text('Terapkan')")
    page.wait_for_selector("#hasil")
    assert "Diundang merekam: 1" in page.inner_text("#hasil")
    look(page, "diterapkan")
    page.click("text=Lihat undangan perekaman")
    page.wait_for_selector("h1")
    assert "SRI WAHYUNI" in page.content()
    look(page, "undangan")
    bride.refresh_from_db()
    assert bride.marital_status == MaritalStatus.MARRIED
