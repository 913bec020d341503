"""A suket from the counter to the resident's phone, in a real browser."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ektp.suket import signing
from ektp.suket.models import Suket
from tests.suket.factories import RecordedResidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_issues_a_suket_and_a_stranger_verifies_it(
    live_server, log_in, browser, page, operator, office, tmp_path
):
    resident = RecordedResidentFactory(name="SITI RAHAYU")
    log_in(page, operator)

    page.goto(f"{live_server.url}/suket/")
    page.fill("input[name=nik]", resident.nik)
    page.click("text=Periksa dan terbitkan")
    suket = Suket.objects.get(resident=resident)
    page.wait_for_selector(f"text=Suket {suket.number} diterbitkan")

    with page.expect_download() as download:
        page.click("text=Unduh PDF bertanda tangan")
    pdf = tmp_path / "suket.pdf"
    download.value.save_as(pdf)
    # pyHanko validates on its own event loop: not in the thread that drives the browser.
    with ThreadPoolExecutor(1) as pool:
        check = pool.submit(
            signing.check_pdf_signature, pdf.read_bytes(), signing.office_keys().cert
        )
        assert check.result().ok

    verify_url = page.locator("a", has_text="/verify/").first.get_attribute("href")
    stranger = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 640})
    public = stranger.new_page()
    public.goto(verify_url if verify_url.startswith("http") else live_server.url + verify_url)
    text = public.locator("main, body").first.inner_text()
    assert suket.number in text
    assert "SITI RAHAYU" not in text and resident.nik not in text  # masked for strangers
    assert "berlaku sampai" in text
    stranger.close()


def test_resident_downloads_the_suket_on_a_phone_with_a_code_sent_by_whatsapp(
    live_server, browser, operator, office, tmp_path
):
    import re

    from ektp.notifications.models import Event, Message
    from ektp.suket.services import issue_suket

    resident = RecordedResidentFactory(name="SITI RAHAYU", phone="081234567890")
    suket = issue_suket(resident=resident, office=office, officer=operator)
    phone = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 640})
    page = phone.new_page()
    page.goto(f"{live_server.url}/cek/")
    page.fill("input[name=nik]", resident.nik)
    page.fill("input[name=birth_date]", resident.birth_date.strftime("%d-%m-%Y"))
    page.click("button[type=submit]")
    page.wait_for_selector(f"text=Suket {suket.number}")
    assert "/cek/suket/" not in page.content()
    page.click("text=Unduh suket")
    page.click("text=Kirim kode ke WhatsApp 0812******90")
    page.wait_for_selector("input[name=code]")
    body = Message.objects.get(resident=resident, event=Event.ACCESS_CODE).body
    page.fill("input[name=code]", re.search(r"Kode Anda: (\d{6})", body).group(1))
    with page.expect_download() as download:
        page.click("button:has-text('Buka')")
    pdf = tmp_path / "suket.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    phone.close()
