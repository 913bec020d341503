"""People read words: no raw SIAK code on the main staff pages of a small seeded district,
numbers and dates the id-ID way, and the Tentang page with the credits."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from ektp.core import formats
from ektp.core.models import Role
from ektp.residents.models import KtpStatus, Resident

RAW = re.compile(
    r"\b(BELUM_REKAM|BIO_CAPTURED|SENT_FOR_ENROLLMENT|PRINT_READY_RECORD|DUPLICATE_RECORD|"
    r"ENROLL_FAILURE|CARD_PRINTED|CARD_ISSUED|tanpa_data)\b|\((SFE|PRR)\)"
)
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")


def visible_text(html: str) -> str:
    """The words a person sees: no scripts, no styles, no tags (a tooltip is not on the page)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.django_db
def test_no_raw_status_code_on_the_main_staff_pages(client, make_staff):
    call_command("seed", region="18.09", residents=200, no_progress=True)
    client.force_login(make_staff(Role.SUPERVISOR))
    home = client.get(reverse("core:home"))
    pages = [url for url, _label in home.context["nav_links"]]
    for status in KtpStatus.values:
        resident = Resident.objects.filter(ktp_status=status).first()
        if resident is not None:
            pages += [
                reverse("residents:detail", args=[resident.nik]),
                reverse("enrollment:history", args=[resident.nik]),
            ]
    pages.append(reverse("residents:search") + "?q=" + Resident.objects.first().name)
    checked = 0
    for url in pages:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response["Content-Type"]:
            continue
        found = RAW.findall(visible_text(response.content.decode()))
        assert not found, f"{url} shows {found}"
        checked += 1
    assert checked >= 8


def test_the_status_filter_shows_words_with_the_code_as_tooltip():
    html = Template("{% load kata %}{{ s|siak_status }}").render(Context({"s": "BIO_CAPTURED"}))
    assert (
        html
        == '<span class="status" title="SIAK: BIO_CAPTURED">Sudah rekam (biometrik terekam)</span>'
    )
    html = Template("{% load kata %}{{ s|siak_status }}").render(
        Context({"s": "SENT_FOR_ENROLLMENT"})
    )
    assert ">Menunggu penunggalan<" in html and "(SFE)" not in html


def test_numbers_are_grouped_the_indonesian_way():
    assert formats.angka(19825) == "19.825"
    assert formats.angka(1234567) == "1.234.567"
    assert formats.angka(98.456, 1) == "98,5"
    assert formats.angka(0) == "0" and formats.angka(None) == "-"
    assert formats.angka(-1500) == "-1.500"


def test_dates_and_times_are_written_in_indonesian_words_with_the_time_zone(settings):
    assert formats.tanggal(dt.date(2026, 12, 7)) == "7 Desember 2026"
    moment = dt.datetime(2026, 12, 7, 2, 5, tzinfo=dt.UTC)
    assert formats.waktu(moment) == "7 Desember 2026 09.05 WIB"
    assert formats.waktu(None) == "-"
    assert formats.hari(dt.date(2026, 12, 7)) == "Senin, 7 Desember 2026"
    assert formats.hari(dt.date(2026, 12, 13)) == "Minggu, 13 Desember 2026"
    assert formats.hari(None) == "-"


def test_template_filters_follow_the_chosen_language():
    template = Template("{% load kata %}{{ n|angka }} · {{ d|tanggal }} · {{ z|zona }}")
    context = Context({"n": 19825, "d": dt.date(2026, 12, 7), "z": "tanpa_data"})
    assert template.render(context) == "19.825 · 7 Desember 2026 · Tanpa data"
    with translation.override("en"):
        assert template.render(context) == "19,825 · 7 December 2026 · No data"
    assert Template("{% load kata %}{{ n|angka }}").render(Context({"n": "x"})) == "x"
    day = Template("{% load kata %}{{ d|hari }}")
    assert day.render(Context({"d": dt.date(2026, 12, 7)})) == "Senin, 7 Desember 2026"
    with translation.override("en"):
        assert day.render(Context({"d": dt.date(2026, 12, 7)})) == "Monday, 7 December 2026"


@pytest.mark.django_db
def test_the_tentang_page_credits_the_data_and_libraries(client):
    page = client.get(reverse("core:about"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "MPL-2.0" in text and "Kepmendagri" in text and "Cahya DSN" in text
    assert "MIT License" in text and "Django" in text and "htmx" in text
    home = client.get(reverse("portal:status")).content.decode()
    assert reverse("core:about") in home


@pytest.mark.django_db
def test_the_coverage_page_names_no_library_repository(client, make_staff):
    client.force_login(make_staff(Role.SUPERVISOR))
    text = client.get(reverse("coverage:dashboard")).content.decode()
    assert "cahyadsn" not in text and reverse("core:about") in text
