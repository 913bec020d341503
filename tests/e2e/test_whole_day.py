"""A whole day at the office, in the browser, role after role: the head opens the day, the gate
gives numbers (priority first), an operator calls, records and sends for penunggalan and sees the
result without reloading, the print operator finds the resident by NIK, prints, hands over and
prints the receipt, the blanks run out and a suket is issued, the resident checks /cek/ on a phone,
and the head prints the daily report and the blank request letter.

Every page worth keeping is checked with axe-core's contrast and label rules and saved as a
screenshot under var/e2e-shots/test_whole_day/ (the `look` fixture)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.utils import timezone
from pypdf import PdfReader

from ektp.appointments.models import Counter
from ektp.cards import services as cards_services
from ektp.cards.models import CardPrint, LedgerEntry
from ektp.core.models import Role
from ektp.dedup.tasks import run_penunggalan
from ektp.enrollment.models import Enrollment
from ektp.residents.models import KtpStatus
from ektp.suket import signing
from ektp.suket.models import Suket
from tests.cards.factories import OfficeFactory, PrinterDeviceFactory, PrrResidentFactory
from tests.enrollment.factories import open_point
from tests.residents.factories import ResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def day_settings(settings, tmp_path):
    settings.TASKS = DUMMY_TASKS  # the journey plays the worker where a job must run
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EKTP_PRINT_JOB_DIR = tmp_path / "print-jobs"
    settings.EKTP_SUKET_QR_KEY = str(tmp_path / "qr.pem")
    settings.EKTP_SUKET_SIGNING_KEY = str(tmp_path / "key.pem")
    settings.EKTP_SUKET_SIGNING_CERT = str(tmp_path / "cert.pem")
    signing.office_keys()
    return settings


def pdf_text(page, url: str) -> str:
    """Fetch a document with the browser's session and return its text (it must be a PDF)."""
    response = page.request.get(url)
    assert response.status == 200, (url, response.status)
    assert response.headers["content-type"].startswith("application/pdf"), url
    reader = PdfReader(io.BytesIO(response.body()))
    return "\n".join(p.extract_text() for p in reader.pages)


@dataclass
class Day:
    base: str
    page: object
    browser: object
    look: object
    log_in: object
    office: object
    point: object
    kit: object
    head: object
    gate: object
    operator: object
    elder: object
    counter: object = None
    elder_number: str = ""
    head_page: object = None


def _opens_the_day(day: Day) -> None:
    """The head of office opens the day: a counter, in ektp's own pages (on the head's own
    computer, which stays signed in for the day)."""
    day.log_in(day.head_page, day.head)
    day.head_page.goto(f"{day.base}/kantor/persiapan/")
    day.look(day.head_page, "persiapan-kantor")
    day.head_page.goto(f"{day.base}/kantor/titik/{day.point.pk}/loket/")
    day.head_page.fill("#id_name", "Loket 1")
    day.head_page.click("button:has-text('Buka loket')")
    day.head_page.wait_for_selector(".messages :text('Loket Loket 1 dibuka')")
    day.counter = Counter.objects.get(service_point=day.point, name="Loket 1")
    day.look(day.head_page, "loket-dibuka")


def _gate_gives_numbers(day: Day) -> None:
    """The gate: a walk-in without priority first, then an elder, who is called first."""
    day.log_in(day.page, day.gate)
    day.page.goto(f"{day.base}/antrean/titik/{day.point.pk}/gerbang/")
    walk_in = day.page.locator("form", has=day.page.locator("input[name=action][value=walk_in]"))
    walk_in.locator("button:has-text('Ambil nomor antrean')").click()
    day.page.wait_for_selector(".ticket .big")
    first_number = day.page.inner_text(".ticket .big").strip()
    day.page.goto(f"{day.base}/antrean/titik/{day.point.pk}/gerbang/")
    walk_in = day.page.locator("form", has=day.page.locator("input[name=action][value=walk_in]"))
    walk_in.locator("input[name=nik]").fill(day.elder.nik)
    walk_in.locator("select[name=priority]").select_option("lansia")
    walk_in.locator("button:has-text('Ambil nomor antrean')").click()
    day.page.wait_for_selector(".ticket .big")
    day.elder_number = day.page.inner_text(".ticket .big").strip()
    assert day.elder_number != first_number
    day.look(day.page, "tiket-lansia")
    day.page.click("text=Keluar")


def _operator_records(day: Day) -> None:
    """The operator calls (the elder comes first), records, sends for penunggalan, and sees the result arrive on the same page."""
    day.log_in(day.page, day.operator)
    day.page.goto(f"{day.base}/antrean/loket/{day.counter.pk}/")
    day.page.click("button:has-text('Panggil nomor berikutnya')")
    day.page.wait_for_selector(f".big-number:has-text('{day.elder_number}')")
    day.look(day.page, "loket-memanggil")
    day.page.click("text=Rekam penduduk ini")
    day.page.wait_for_selector(f"text={day.kit.serial_number}")
    day.page.select_option("select[name=device]", str(day.kit.pk))
    day.page.click("button:has-text('Rekam biometrik')")
    day.page.wait_for_selector("text=terekam.")
    day.look(day.page, "terekam")
    day.page.click("button:has-text('Kirim untuk penunggalan')")
    day.page.wait_for_selector("text=Dikirim untuk penunggalan")
    day.page.evaluate("window.__samePage = true")
    enrollment = Enrollment.objects.get(resident=day.elder)
    run_penunggalan.call(enrollment_id=str(enrollment.pk))
    day.page.wait_for_selector("[data-field=status_label]:has-text('Siap cetak')", timeout=20_000)
    assert day.page.evaluate("window.__samePage === true"), "the page was reloaded"
    day.look(day.page, "hasil-penunggalan")


