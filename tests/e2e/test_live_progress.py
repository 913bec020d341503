"""Long work shows progress: the page follows a background job and shows its end without reload."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError

from ektp.core.models import Job, Role
from ektp.dedup.tasks import scan_region
from tests.dedup.factories import distinct_person
from tests.residents.factories import ResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_the_scan_page_shows_the_result_without_reload(
    live_server, log_in, page, make_staff, settings
):
    settings.TASKS = DUMMY  # the test plays the worker below
    for i in range(5):
        ResidentFactory(**distinct_person(i))
    supervisor = make_staff(Role.SUPERVISOR)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, supervisor)

    page.goto(f"{live_server.url}/penunggalan/")
    page.fill("#id_region", "18.09")
    page.click("button:has-text('Pindai registri')")
    page.wait_for_selector(".job >> text=Dalam antrean")
    page.evaluate("window.__samePage = true")

    job = Job.objects.get(started_by=supervisor)
    # SQLite's in-memory test database is one shared cache: while the live server's thread reads
    # the job for the page's poll, a write from this thread is refused with "table is locked"
    # at once (a file database waits instead). The task is safe to run twice: try again.
    for attempt in range(5):
        try:
            scan_region.call(region="18.09", job_id=str(job.pk))
            break
        except OperationalError as error:
            if "locked" not in str(error) or attempt == 4:
                raise
            time.sleep(0.2)

    page.wait_for_selector(".job >> text=kasus data ganda baru", timeout=15_000)
    assert page.locator(".job [data-field=state_label]").inner_text() == "Selesai"
    assert page.evaluate("window.__samePage === true"), "the page was reloaded"
    assert page.locator(".job progress").is_hidden()
    assert page.locator(".job a", has_text="Lihat hasil").is_visible()
    assert not problems, problems
