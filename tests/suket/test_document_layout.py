"""The suket page: a long address wraps inside the margins; the signing official is named."""

from __future__ import annotations

import datetime as dt

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth

from ektp.naskah import services as naskah
from ektp.suket import documents
from ektp.suket.services import issue_suket
from tests.naskah.conftest import HEAD
from tests.naskah.pdftext import runs, text_of
from tests.suket.conftest import at
from tests.suket.factories import RecordedResidentFactory

pytestmark = pytest.mark.django_db

URL = "https://ektp.example.id/verify/474.11/0001/SKT/1809/XI/2026"
STREET = (
    "Jalan Lintas Barat Sumatera Kilometer 27 Gang Melati Indah Nomor 118 Blok C, "
    "Perumahan Griya Permata Hijau Tahap II, di samping Balai Pekon"
)


@pytest.fixture
def suket(office, operator):
    resident = RecordedResidentFactory(name="SITI RAHAYU", nik="1809014501950001", street=STREET)
    return issue_suket(
        resident=resident, office=office, officer=operator, at=at(dt.date(2026, 11, 25))
    )


def _right_edges(pdf: bytes) -> list[tuple[str, float]]:
    return [
        (text, x + stringWidth(text, "Helvetica-Bold", size))
        for text, x, _, size in runs(pdf)
        if size
    ]


def test_a_long_address_wraps_inside_the_right_margin(suket):
    assert len(suket.address) > 150
    pdf = documents.render_pdf(suket, verify_url=URL)
    page_width = A4[0]
    for text, right in _right_edges(pdf):
        assert right <= page_width - 20, f"{text!r} runs past the margin ({right:.0f} pt)"
    address_lines = [
        t
        for t, x, _, _ in runs(pdf)
        if t.strip() and any(w in t for w in ("Gang", "Perumahan", "Balai", "RT "))
    ]
    assert len(address_lines) >= 2
    text = text_of(pdf)
    assert "Balai Pekon" in text


def test_the_suket_names_the_official_who_signs_it(suket, office, make_staff):
    from ektp.core.models import Role

    naskah.save_letterhead(actor=make_staff(Role.SUPERVISOR), office=office, **HEAD)
    text = text_of(documents.render_pdf(suket, verify_url=URL))
    assert "Kepala Dinas Kependudukan dan Pencatatan Sipil" in text
    assert "Drs. Sukma Wijaya Pratama, M.Si." in text
    assert "Pembina Utama Muda (IV/c)" in text
    assert "NIP 197003152000031002" in text
    assert "Gedong Tataan, 25 November 2026" in text


def test_without_a_letterhead_the_suket_leaves_the_official_to_be_filled_in(suket):
    text = text_of(documents.render_pdf(suket, verify_url=URL))
    assert "NIP ....." in text
    assert "PEMERINTAH KABUPATEN PESAWARAN" in text
