"""The ABIS this process talks to, chosen by settings: remote at ABIS_URL, else in-process
(one gallery, or ABIS_SHARDS Ray actors)."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ektp.abis.interfaces import Abis
from ektp.core.keys import KeyStore, KeyStoreError, parse_abis_keys

_lock = threading.Lock()
_handle: tuple[tuple, Abis] | None = None


def abis_settings() -> tuple[str | None, str | None]:
    """Return (ABIS_URL, ABIS_DATA_DIR) from settings; a data dir of None keeps it in memory."""
    url = settings.ABIS_URL or None
    data_dir = settings.ABIS_DATA_DIR
    return url, (str(Path(data_dir)) if data_dir else None)


def abis_keys() -> list[bytes]:
    """Return the keys that seal the gallery on disk: EKTP_ABIS_KEY, else the key store's."""
    configured = settings.EKTP_ABIS_KEY
    production = settings.ENVIRONMENT == "production"
    try:
        if configured.strip():
            return parse_abis_keys(configured, "EKTP_ABIS_KEY")
        return KeyStore(settings.EKTP_KEY_DIR, create=not production).abis_keys()
    except KeyStoreError as error:
        raise ImproperlyConfigured(str(error)) from None


def get_engine() -> Abis:
    """Return the process's ABIS handle, opening it on first use or when settings changed."""
    global _handle
    url, data_dir = abis_settings()
    keys = abis_keys() if data_dir is not None and not url else None
    shards = 0 if url else settings.ABIS_SHARDS
    key = (url, data_dir, tuple(keys or ()), shards)
    with _lock:
        if _handle is not None and _handle[0] == key:
            return _handle[1]
        if _handle is not None:
            _handle[1].close()
            _handle = None
        from ektp.abis.client import get_abis

        if data_dir is not None and not url:
            Path(data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        _handle = (key, get_abis(url, data_dir, keys=keys, **_shard_options(shards)))
        return _handle[1]


def _shard_options(shards: int) -> dict:
    """Return the options of a sharded gallery from settings (none for one gallery)."""
    if not shards:
        return {}
    return {
        "shards": shards,
        "address": settings.ABIS_RAY_ADDRESS,
        "timeout": settings.ABIS_SHARD_TIMEOUT,
    }


def close_engine() -> None:
    """Close the process's ABIS handle (an in-process gallery releases its directory lock)."""
    global _handle
    with _lock:
        if _handle is not None:
            _handle[1].close()
            _handle = None


def open_engine() -> Abis | None:
    """Return this process's ABIS handle if it is already open, without opening one."""
    with _lock:
        # The handle's key is (url, data_dir, keys): the keys are not read here.
        if _handle is not None and _handle[0][:2] == abis_settings():
            return _handle[1]
        return None


def gallery_state() -> tuple[bool, str]:
    """Load this process's ABIS (the in-process gallery) if needed and ping it: (ok, what it said)."""
    try:
        answer = get_engine().ping()
    except Exception as error:  # a gallery that cannot load, an ABIS out of reach
        return False, (str(error) or type(error).__name__)[:200]
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        return False, "ABIS tidak menjawab ok"
    counts = answer.get("modalities") or {}
    return True, ", ".join(f"{name}: {count}" for name, count in sorted(counts.items()))[:200]
