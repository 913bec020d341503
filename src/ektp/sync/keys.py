"""The two private keys of edge sync, each a file of the install's key directory (0600).

    edge-seal-x25519.key   the office's X25519 key: edges seal biometrics to its public half
    edge-device.key        on an edge, the device's Ed25519 signing key (re-enrolling replaces it)

Made on first use; the device key is made by `ektp edge enrol`, never copied between laptops.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings

from ektp.sync import packets

SEAL_FILE = "edge-seal-x25519.key"
DEVICE_FILE = "edge-device.key"


def _path(name: str) -> Path:
    return Path(settings.EKTP_KEY_DIR) / name


def _write(path: Path, raw: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(raw) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _read(path: Path) -> bytes | None:
    try:
        return base64.b64decode(path.read_bytes().strip(), validate=True)
    except FileNotFoundError:
        return None


def office_seal_key() -> X25519PrivateKey:
    """Return the office's sealing key, made on first use."""
    path = _path(SEAL_FILE)
    raw = _read(path)
    if raw is None:
        key = X25519PrivateKey.generate()
        _write(path, packets.private_bytes(key))
        return key
    return X25519PrivateKey.from_private_bytes(raw)


def office_seal_public() -> bytes:
    return packets.public_bytes(office_seal_key())


def store_device_key(key: Ed25519PrivateKey) -> None:
    """Keep the device key the office accepted, replacing any earlier one (rotation)."""
    _write(_path(DEVICE_FILE), packets.private_bytes(key))


def device_key() -> Ed25519PrivateKey | None:
    raw = _read(_path(DEVICE_FILE))
    return None if raw is None else Ed25519PrivateKey.from_private_bytes(raw)
