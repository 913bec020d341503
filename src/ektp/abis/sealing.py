"""Seal what the gallery writes to disk: AES-256-GCM, a fresh random nonce per record or chunk.

A key is 32 random bytes, written as base64url (``EKTP_ABIS_KEY``, comma-separated: the first
seals, every one opens, so that a key can be replaced by a checkpoint). Each sealed unit names
its key by a 4-byte id and is bound by its associated data to where it belongs (the file's
generation and the unit's position), so that units cannot be moved between files or reordered
without the tag failing. Only ``cryptography`` and the standard library: no numpy, no Django.
"""

import base64
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_BYTES = 4
ENVIRONMENT_VARIABLE = "EKTP_ABIS_KEY"


def key_id(key: bytes) -> bytes:
    """Return 4 bytes naming a key without revealing it."""
    return hashlib.sha256(b"ektp-abis-key-id:" + key).digest()[:KEY_ID_BYTES]


def new_key() -> str:
    """Return a fresh key in base64url."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_keys(text: str) -> list[bytes]:
    """Return the 32-byte keys of comma- or line-separated base64url text."""
    keys = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            key = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
        except (ValueError, TypeError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError("every ABIS key must be 32 bytes in base64url")
        keys.append(key)
    if not keys:
        raise ValueError("no ABIS key given")
    return keys


def keys_from_environment(environ: Mapping[str, str] | None = None) -> list[bytes]:
    """Return the keys of EKTP_ABIS_KEY (for a standalone ABIS service), or raise ValueError."""
    value = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE, "")
    if not value.strip():
        raise ValueError(f"{ENVIRONMENT_VARIABLE} is not set: a gallery on disk needs its key")
    return parse_keys(value)


class Sealer:
    """Seal and open byte strings with a ring of AES-256-GCM keys; the first one seals."""

    overhead = NONCE_BYTES + TAG_BYTES

    def __init__(self, keys: Sequence[bytes]) -> None:
        keys = list(keys)
        if not keys:
            raise ValueError("a sealer needs at least one key")
        for key in keys:
            if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
                raise ValueError("every ABIS key must be 32 bytes")
        self._ciphers = {key_id(bytes(key)): AESGCM(bytes(key)) for key in keys}
        self.key_id = key_id(bytes(keys[0]))
        self._sealing = self._ciphers[self.key_id]

    def __repr__(self) -> str:
        return f"Sealer({len(self._ciphers)} keys)"

    def knows(self, kid: bytes) -> bool:
        """Tell whether a key id is one of this sealer's keys."""
        return kid in self._ciphers

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        """Return nonce + ciphertext + tag under the sealing key."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._sealing.encrypt(nonce, plaintext, associated)

    def open(self, kid: bytes, sealed: bytes, associated: bytes) -> bytes | None:
        """Return the plaintext, or None when the key is unknown or the tag does not match."""
        cipher = self._ciphers.get(kid)
        if cipher is None or len(sealed) < self.overhead:
            return None
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
        except InvalidTag:
            return None