def _print_and_hand_over(day: Day) -> None:
    """Printing: the recorded resident is found by NIK, printed, handed over, with a receipt."""
    day.page.goto(f"{day.base}/cetak/?kab={day.office.region_id}&titik={day.point.pk}")
    day.page.fill("#id_q", day.elder.nik)
    day.page.click("form[role=search] button[type=submit]")
    row = day.page.locator("tbody tr", has_text="SITI AMINAH").first
    row.wait_for()
    day.look(day.page, "antrean-cetak")
    row.locator("button", has_text="Cetak").click()
    awaiting = day.page.locator("tr", has_text="180926000001")
    awaiting.wait_for()
    awaiting.locator("input[name=received_by_name]").fill("Siti Aminah")
    awaiting.locator("button", has_text="Serahkan").click()
    day.page.wait_for_selector("h2:has-text('Diserahkan hari ini')")
    day.elder.refresh_from_db()
    assert day.elder.ktp_status == KtpStatus.CARD_ISSUED
    card = CardPrint.objects.get(resident=day.elder)
    day.look(day.page, "diserahkan")
    receipt = day.page.locator("a", has_text="Cetak tanda terima").first.get_attribute("href")
    text = pdf_text(day.page, day.base + receipt)
    assert "TANDA TERIMA" in text.upper() and card.blank.serial in text


def _suket_when_blanks_run_out(day: Day) -> None:
    """The blanks have run out: the next resident ready to print gets a suket instead."""
    waiting = PrrResidentFactory(name="BUDI SANTOSO")
    day.page.goto(f"{day.base}/suket/?kab={day.office.region_id}")
    day.page.fill("input[name=nik]", waiting.nik)
    day.page.click("text=Periksa dan terbitkan")
    suket = Suket.objects.get(resident=waiting)
    day.page.wait_for_selector(f"text=Suket {suket.number} diterbitkan")
    day.look(day.page, "suket-terbit")
    day.page.click("text=Keluar")


def _resident_checks_on_a_phone(day: Day) -> None:
    """The resident checks /cek/ on a 360-px phone."""
    phone = day.browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    mobile = phone.new_page()
    mobile.goto(f"{day.base}/cek/")
    mobile.fill("#id_nik", day.elder.nik)
    mobile.fill("#id_birth_date", day.elder.birth_date.strftime("%d-%m-%Y"))
    mobile.click("button[type=submit]")
    mobile.wait_for_selector(".steps")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 360
    day.look(mobile, "cek-di-ponsel")
    phone.close()


def _head_closes_the_day(day: Day) -> None:
    """The head closes the day with the daily report and the blank request letter."""
    day.head_page.goto(f"{day.base}/naskah/rekap-harian/?kab={day.office.region_id}")
    day.look(day.head_page, "rekap-harian")
    report = pdf_text(
        day.head_page, f"{day.base}/naskah/rekap-harian/?kab={day.office.region_id}&format=pdf"
    )
    assert "REKAP" in report.upper() and day.point.name in report
    xlsx = day.head_page.request.get(
        f"{day.base}/naskah/rekap-harian/?kab={day.office.region_id}&format=xlsx"
    )
    assert xlsx.status == 200 and xlsx.body()[:2] == b"PK"
    day.head_page.goto(f"{day.base}/cetak/ketahanan/?kab={day.office.region_id}")
    day.look(day.head_page, "ketahanan-stok")
    day.head_page.click("button:has-text('Buat draf permohonan')")
    day.head_page.click("button:has-text('Ajukan')")
    day.head_page.wait_for_selector("text=Permohonan blangko diajukan.")
    day.head_page.click("table a:has-text('Surat')")
    letter = day.head_page.locator("a", has_text="Cetak surat permohonan (PDF)")
    letter.wait_for()
    day.look(day.head_page, "surat-permohonan")
    text = pdf_text(day.head_page, day.base + letter.get_attribute("href"))
    assert "blangko" in text.lower() and "Nomor" in text


def test_a_whole_day_at_the_office(
    live_server, browser, page, log_in, make_staff, look, day_settings
):
    base = live_server.url
    today = timezone.localdate()
    point, kit = open_point(office=OfficeFactory(), name="UPT Gedong Tataan")  # open all day
    office = point.office
    PrinterDeviceFactory(service_point=point)
    head = make_staff(Role.SUPERVISOR, username="kadis")
    gate = make_staff(Role.GATE_OFFICER, username="gerbang")
    operator = make_staff(Role.OPERATOR, username="operator")
    # One blank for the day: the second card of the day finds none.
    cards_services.receive_blanks(
        office=office,
        serial_first="180926000001",
        serial_last="180926000001",
        source=LedgerEntry.Source.MINISTRY,
        reference="B-001/DUKCAPIL/2026",
        actor=head,
    )
    cards_services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=1, actor=head
    )
    elder = ResidentFactory(name="SITI AMINAH", birth_date=today.replace(year=today.year - 64))
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    day = Day(base, page, browser, look, log_in, office, point, kit, head, gate, operator, elder)
    head_computer = browser.new_context(locale="id-ID")
    day.head_page = head_computer.new_page()
    try:
        _opens_the_day(day)
        _gate_gives_numbers(day)
        _operator_records(day)
        _print_and_hand_over(day)
        _suket_when_blanks_run_out(day)
        _resident_checks_on_a_phone(day)
        _head_closes_the_day(day)
    finally:
        # Its open connections would keep the live server's threads, and their database
        # sessions, alive past the test.
        head_computer.close()
    assert not problems, problems
