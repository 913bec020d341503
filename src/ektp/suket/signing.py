"""The office's suket keys: Ed25519 for the QR payload, a certificate for the PAdES signature."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ektp.core import keys as key_store
from ektp.core.errors import DomainError

DEVELOPMENT_MARKER = key_store.SELF_SIGNED_MARKER
PAYLOAD_FIELDS = ("number", "nik", "name", "valid_until", "status")
KEY_ID_FIELD = "kid"


class ForgedPayload(DomainError, ValueError):
    """A QR payload that is malformed or whose signature does not verify."""

    rule = "forged_payload"


KeyPaths = key_store.SuketPaths


def key_paths() -> KeyPaths:
    """Return the key and certificate paths: EKTP_SUKET_* settings, else the install's key dir."""
    directory = Path(settings.EKTP_KEY_DIR)

    def path(value: str | None, default: str) -> Path:
        return Path(value) if value else directory / default

    return KeyPaths(
        path(settings.EKTP_SUKET_QR_KEY, key_store.SUKET_QR_FILE),
        path(settings.EKTP_SUKET_SIGNING_KEY, key_store.SUKET_SIGNING_KEY_FILE),
        path(settings.EKTP_SUKET_SIGNING_CERT, key_store.SUKET_SIGNING_CERT_FILE),
    )


def is_production() -> bool:
    return settings.ENVIRONMENT == "production"


def generate_development_pair(paths: KeyPaths) -> None:
    """Make the missing suket keys at ``paths``: an Ed25519 key, an ECDSA key, a self-signed cert."""
    key_store.KeyStore(settings.EKTP_KEY_DIR).ensure_suket(paths)


def _is_development_cert(cert: x509.Certificate) -> bool:
    return key_store.is_self_signed_here(cert)


def production_problems() -> list[str]:
    """Name what stops the suket keys from being used in production (empty when fine)."""
    if not is_production():
        return []
    paths = key_paths()
    problems = []
    for label, path in (
        ("EKTP_SUKET_QR_KEY", paths.qr_key),
        ("EKTP_SUKET_SIGNING_KEY", paths.signing_key),
        ("EKTP_SUKET_SIGNING_CERT", paths.signing_cert),
    ):
        if not path.is_file():
            problems.append(f"{label}: berkas {path} tidak ada.")
    if not problems:
        cert = x509.load_pem_x509_certificate(paths.signing_cert.read_bytes())
        if _is_development_cert(cert):
            problems.append("Sertifikat suket pengembangan tidak boleh dipakai di produksi.")
    return problems


def development_warnings() -> list[str]:
    """Say so when this install signs suket with a self-signed certificate made here."""
    if is_production():
        return []
    paths = key_paths()
    if not paths.signing_cert.is_file():
        return []
    cert = x509.load_pem_x509_certificate(paths.signing_cert.read_bytes())
    if not _is_development_cert(cert):
        return []
    return [
        f"Suket ditandatangani dengan kunci swa-tanda-tangan buatan instalasi ini "
        f"({paths.signing_cert}); pihak ketiga tidak dapat mempercayainya. Untuk produksi "
        "pasang kunci dan sertifikat kantor (EKTP_SUKET_SIGNING_KEY, EKTP_SUKET_SIGNING_CERT)."
    ]


