"""The zones page in a real browser: a province admin corrects overlapping thresholds."""

from __future__ import annotations

import pytest

from ektp.core.models import Role
from ektp.coverage.models import CoveragePolicy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_province_admin_sets_thresholds_after_an_overlap_is_pointed_out(
    live_server, log_in, page, make_staff
):
    user = make_staff(Role.PROVINCE_ADMIN, region="18")
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.text} @ {m.location}")
            if m.type == "error"
            and not any(s in m.location.get("url", "") for s in ("htmx", "favicon"))
            and "status of 422" not in m.text  # the refused form, answered on purpose
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, user)
    page.goto(f"{live_server.url}/jemput-bola/zona/")
    form = page.locator("#form-kebijakan")
    form.locator("#id_region").fill("18")
    form.locator("#id_green_min").fill("80")
    form.locator("#id_yellow_min").fill("85")
    form.locator("#id_valid_from").fill("2026-01-01")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-kebijakan .errorlist")
    assert "tidak boleh tumpang tindih" in form.inner_text()
    assert not CoveragePolicy.objects.exists()
    form.locator("#id_green_min").fill("90")
    form.locator("#id_yellow_min").fill("75")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Kebijakan zona tersimpan")
    row = page.locator("table").first.inner_text()
    assert "(18)" in row and ("90,00 %" in row or "90.00 %" in row)
    policy = CoveragePolicy.objects.get()
    assert (str(policy.green_min), str(policy.yellow_min)) == ("90.00", "75.00")
    assert not problems, problems
