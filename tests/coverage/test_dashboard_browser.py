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
