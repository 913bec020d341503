"""Fixtures for the portal: suket keys in a temporary directory (tests/conftest.py empties the
cache)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def portal_key_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("portal-suket-keys")


@pytest.fixture(autouse=True)
def _suket_keys(settings, portal_key_dir):
    settings.EKTP_SUKET_QR_KEY = str(portal_key_dir / "qr.pem")
    settings.EKTP_SUKET_SIGNING_KEY = str(portal_key_dir / "key.pem")
    settings.EKTP_SUKET_SIGNING_CERT = str(portal_key_dir / "cert.pem")
