"""Encryption at rest for biometric templates and images (Fernet, the install's own keys).

The keys are EKTP_BIOMETRIC_KEY when set, else the install's ``biometric.keys`` file (see
``ektp.core.keys``); the first encrypts, every one decrypts. The file is read again when it
changes, so a rotation made by `ektp keys rotate-biometric` reaches every running process
before the old key is dropped. No key is derived from another.
"""

from __future__ import annotations

import os
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ektp.core.keys import BIOMETRIC_FILE, KeyStore, KeyStoreError, parse_fernet_keys


class BiometricKeyError(RuntimeError):
    """Stored biometric data cannot be decrypted with the configured keys."""


_lock = threading.Lock()
_cached: tuple[object, MultiFernet] | None = None


def key_store() -> KeyStore:
    """Return the install's key store (it makes missing keys outside production)."""
    production = settings.ENVIRONMENT == "production"
    return KeyStore(settings.EKTP_KEY_DIR, create=not production)


def current_keys() -> list[bytes]:
    """Return the biometric keys in force, the encrypting one first."""
    configured = settings.EKTP_BIOMETRIC_KEY
    try:
        if configured.strip():
            return parse_fernet_keys(configured, "EKTP_BIOMETRIC_KEY")
        return key_store().biometric_keys()
    except KeyStoreError as error:
        raise ImproperlyConfigured(str(error)) from None


def _version() -> object:
    """Name the key configuration: the setting, or the key file's identity and change time."""
    configured = settings.EKTP_BIOMETRIC_KEY
    if configured.strip():
        return ("setting", configured)
    path = os.path.join(settings.EKTP_KEY_DIR, BIOMETRIC_FILE)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return ("file", path, None)
    return ("file", path, stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _fernet() -> MultiFernet:
    global _cached
    version = _version()
    with _lock:
        if _cached is not None and _cached[0] == version:
            return _cached[1]
    fernet = MultiFernet([Fernet(key) for key in current_keys()])
    with _lock:
        _cached = (version, fernet)  # the version seen before reading: a later change reloads
    return fernet


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


def reencrypt(token: bytes, keys: list[bytes]) -> bytes:
    """Decrypt with any of ``keys`` and encrypt again with the first of them."""
    try:
        return MultiFernet([Fernet(key) for key in keys]).rotate(bytes(token))
    except InvalidToken:
        raise BiometricKeyError(
            "Data biometrik tidak dapat dibuka dengan kunci yang ada."
        ) from None


def opens_with(token: bytes, key: bytes) -> bool:
    """Tell whether ``token`` decrypts with ``key`` alone."""
    try:
        Fernet(key).decrypt(bytes(token))
    except InvalidToken:
        return False
    return True
