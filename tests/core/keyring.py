"""Keys a production install is given from outside: the environment of a test's subprocess."""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from ektp.core import keys


def office_certificate(directory: Path) -> tuple[Path, Path]:
    """An office key and certificate that this install did not make (as one from a CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Disdukcapil Kabupaten Uji"),
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
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "kantor-key.pem", directory / "kantor-cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def production_keys(directory: Path) -> dict[str, str]:
    """Every key production needs, as the environment gives them (PEM files in directory)."""
    directory.mkdir(parents=True, exist_ok=True)
    qr = directory / "qr.pem"
    qr.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signing_key, signing_cert = office_certificate(directory)
    return {
        "EKTP_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(48)).decode(),
        "EKTP_BIOMETRIC_KEY": Fernet.generate_key().decode(),
        "EKTP_ABIS_KEY": keys.new_abis_key(),
        "EKTP_SUKET_QR_KEY": str(qr),
        "EKTP_SUKET_SIGNING_KEY": str(signing_key),
        "EKTP_SUKET_SIGNING_CERT": str(signing_cert),
    }
