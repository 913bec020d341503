"""A resident books a recording slot from a small phone screen, in a real browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.appointments.models import Booking, BookingStatus
from tests.appointments.factories import ResidentFactory, open_on, point_with_kits

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 640}


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="id-ID", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page, problems
    context.close()


def test_resident_books_and_cancels_a_window_on_a_phone(live_server, phone):
    page, problems = phone
    day = timezone.localdate() + dt.timedelta(days=3)
    point = point_with_kits(throughput=15)
    open_on(point, day, opens=dt.time(8, 0), closes=dt.time(10, 0))
    resident = ResidentFactory()

    page.goto(f"{live_server.url}/janji/")
    assert _no_horizontal_scroll(page)
    page.fill("input[name=nik]", resident.nik)
    page.fill("input[name=birth_date]", resident.birth_date.isoformat())
    page.click("button[type=submit]")
    page.wait_for_selector("text=Pilih jadwal perekaman")

    page.select_option("select[name=point]", str(point.pk))
    page.fill("input[name=day]", day.isoformat())
    page.click("text=Lihat jendela waktu")
    page.wait_for_selector("table")
    assert page.locator("tbody tr").count() == 2
    assert _no_horizontal_scroll(page)
    page.locator("tbody tr").first.locator("button", has_text="Pesan").click()

    booking = Booking.objects.get(resident=resident)
    page.wait_for_selector(f"h1:has-text('{booking.code}')")
    assert page.locator(f"img[alt='QR {booking.code}']").is_visible()
    assert page.locator(".status").inner_text() == "Terdaftar"
    assert resident.nik not in page.content()  # only the masked NIK is shown
    assert _no_horizontal_scroll(page)

    page.click("text=Batalkan booking")
    page.wait_for_selector("text=Janji temu dibatalkan.")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert not problems, problems


def test_wrong_birth_date_is_refused_without_saying_whether_the_nik_exists(live_server, phone):
    page, problems = phone
    resident = ResidentFactory()

    page.goto(f"{live_server.url}/janji/")
    page.fill("input[name=nik]", resident.nik)
    page.fill("input[name=birth_date]", (resident.birth_date + dt.timedelta(days=1)).isoformat())
    page.click("button[type=submit]")
    known = page.locator(".errorlist, .error, [role=alert]").first.inner_text()

    page.goto(f"{live_server.url}/janji/")
    page.fill("input[name=nik]", "1809010101900009")
    page.fill("input[name=birth_date]", resident.birth_date.isoformat())
    page.click("button[type=submit]")
    unknown = page.locator(".errorlist, .error, [role=alert]").first.inner_text()

    assert known == unknown
    assert "NIK" in known or "tanggal lahir" in known.lower()
    assert not problems, problems
