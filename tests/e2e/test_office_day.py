"""The head of office opens the day in ektp's own pages; the gate prints a receipt ticket;
the board announces a call."""

import datetime as dt

import pytest
from django.utils import timezone

from ektp.appointments import services
from ektp.appointments.models import Counter
from ektp.core.models import Role
from tests.appointments.factories import open_on, point_with_kits
from tests.e2e.test_staff_flow import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STUB_PRINT_AND_SPEECH = """
window.__printed = 0;
window.print = function () { window.__printed += 1; };
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = function (u) { window.__spoken.push(u.lang + "|" + u.text); };
}
"""


def test_head_adds_a_counter_and_the_gate_then_offers_it(live_server, page, make_staff, look):
    point = point_with_kits(name="Kantor Dinas Gedong Tataan")
    head = make_staff(Role.SUPERVISOR)
    _login(page, live_server.url, head)
    page.wait_for_selector("h1:has-text('Selamat datang')")
    page.click(".tiles a:has-text('Persiapan kantor')")
    page.wait_for_selector("h1:has-text('Persiapan kantor')")
    assert "Belum ada loket" in page.inner_text("table")
    look(page, "persiapan-kantor")
    page.click("table a:has-text('Loket')")
    page.fill("#id_name", "Loket 1")
    page.click("button:has-text('Buka loket')")
    page.wait_for_selector(".messages :text('Loket Loket 1 dibuka')")
    assert Counter.objects.get(service_point=point).name == "Loket 1"
    page.click("a:has-text('Gerbang')")
    page.wait_for_selector("h1:has-text('Gerbang')")
    assert "Loket 1" in page.inner_text("#loket")
    assert "Belum ada loket" not in page.inner_text("#loket")
    look(page, "gerbang")


def test_gate_ticket_prints_on_a_receipt_and_the_board_announces_the_call(
    live_server, page, make_staff, look
):
    point = point_with_kits(name="Kantor Dinas Gedong Tataan")
    open_on(point, timezone.localdate(), dt.time(0, 0), dt.time(23, 59))
    counter = Counter.objects.create(service_point=point, name="Loket 2")
    page.add_init_script(STUB_PRINT_AND_SPEECH)
    _login(page, live_server.url, make_staff(Role.GATE_OFFICER))
    page.wait_for_selector("h1:has-text('Selamat datang')")
    page.goto(f"{live_server.url}/antrean/titik/{point.pk}/gerbang/")
    page.click("button:has-text('Ambil nomor antrean')")
    page.wait_for_selector(".ticket .big:has-text('B-001')")
    look(page, "tiket")
    page.click("button:has-text('Cetak')")
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    assert not page.is_visible(".topbar nav") and not page.is_visible("#print-ticket")
    assert page.is_visible(".ticket .big")
    font = page.eval_on_selector(".ticket", "el => getComputedStyle(el).fontFamily")
    assert "mono" in font.lower()
    page.emulate_media(media="screen")
    assert page.is_visible("#print-ticket")

    page.goto(f"{live_server.url}/janji/papan/{point.pk}/")
    page.check("#board-speech")  # the user gesture that lets the board speak
    page.wait_for_function("() => window.__spoken.length === 1")  # the sample announcement
    services.call_next(counter=counter, actor=make_staff(Role.OPERATOR))
    page.wait_for_function("() => window.__spoken.length === 2", timeout=15000)
    assert page.evaluate("window.__spoken[1]") == "id-ID|Nomor antrean B, 1, silakan ke Loket 2."
    look(page, "papan")
