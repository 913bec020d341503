"""Recording at the counter in a real browser: find, record with an exception, send."""

from __future__ import annotations

import pytest

from ektp.enrollment.models import Enrollment
from tests.enrollment.factories import open_point
from tests.residents.factories import ResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_records_with_an_amputated_finger_and_sends_for_penunggalan(
    live_server, log_in, page, operator
):
    resident = ResidentFactory()
    _point, kit = open_point()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, operator)

    page.goto(f"{live_server.url}/perekaman/")
    page.fill("#id_q", resident.nik)
    page.click("button:has-text('Cari')")
    page.locator("tr", has_text=resident.nik).locator("a", has_text="Rekam").click()
    page.wait_for_selector(f"text={kit.serial_number}")

    page.select_option("select[name=device]", str(kit.pk))
    page.select_option("select[name=exc_finger_l5]", "amputasi")
    page.fill("[name=note_finger_l5]", "Kecelakaan kerja")
    page.click("button:has-text('Rekam biometrik')")
    page.wait_for_selector("text=terekam.")
    resident.refresh_from_db()
    assert resident.ktp_status == "BIO_CAPTURED"
    assert Enrollment.objects.get(resident=resident).recordings == 1

    page.click("button:has-text('Kirim untuk penunggalan')")
    page.wait_for_selector("text=Dikirim untuk penunggalan")
    resident.refresh_from_db()
    assert resident.ktp_status in {"SENT_FOR_ENROLLMENT", "PRINT_READY_RECORD"}
    assert "Amputasi" in page.content()
    assert not problems, problems
