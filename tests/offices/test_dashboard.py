"""The head of office's home page: the day's figures at a glance, each with two weeks of trend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.cards.forecast import office_cover
from ektp.core.models import Role
from ektp.coverage.services import backfill_snapshots
from ektp.offices import dashboard
from tests.coverage.factories import adults
from tests.outreach.factories import OfficeFactory

A1 = "18.09.01.2001"


def test_sparkline_points_span_the_box_and_skip_missing_days():
    points = dashboard.sparkline_points([0, None, 5, 10], width=90, height=24, pad=2)
    assert points.split() == ["0.0,22.0", "60.0,12.0", "90.0,2.0"]
    assert dashboard.sparkline_points([None, None]) == ""
    flat = dashboard.sparkline_points([3, 3, 3]).split()
    assert {p.split(",")[1] for p in flat} == {"12.0"}


def test_numbers_are_written_the_indonesian_way():
    assert dashboard.number(19825) == "19.825"
    assert dashboard.number(92.456, 2) == "92,46"
    assert dashboard.number(None) == "—"


@pytest.mark.django_db
def test_head_of_office_reads_the_day_with_two_weeks_of_trend(client, make_staff):
    today = timezone.localdate()
    office = OfficeFactory(region_id="18.09")
    head = make_staff(Role.SUPERVISOR, region="18.09")
    adults(A1, 3, recorded=3, recorded_on=today)
    adults(A1, 2, recorded=2, recorded_on=today - dt.timedelta(days=3))
    adults(
        A1, 2, recorded=2, recorded_on=today - dt.timedelta(days=1), ktp_status="PRINT_READY_RECORD"
    )
    adults(A1, 4)
    backfill_snapshots(within="18.09", days=5, today=today - dt.timedelta(days=1))

    tiles = {t.key: t for t in dashboard.head_dashboard(user=head, office=office, today=today)}
    assert set(tiles) == {"rekam", "prr", "cover", "suket", "janji", "datang", "cakupan"}
    assert all(len(t.series) == dashboard.TREND_DAYS == len(t.days) for t in tiles.values())
    assert tiles["rekam"].value == "3"
    assert tiles["rekam"].series[-4:] == [2.0, 0.0, 2.0, 3.0]
    assert tiles["prr"].value == dashboard.number(office_cover(office, today=today).backlog) == "2"
    assert tiles["cakupan"].value == "63,64 %"  # 7 of 11 wajib KTP
    cover_trend = tiles["cakupan"].series
    assert cover_trend[:-6] == [None] * 8 and None not in cover_trend[-6:]
    assert "terakhir 63,64" in tiles["cakupan"].trend_label

    client.force_login(head)
    html = client.get("/").content.decode()
    assert html.count('class="spark"') == 7
    assert "Perekaman hari ini" in html and "PRR menunggu cetak" in html
    assert "Ketahanan blangko" in html and "Suket terbit hari ini" in html


@pytest.mark.django_db
def test_other_roles_keep_their_link_page(client, make_staff):
    OfficeFactory(region_id="18.09")
    client.force_login(make_staff(Role.OPERATOR, region="18.09"))
    html = client.get("/").content.decode()
    assert 'class="spark"' not in html
    assert "Cari penduduk" in html


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_head_dashboard_in_a_browser_draws_sparklines(live_server, log_in, page, make_staff):
    from pathlib import Path

    OfficeFactory(region_id="18.09")
    adults(A1, 3, recorded=3, recorded_on=timezone.localdate() - dt.timedelta(days=2))
    log_in(page, make_staff(Role.SUPERVISOR, region="18.09"))
    page.goto(f"{live_server.url}/")
    assert page.locator(".dash-tile").count() == 7
    assert page.locator(".spark polyline").count() == 7
    Path("var").mkdir(exist_ok=True)
    page.screenshot(path="var/head-dashboard.png", full_page=True)