def public_key_id(public_key: Ed25519PublicKey) -> str:
    """Return the short id of a QR public key, carried in the payloads it signs."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(key_store.key_id(raw))


@dataclass(frozen=True)
class OfficeKeys:
    qr_private: Ed25519PrivateKey
    signing_key_path: Path
    signing_cert_path: Path
    cert: x509.Certificate
    retired_public: tuple[Ed25519PublicKey, ...] = ()
    retired_certs: tuple[x509.Certificate, ...] = ()

    @property
    def qr_public(self) -> Ed25519PublicKey:
        return self.qr_private.public_key()

    @property
    def qr_public_keys(self) -> list[Ed25519PublicKey]:
        """Every QR public key that verifies a suket: the current one first, then retired ones."""
        return [self.qr_public, *self.retired_public]

    @property
    def trusted_certs(self) -> list[x509.Certificate]:
        """Every certificate a suket PDF of this office may be signed with, current first."""
        return [self.cert, *self.retired_certs]

    def qr_public_pem(self) -> str:
        return _public_pem(self.qr_public)

    def retired_public_pems(self) -> list[str]:
        return [_public_pem(key) for key in self.retired_public]


def _public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _file_version(path: Path) -> tuple:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (str(path), None)
    return (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


@cache
def _load(
    qr_key: Path, signing_key: Path, signing_cert: Path, retired: Path, version: tuple
) -> OfficeKeys:
    private = serialization.load_pem_private_key(qr_key.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ImproperlyConfigured("EKTP_SUKET_QR_KEY harus kunci privat Ed25519 (PEM).")
    cert = x509.load_pem_x509_certificate(signing_cert.read_bytes())
    old_keys, old_certs = key_store.retired_suket_keys(retired)
    return OfficeKeys(private, signing_key, signing_cert, cert, tuple(old_keys), tuple(old_certs))


def office_keys() -> OfficeKeys:
    """Load the keys (read again after a rotation); outside production make missing ones."""
    problems = production_problems()
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
    paths = key_paths()
    if not (
        paths.qr_key.is_file() and paths.signing_key.is_file() and paths.signing_cert.is_file()
    ):
        if is_production():
            raise ImproperlyConfigured("Kunci suket tidak ditemukan.")
        generate_development_pair(paths)
    version = tuple(_file_version(p) for p in (paths.qr_key, paths.signing_cert, paths.retired))
    return _load(paths.qr_key, paths.signing_key, paths.signing_cert, paths.retired, version)


def rotate_keys() -> OfficeKeys:
    """Make new suket keys; the old public key and certificate keep verifying earlier suket."""
    try:
        key_store.KeyStore(settings.EKTP_KEY_DIR).rotate_suket(key_paths())
    except key_store.KeyStoreError as error:
        raise ImproperlyConfigured(str(error)) from None
    return office_keys()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign_qr_payload(fields: dict, private_key: Ed25519PrivateKey) -> str:
    """Return compact JSON of the fields and the signing key's id ("kid"), with an Ed25519
    signature over both in base64url under "sig"."""
    body = {k: fields[k] for k in PAYLOAD_FIELDS}
    body[KEY_ID_FIELD] = public_key_id(private_key.public_key())
    signed = dict(body, sig=_b64(private_key.sign(_canonical(body))))
    return json.dumps(signed, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def verify_qr_payload(
    payload: str | bytes, public_keys: Ed25519PublicKey | Sequence[Ed25519PublicKey]
) -> dict:
    """Check a scanned QR payload with only the office's public keys; return its fields.

    Every key the office has used is tried (the one the payload names first), so a suket
    signed before a key rotation still verifies; a payload from before key ids has none.
    """
    keys = [public_keys] if isinstance(public_keys, Ed25519PublicKey) else list(public_keys)
    try:
        data = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise ForgedPayload("Isi QR bukan data suket yang sah.") from exc
    if not isinstance(data, dict) or set(data) - {KEY_ID_FIELD} != {*PAYLOAD_FIELDS, "sig"}:
        raise ForgedPayload("Isi QR tidak lengkap atau berisi data tambahan.")
    if not all(isinstance(v, str) for v in data.values()):
        raise ForgedPayload("Isi QR bukan data suket yang sah.")
    signature = data.pop("sig")
    named = data.get(KEY_ID_FIELD)
    keys.sort(key=lambda key: public_key_id(key) != named)
    message = _canonical(data)
    for key in keys:
        try:
            key.verify(_unb64(signature), message)
        except (InvalidSignature, ValueError):
            continue
        data.pop(KEY_ID_FIELD, None)
        return data
    raise ForgedPayload("Tanda tangan QR tidak cocok: suket ini palsu atau telah diubah.")


def sign_pdf(pdf: bytes, keys: OfficeKeys, *, reason: str, location: str) -> bytes:
    """Add the office's PAdES signature to a PDF."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(
        str(keys.signing_key_path), str(keys.signing_cert_path), key_passphrase=None
    )
    meta = signers.PdfSignatureMetadata(
        field_name="TandaTanganKantor",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()


@dataclass(frozen=True)
class PdfCheck:
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file


def check_pdf_signature(
    pdf: bytes, cert: x509.Certificate | Sequence[x509.Certificate]
) -> PdfCheck:
    """Validate the PDF's signature against the office certificates as trust roots."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    certs = [cert] if isinstance(cert, x509.Certificate) else list(cert)
    roots = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]
    try:
        reader = PdfFileReader(BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception:  # any parse failure means the file is not the signed one
        return PdfCheck(False, False, False, False)
    if len(signatures) != 1:
        return PdfCheck(False, False, False, False)
    signature = signatures[0]
    try:
        status = validate_pdf_signature(signature, ValidationContext(trust_roots=roots))
    except Exception:  # a broken signature structure is a failed check
        return PdfCheck(False, False, False, False)
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return PdfCheck(bool(status.intact), bool(status.valid), bool(status.trusted), whole)
