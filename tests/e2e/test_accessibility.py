"""Every page of every role's menu, and the public pages on a 360-px phone, pass axe-core's
contrast and label rules on a small seeded district; the public pages do not scroll sideways."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.models import Counter
from ektp.core.models import Role
from ektp.offices.models import ServicePoint
from ektp.residents.models import Resident
from tests.appointments.factories import open_on
from tests.conftest import EVERY_ROLE
from tests.e2e.a11y import violations
from tests.e2e.test_staff_flow import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def seeded_district(db):
    """Pesawaran with a few hundred residents, its offices, service points, stock and
    recordings (as `make demo` prepares it, smaller)."""
    call_command(
        "seed",
        region="18.09",
        seed=7,
        residents=300,
        today=timezone.localdate().isoformat(),
        no_progress=True,
        stdout=io.StringIO(),
    )


def _checked(page, shots, name: str) -> list[str]:
    """Save the page's screenshot and return its axe-core findings, each with its address."""
    shots.save(page, name)
    return [f"{page.url}: {line}" for line in violations(page)]


def _fits_a_phone(page) -> list[str]:
    width = page.evaluate("document.documentElement.scrollWidth")
    return [] if width <= PHONE["width"] else [f"{page.url}: {width} px"]


@pytest.mark.parametrize(("role", "region"), EVERY_ROLE, ids=[role for role, _ in EVERY_ROLE])
def test_every_menu_page_passes_contrast_and_label_rules(
    role, region, seeded_district, live_server, page, make_staff, shots
):
    _login(page, live_server.url, make_staff(role, region=region))
    page.wait_for_selector("h1:has-text('Selamat datang')")
    menu = page.eval_on_selector_all(".topbar nav a", "links => links.map(a => a.href)")
    assert menu, "the menu is empty"
    found = []
    for url in [f"{live_server.url}/", *menu]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        found += _checked(page, shots, url.split("//", 1)[-1].split("/", 1)[-1] or "beranda")
    assert not found, "axe-core:\n" + "\n".join(found)


def test_public_pages_fit_a_phone_and_pass_contrast_and_label_rules(
    seeded_district, live_server, browser, make_staff, shots
):
    point = ServicePoint.objects.filter(is_active=True).first()
    open_on(point, timezone.localdate(), dt.time(0, 0), dt.time(23, 59))
    counter = Counter.objects.create(service_point=point, name="Loket 1")
    gate = make_staff(Role.GATE_OFFICER)
    for _ in range(2):
        services.issue_walk_in(point=point, actor=gate)
    services.call_next(counter=counter, actor=make_staff(Role.OPERATOR))
    resident = Resident.objects.filter(recorded_on__isnull=False).first()
    context = browser.new_context(locale="id-ID", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    found, wide = [], []
    try:
        for path, name in [
            ("/cek/", "cek"),
            ("/janji/", "janji"),
            ("/verify/", "verify"),
            (f"/janji/papan/{point.pk}/", "papan"),
        ]:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            found += _checked(page, shots, name)
            wide += _fits_a_phone(page)
        page.goto(f"{live_server.url}/cek/")  # a wrong birth date, then the resident's answer
        page.fill("#id_nik", resident.nik)
        page.fill("#id_birth_date", "31-02-1990")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        found += _checked(page, shots, "cek-salah")
        wide += _fits_a_phone(page)
        page.fill("#id_nik", resident.nik)
        page.fill("#id_birth_date", resident.birth_date.strftime("%d-%m-%Y"))
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert resident.nik[-4:] in page.inner_text("main")  # the answer names the NIK, masked
        found += _checked(page, shots, "cek-jawaban")
        wide += _fits_a_phone(page)
    finally:
        context.close()
    assert not wide, "wider than a 360-px phone:\n" + "\n".join(wide)
    assert not found, "axe-core:\n" + "\n".join(found)
