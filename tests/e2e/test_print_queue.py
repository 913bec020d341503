"""The print operator finds a recorded resident on /cetak/ by NIK, and the head of office sees
the same PRR count on the dashboard, the stock page and the print queue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from ektp.core.models import Role
from tests.cards.factories import OfficeFactory, PrrResidentFactory
from tests.e2e.test_staff_flow import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _count(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_print_operator_finds_a_prr_resident_by_nik_and_every_page_counts_the_same(
    live_server, page, make_staff
):
    OfficeFactory()
    today = timezone.localdate()
    residents = [
        PrrResidentFactory(recorded_on=today - dt.timedelta(days=60 - i)) for i in range(55)
    ]
    wanted = PrrResidentFactory(name="SITI RAHAYU", recorded_on=today - dt.timedelta(days=1))

    operator = make_staff(Role.OPERATOR, region="18.09")
    _login(page, live_server.url, operator)
    page.goto(f"{live_server.url}/cetak/?kab=18.09")
    page.wait_for_selector("h1:has-text('Antrean cetak')")
    assert "SITI RAHAYU" not in page.content()  # on a later page of 56
    page.fill("#id_q", wanted.nik)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("td:has-text('SITI RAHAYU')")
    row = page.locator("tr", has_text="SITI RAHAYU")
    assert row.locator("td").first.inner_text().strip() == "56"  # its place in the whole queue
    queue_count = _count(page.locator("[data-testid=prr-count]").inner_text())
    page.click("text=Keluar")

    head = make_staff(Role.SUPERVISOR, region="18.09")
    _login(page, live_server.url, head)
    page.goto(f"{live_server.url}/cakupan/?wilayah=18.09")
    dashboard_count = _count(page.locator("[data-testid=prr-count]").inner_text())
    page.goto(f"{live_server.url}/cetak/stok/?kab=18.09")
    stock_count = _count(page.locator("[data-testid=prr-count]").inner_text())
    assert queue_count == dashboard_count == stock_count == len(residents) + 1
