"""Fixtures for naskah dinas: an office with its letterhead, stock, a printed card, keys."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from ektp.cards import services as cards
from ektp.cards.models import LedgerEntry
from ektp.cards.printers import PdfProofPrinter
from ektp.core.models import Role
from ektp.naskah import services
from ektp.suket import signing
from tests.cards.factories import (
    OfficeFactory,
    PrinterDeviceFactory,
    PrrResidentFactory,
    ServicePointFactory,
)

# Synthetic head of office: the name and NIP belong to no one.
HEAD = {
    "government": "Pemerintah Kabupaten Pesawaran",
    "agency": "Dinas Kependudukan dan Pencatatan Sipil",
    "address": "Jalan Raya Kedondong Nomor 12, Gedong Tataan, Pesawaran, Lampung 35371",
    "phone": "(0721) 555-0101",
    "email": "disdukcapil@pesawaran.example.go.id",
    "city": "Gedong Tataan",
    "head_name": "Drs. Sukma Wijaya Pratama, M.Si.",
    "head_title": "Kepala Dinas Kependudukan dan Pencatatan Sipil",
    "head_rank": "Pembina Utama Muda (IV/c)",
    "head_nip": "197003152000031002",
    "classification": "470",
    "number_format": "{kode}/{nomor}/Disdukcapil/{bulan}/{tahun}",
}


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("naskah-keys")


@pytest.fixture(autouse=True)
def office_keys(settings, key_dir, tmp_path):
    settings.EKTP_SUKET_QR_KEY = str(key_dir / "qr.pem")
    settings.EKTP_SUKET_SIGNING_KEY = str(key_dir / "key.pem")
    settings.EKTP_SUKET_SIGNING_CERT = str(key_dir / "cert.pem")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EKTP_PRINT_JOB_DIR = tmp_path / "print-jobs"
    cache.clear()
    return signing.office_keys()


@pytest.fixture
def office(db):
    return OfficeFactory()


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def letterhead(office, supervisor):
    return services.save_letterhead(actor=supervisor, office=office, **HEAD)


@pytest.fixture
def point(office):
    point = ServicePointFactory(office=office, code="UPT001", name="UPT Gedong Tataan")
    PrinterDeviceFactory(service_point=point)
    return point


@pytest.fixture
def stocked_point(office, point, supervisor):
    cards.receive_blanks(
        office=office,
        serial_first="180926000001",
        serial_last="180926000010",
        source=LedgerEntry.Source.MINISTRY,
        reference="B-001/DUKCAPIL/2026",
        actor=supervisor,
    )
    cards.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=5, actor=supervisor
    )
    return point


@pytest.fixture
def printed_card(stocked_point, operator):
    return cards.print_card(
        request_or_resident=PrrResidentFactory(),
        service_point=stocked_point,
        printer=PdfProofPrinter(),
        operator=operator,
    )


@pytest.fixture
def handed_card(printed_card, operator):
    return cards.hand_over(
        card_print=printed_card,
        received_by_name="Rini Astuti",
        relation="diri_sendiri",
        operator=operator,
    )


@pytest.fixture
def head_client(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def submitted_request(office, supervisor):
    """A request for blanks drafted from the forecast (3 PRR, no stock) and submitted."""
    for _ in range(3):
        PrrResidentFactory()
    draft = cards.draft_blank_request(office=office, actor=supervisor)
    return cards.submit_blank_request(request=draft, actor=supervisor)
