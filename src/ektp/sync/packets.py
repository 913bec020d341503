"""The packet format shared by an edge and the office: canonical bytes, signatures, sealing.

A packet is the canonical JSON of ``{"envelope": {...}, "signature": "<base64>"}``; its id is the
SHA-256 of those bytes (content address). The signature is the device's Ed25519 signature over
the canonical JSON of the envelope alone. Biometrics travel sealed to the office's X25519 public
key: an ephemeral X25519 agreement gives an AES-256-GCM key (HKDF-SHA256), and the sealing
itself is ``ektp.abis.sealing.Sealer`` bound to the packet's uid, so that a sealed blob cannot be
moved to another packet. The edge keeps no private half: once sealed, it cannot read them back.

No Django import: the format is the same on both nodes and in the benchmark.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ektp.abis.sealing import KEY_ID_BYTES, Sealer
from ektp.core.errors import DomainError

FORMAT_VERSION = 1
SEAL_INFO = b"ektp-edge-seal-v1"


class PacketError(DomainError, ValueError):
    """Bytes that are not a well-formed packet; the message says what is wrong."""

    rule = "packet_invalid"
    status = 400


def canonical(value: Any) -> bytes:
    """Return the canonical JSON bytes of a value made of dicts, lists, str, int, bool, None."""
    _refuse_floats(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _refuse_floats(value: Any) -> None:
    # Floats have more than one spelling; a canonical form has none of them.
    if isinstance(value, float):
        raise PacketError("Paket tidak boleh memuat bilangan pecahan (floating point).")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise PacketError("Data bukan base64 yang sah.") from None


def digest(data: bytes) -> str:
    """Return the packet id of bytes: their SHA-256 in hex."""
    return hashlib.sha256(data).hexdigest()


# -- keys ---------------------------------------------------------------------------------------


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def fingerprint(public: bytes) -> str:
    """Name a public key by the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    return key.sign(message)


def verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """Tell whether ``signature`` is the Ed25519 signature of ``message`` under ``public``."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# -- sealing to the office ----------------------------------------------------------------------


def _shared_key(private: X25519PrivateKey, peer: X25519PublicKey, ephemeral: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral, info=SEAL_INFO).derive(
        private.exchange(peer)
    )


def seal(plaintext: bytes, *, office_public: bytes, associated: bytes) -> bytes:
    """Seal bytes to the office's X25519 public key: ephemeral key + key id + AES-GCM."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral)
    key = _shared_key(ephemeral, X25519PublicKey.from_public_bytes(office_public), ephemeral_public)
    sealer = Sealer([key])
    return ephemeral_public + sealer.key_id + sealer.seal(plaintext, associated)


def open_sealed(sealed: bytes, *, office_private: X25519PrivateKey, associated: bytes) -> bytes:
    """Open what ``seal`` made, or raise PacketError."""
    if len(sealed) < 32 + KEY_ID_BYTES + Sealer.overhead:
        raise PacketError("Biometrik tersegel terlalu pendek.")
    ephemeral_public = sealed[:32]
    kid = sealed[32 : 32 + KEY_ID_BYTES]
    try:
        peer = X25519PublicKey.from_public_bytes(ephemeral_public)
    except ValueError:
        raise PacketError("Biometrik tersegel tidak menyebut kunci yang sah.") from None
    key = _shared_key(office_private, peer, ephemeral_public)
    opened = Sealer([key]).open(kid, sealed[32 + KEY_ID_BYTES :], associated)
    if opened is None:
        raise PacketError("Biometrik tersegel tidak dapat dibuka dengan kunci kantor.")
    return opened


# -- packets ------------------------------------------------------------------------------------


def build(envelope: dict, *, key: Ed25519PrivateKey) -> bytes:
    """Return the signed packet bytes of an envelope."""
    envelope = {**envelope, "v": FORMAT_VERSION}
    signature = sign(key, canonical(envelope))
    return canonical({"envelope": envelope, "signature": b64(signature)})


def parse(data: bytes) -> tuple[dict, bytes]:
    """Return (envelope, signature) of packet bytes, or raise PacketError."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PacketError("Paket bukan JSON.") from None
    if not isinstance(document, dict) or set(document) != {"envelope", "signature"}:
        raise PacketError("Paket harus berisi tepat satu amplop dan satu tanda tangan.")
    envelope = document["envelope"]
    if not isinstance(envelope, dict) or envelope.get("v") != FORMAT_VERSION:
        raise PacketError("Versi format paket tidak dikenal.")
    if not isinstance(document["signature"], str):
        raise PacketError("Tanda tangan harus berupa teks base64.")
    if canonical(document) != data:
        raise PacketError("Isi paket tidak dalam bentuk kanonis.")
    return envelope, unb64(document["signature"])


def signed_by(envelope: dict, signature: bytes, public: bytes) -> bool:
    return verify(public, signature, canonical(envelope))


def request_message(*, method: str, path: str, at: str, body: bytes) -> bytes:
    """The bytes a device signs to authenticate one HTTP request."""
    return "\n".join([method.upper(), path, at, digest(body)]).encode("utf-8")
