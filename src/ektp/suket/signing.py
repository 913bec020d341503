"""The office's suket keys: Ed25519 for the QR payload, a certificate for the PAdES signature."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_MARKER = "ektp DEVELOPMENT suket signer"
PAYLOAD_FIELDS = ("number", "nik", "name", "valid_until", "status")


class ForgedPayload(ValueError):
    """A QR payload that is malformed or whose signature does not verify."""


@dataclass(frozen=True)
class KeyPaths:
    qr_key: Path
    signing_key: Path
    signing_cert: Path


def _setting_path(name: str, default: Path) -> Path:
    value = getattr(settings, name, None)
    return Path(value) if value else default


def key_paths() -> KeyPaths:
    """Return the key and certificate paths from settings (development defaults under var/keys/)."""
    keys = Path(settings.VAR_DIR) / "keys"
    return KeyPaths(
        qr_key=_setting_path("EKTP_SUKET_QR_KEY", keys / "suket-qr-ed25519.pem"),
        signing_key=_setting_path("EKTP_SUKET_SIGNING_KEY", keys / "suket-signing-key.pem"),
        signing_cert=_setting_path("EKTP_SUKET_SIGNING_CERT", keys / "suket-signing-cert.pem"),
    )


def is_production() -> bool:
    return getattr(settings, "ENVIRONMENT", "development") == "production"


def generate_development_pair(paths: KeyPaths) -> None:
    """Write a development Ed25519 key and a self-signed ECDSA certificate, marked as such."""
    paths.qr_key.parent.mkdir(parents=True, exist_ok=True)
    paths.signing_key.parent.mkdir(parents=True, exist_ok=True)
    paths.signing_cert.parent.mkdir(parents=True, exist_ok=True)
    qr_key = Ed25519PrivateKey.generate()
    paths.qr_key.write_bytes(
        qr_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Disdukcapil (pengembangan)"),
            x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_MARKER),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    paths.signing_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths.signing_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _is_development_cert(cert: x509.Certificate) -> bool:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return any(DEVELOPMENT_MARKER in str(n.value) for n in names)


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
        if not getattr(settings, label, None):
            problems.append(f"{label} harus diisi di produksi.")
        elif not path.is_file():
            problems.append(f"{label}: berkas {path} tidak ada.")
    if not problems:
        cert = x509.load_pem_x509_certificate(paths.signing_cert.read_bytes())
        if _is_development_cert(cert):
            problems.append("Sertifikat suket pengembangan tidak boleh dipakai di produksi.")
    return problems


@dataclass(frozen=True)
class OfficeKeys:
    qr_private: Ed25519PrivateKey
    signing_key_path: Path
    signing_cert_path: Path
    cert: x509.Certificate

    @property
    def qr_public(self) -> Ed25519PublicKey:
        return self.qr_private.public_key()

    def qr_public_pem(self) -> str:
        return self.qr_public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


@cache
def _load(qr_key: Path, signing_key: Path, signing_cert: Path) -> OfficeKeys:
    private = serialization.load_pem_private_key(qr_key.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ImproperlyConfigured("EKTP_SUKET_QR_KEY harus kunci privat Ed25519 (PEM).")
    cert = x509.load_pem_x509_certificate(signing_cert.read_bytes())
    return OfficeKeys(private, signing_key, signing_cert, cert)


def office_keys() -> OfficeKeys:
    """Load the keys, generating the development pair once when none exists outside production."""
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
    return _load(paths.qr_key, paths.signing_key, paths.signing_cert)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign_qr_payload(fields: dict, private_key: Ed25519PrivateKey) -> str:
    """Return compact JSON of the fields with an Ed25519 signature in base64url under "sig"."""
    body = {k: fields[k] for k in PAYLOAD_FIELDS}
    signed = dict(body, sig=_b64(private_key.sign(_canonical(body))))
    return json.dumps(signed, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def verify_qr_payload(payload: str | bytes, public_key: Ed25519PublicKey) -> dict:
    """Check a scanned QR payload with only the office public key; return its fields."""
    try:
        data = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise ForgedPayload("Isi QR bukan data suket yang sah.") from exc
    if not isinstance(data, dict) or set(data) != {*PAYLOAD_FIELDS, "sig"}:
        raise ForgedPayload("Isi QR tidak lengkap atau berisi data tambahan.")
    if not all(isinstance(v, str) for v in data.values()):
        raise ForgedPayload("Isi QR bukan data suket yang sah.")
    signature = data.pop("sig")
    try:
        public_key.verify(_unb64(signature), _canonical(data))
    except (InvalidSignature, ValueError) as exc:
        raise ForgedPayload(
            "Tanda tangan QR tidak cocok: suket ini palsu atau telah diubah."
        ) from exc
    return data


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


def check_pdf_signature(pdf: bytes, cert: x509.Certificate) -> PdfCheck:
    """Validate the PDF's signature against the office certificate as the trust root."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    try:
        reader = PdfFileReader(BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception:  # any parse failure means the file is not the signed one
        return PdfCheck(False, False, False, False)
    if len(signatures) != 1:
        return PdfCheck(False, False, False, False)
    signature = signatures[0]
    try:
        status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    except Exception:  # a broken signature structure is a failed check
        return PdfCheck(False, False, False, False)
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return PdfCheck(bool(status.intact), bool(status.valid), bool(status.trusted), whole)
