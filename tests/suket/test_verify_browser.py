"""The public verification page of a suket fits a 360-px phone, in a real browser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.suket.services import issue_suket
from tests.suket.factories import RecordedResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="id-ID", viewport={"width": 360, "height": 640}, is_mobile=True
    )
    page = context.new_page()
    yield page
    context.close()


def _wider_than_the_screen(page) -> list[str]:
    """Name the elements that stick out past the right edge (to say what to fix)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
             .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )


def test_verify_page_of_a_suket_fits_a_360_px_phone(live_server, phone, office, operator):
    suket = issue_suket(
        resident=RecordedResidentFactory(name="RATNA SARI DEWI KUSUMAWARDHANI"),
        office=office,
        officer=operator,
    )
    for path in (
        reverse("verify:verify", args=[suket.number]),
        reverse("verify:verify", args=["474.11/9999/SKT/18.09/XII/2026-TIDAK-ADA"]),
        reverse("verify:form"),
    ):
        phone.goto(f"{live_server.url}{path}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width, _wider_than_the_screen(phone))
