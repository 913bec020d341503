"""Fixtures for the cards tests: an office with one UPT, a printer and stock."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from ektp.cards import services
from ektp.cards.models import LedgerEntry
from ektp.cards.printers import PdfProofPrinter
from ektp.core.models import Role
from tests.cards.factories import OfficeFactory, PrinterDeviceFactory, ServicePointFactory


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EKTP_PRINT_JOB_DIR = tmp_path / "print-jobs"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def office(db):
    return OfficeFactory()


@pytest.fixture
def point(office):
    point = ServicePointFactory(office=office, code="UPT001", name="UPT Gedong Tataan")
    PrinterDeviceFactory(service_point=point)
    return point


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def printer(settings):
    return PdfProofPrinter()


@pytest.fixture
def receive(office, supervisor):
    def receive(first: str = "180926000001", last: str = "180926000010", **kw):
        return services.receive_blanks(
            office=office,
            serial_first=first,
            serial_last=last,
            source=kw.pop("source", LedgerEntry.Source.MINISTRY),
            reference=kw.pop("reference", "B-001/DUKCAPIL/2026"),
            actor=kw.pop("actor", supervisor),
            **kw,
        )

    return receive


@pytest.fixture
def stocked_point(office, point, supervisor, receive):
    """The UPT holds 5 blanks (…001–…005); the store keeps …006–…010."""
    receive()
    services.transfer_blanks(
        office=office, from_point=None, to_point=point, quantity=5, actor=supervisor
    )
    return point
