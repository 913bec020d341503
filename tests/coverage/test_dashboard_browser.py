"""The dashboard in a real browser: plotly loads locally, charts and map draw, CSP holds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.core.models import Role
from tests.coverage.factories import adults

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_supervisor_dashboard_draws_charts_and_map_without_csp_errors(
    live_server,
    log_in,
    page,
    make_staff,
):
    adults("18.09.01.2001", 5, recorded=5)
    adults("18.09.01.2002", 5, recorded=2, recorded_on=timezone.localdate() - dt.timedelta(days=3))
    user = make_staff(Role.SUPERVISOR, region="18.09")
    problems: list[str] = []
    # htmx's own indicator style is base.html's business (htmx-config includeIndicatorStyles).
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.text} @ {m.location}")
            if m.type == "error"
            and not any(s in m.location.get("url", "") for s in ("htmx", "favicon"))
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, user)
    page.goto(f"{live_server.url}/cakupan/")
    page.wait_for_selector("#chart-children .main-svg")
    page.wait_for_selector("#chart-villages .main-svg")
    page.wait_for_selector("#chart-map .main-svg")
    page.wait_for_selector("#chart-per-day .main-svg")
    header = page.locator("table[data-sortable] th", has_text="Belum rekam").first
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert not problems, problems


def test_trend_axis_and_legend_read_in_indonesian_and_the_map_names_places(
    live_server, log_in, page, make_staff
):
    from pathlib import Path

    from ektp.coverage.services import backfill_snapshots

    today = timezone.localdate()
    adults("18.09.01.2001", 4, recorded=3, recorded_on=today - dt.timedelta(days=2))
    adults("18.09.02.2001", 3, recorded=1, recorded_on=today - dt.timedelta(days=1))
    backfill_snapshots(within="18.09", days=5, today=today - dt.timedelta(days=1))
    log_in(page, make_staff(Role.SUPERVISOR, region="18.09"))
    page.goto(f"{live_server.url}/cakupan/")
    page.wait_for_selector("#chart-trend .main-svg")
    page.wait_for_selector("#chart-map .main-svg")
    ticks = page.locator("#chart-trend .xtick text").all_text_contents()
    months = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
    assert ticks and all(t.split()[-1] in months for t in ticks), ticks
    assert not any(":" in t for t in ticks)
    legend = page.locator("#chart-per-day .legendtext").all_text_contents()
    assert legend and not any(t[:1].isdigit() for t in legend), legend
    from ektp.regions.models import Region

    kecamatan = Region.objects.get(code="18.09.01").name
    assert kecamatan in page.locator("#chart-map text").all_text_contents()
    Path("var").mkdir(exist_ok=True)
    page.screenshot(path="var/coverage-dashboard.png", full_page=True)
