"""Encryption at rest for biometric templates and images (Fernet, keys from settings)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class BiometricKeyError(RuntimeError):
    """Stored biometric data cannot be decrypted with the configured keys."""


def _keys() -> list[bytes]:
    configured = getattr(settings, "EKTP_BIOMETRIC_KEY", "") or ""
    keys = [k.strip().encode() for k in configured.split(",") if k.strip()]
    if keys:
        return keys
    derived = hashlib.sha256(f"ektp-biometric:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(derived)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(data: bytes) -> bytes:
    """Encrypt biometric bytes with the first configured key."""
    return _fernet().encrypt(bytes(data))


def decrypt(token: bytes) -> bytes:
    """Decrypt biometric bytes with any configured key."""
    try:
        return _fernet().decrypt(bytes(token))
    except InvalidToken:
        raise BiometricKeyError(
            "Data biometrik tidak dapat dibuka dengan kunci yang ada."
        ) from None
