"""Fixtures for suket: keys in a temporary directory, an office with or without blanks."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.cache import cache

from ektp.cards import services as cards_services
from ektp.cards.models import LedgerEntry
from ektp.core.models import Role
from ektp.suket import signing
from tests.cards.factories import OfficeFactory

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("suket-keys")


@pytest.fixture(autouse=True)
def suket_keys(settings, key_dir):
    settings.EKTP_SUKET_QR_KEY = str(key_dir / "qr.pem")
    settings.EKTP_SUKET_SIGNING_KEY = str(key_dir / "key.pem")
    settings.EKTP_SUKET_SIGNING_CERT = str(key_dir / "cert.pem")
    return signing.office_keys()


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def office(db):
    return OfficeFactory()


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def stock(office, supervisor):
    """Put 120 blanks in the office store."""
    cards_services.receive_blanks(
        office=office,
        serial_first="180926000001",
        serial_last="180926000120",
        source=LedgerEntry.Source.MINISTRY,
        reference="B-001/DUKCAPIL/2026",
        actor=supervisor,
    )
    return office


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A time on a day in the office's zone."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=JAKARTA)
