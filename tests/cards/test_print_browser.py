"""Printing at the counter in a real browser: pick the point, print, hand over."""

from __future__ import annotations

import pytest

from ektp.cards.models import CardPrint
from ektp.residents.models import KtpStatus
from tests.cards.factories import PrrResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_prints_a_card_and_hands_it_over(
    live_server, log_in, page, operator, stocked_point
):
    resident = PrrResidentFactory()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, operator)

    page.goto(f"{live_server.url}/cetak/")
    page.select_option("#id_titik", str(stocked_point.pk))
    page.click("text=Tampilkan")
    row = page.locator("tbody tr", has_text=resident.name).first
    assert resident.masked_nik in row.inner_text()
    row.locator("button", has_text="Cetak").click()

    awaiting = page.locator("tr", has_text="180926000001")
    awaiting.wait_for()
    assert resident.name in awaiting.inner_text()
    card = CardPrint.objects.get(resident=resident)
    assert card.blank.serial == "180926000001"

    awaiting.locator("input[name=received_by_name]").fill("Budi Santoso")
    awaiting.locator("button", has_text="Serahkan").click()
    page.wait_for_selector("text=Tidak ada kartu yang menunggu diserahkan.")
    resident.refresh_from_db()
    assert resident.ktp_status == KtpStatus.CARD_ISSUED
    assert not problems, problems
