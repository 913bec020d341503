"""The install's own keys: from the environment first, else from files under ``var/keys/``.

Every install makes its own keys on first start (outside production) and none is derived from
another or shipped in the code:

    secret-key               Django's SECRET_KEY (sessions, CSRF, signed links)
    biometric.keys           Fernet keys for biometric samples in the database, one a line;
                             the first encrypts, every one decrypts (rotation)
    abis.key                 AES-256-GCM keys for the ABIS gallery on disk, one a line
                             (base64url), the first encrypts
    suket-qr-ed25519.pem     Ed25519 key that signs the suket QR payload
    suket-signing-key.pem    the office's PAdES key for the suket PDF
    suket-signing-cert.pem   its certificate (self-signed when made here)
    suket-retired.pem        public keys and certificates of earlier suket keys, so that
                             suket signed before a rotation still verify

The directory is 0700 and every file 0600. Files are written whole to a temporary name and
then linked into place (a new key) or renamed over the old one (a rotation), under an
exclusive lock on ``LOCK``: two processes starting at once end with the same keys.
In production nothing is generated: ``missing()`` names what the operator must supply.

No Django import here: settings.py reads its SECRET_KEY through this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from ektp.abis import sealing  # cryptography only: no numpy, no Django

SECRET_FILE = "secret-key"
BIOMETRIC_FILE = "biometric.keys"
ABIS_FILE = "abis.key"
SUKET_QR_FILE = "suket-qr-ed25519.pem"
SUKET_SIGNING_KEY_FILE = "suket-signing-key.pem"
SUKET_SIGNING_CERT_FILE = "suket-signing-cert.pem"
SUKET_RETIRED_FILE = "suket-retired.pem"
LOCK_FILE = "LOCK"
ROTATION_LOCK_FILE = "ROTATION"

# The common name of a certificate made here: self-signed, to be replaced in production by
# one the office obtains (e.g. from BSrE).
SELF_SIGNED_MARKER = "ektp DEVELOPMENT suket signer"


class KeyStoreError(Exception):
    """Base of the key store's errors."""


class MissingKeys(KeyStoreError):
    """Keys the install needs are neither in the environment nor in files."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            "Kunci berikut belum tersedia (isi variabel lingkungan atau berkasnya): "
            + "; ".join(missing)
        )


class BadKey(KeyStoreError):
    """A key is present but malformed."""


class BusyRotating(KeyStoreError):
    """Another rotation of the same keys is running."""


@dataclass(frozen=True)
class SuketPaths:
    """Where the suket keys are read from."""

    qr_key: Path
    signing_key: Path
    signing_cert: Path

    @property
    def retired(self) -> Path:
        """The public keys and certificates of earlier suket keys, kept beside the QR key."""
        return self.qr_key.parent / SUKET_RETIRED_FILE


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]


class KeyStore:
    """Read (and outside production, make) the keys of one install."""

    def __init__(
        self,
        directory: Path | str,
        environ: Mapping[str, str] | None = None,
        *,
        create: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.environ = os.environ if environ is None else environ
        self.create = create  # make a missing key on first read (never in production)

    # -- what is there ----------------------------------------------------------------------

    def suket_paths(self) -> SuketPaths:
        """Return the suket key paths: EKTP_SUKET_* from the environment, else the files here."""
        return SuketPaths(
            self._env_path("EKTP_SUKET_QR_KEY", SUKET_QR_FILE),
            self._env_path("EKTP_SUKET_SIGNING_KEY", SUKET_SIGNING_KEY_FILE),
            self._env_path("EKTP_SUKET_SIGNING_CERT", SUKET_SIGNING_CERT_FILE),
        )

    def missing(self) -> list[str]:
        """Name every key that is neither in the environment nor in its file."""
        missing = []
        for env, name in (
            ("EKTP_SECRET_KEY", SECRET_FILE),
            ("EKTP_BIOMETRIC_KEY", BIOMETRIC_FILE),
            ("EKTP_ABIS_KEY", ABIS_FILE),
        ):
            if not self.environ.get(env, "").strip() and not (self.directory / name).is_file():
                missing.append(f"{env} (atau berkas {self.directory / name})")
        paths = self.suket_paths()
        for env, path in (
            ("EKTP_SUKET_QR_KEY", paths.qr_key),
            ("EKTP_SUKET_SIGNING_KEY", paths.signing_key),
            ("EKTP_SUKET_SIGNING_CERT", paths.signing_cert),
        ):
            if not path.is_file():
                missing.append(f"{env} (berkas {path} tidak ada)")
        return missing

    def secret_key(self) -> str:
        """Return Django's SECRET_KEY."""
        value = self.environ.get("EKTP_SECRET_KEY", "").strip()
        if not value:
            value = self._read_text(SECRET_FILE, "EKTP_SECRET_KEY").strip()
        if len(value) < 32:
            raise BadKey("EKTP_SECRET_KEY terlalu pendek (minimal 32 karakter acak).")
        return value

    def biometric_keys(self) -> list[bytes]:
        """Return the Fernet keys for biometric data, the encrypting one first."""
        configured = self.environ.get("EKTP_BIOMETRIC_KEY", "")
        text = (
            configured
            if configured.strip()
            else self._read_text(BIOMETRIC_FILE, "EKTP_BIOMETRIC_KEY")
        )
        return parse_fernet_keys(text, "EKTP_BIOMETRIC_KEY")

    def abis_keys(self) -> list[bytes]:
        """Return the AES-256-GCM keys of the ABIS gallery, the encrypting one first."""
        configured = self.environ.get("EKTP_ABIS_KEY", "")
        text = configured if configured.strip() else self._read_text(ABIS_FILE, "EKTP_ABIS_KEY")
        return parse_abis_keys(text, "EKTP_ABIS_KEY")

    # -- making keys ------------------------------------------------------------------------

    def ensure(self) -> list[str]:
        """Make every key that is missing (development); return the files made."""
        made: list[str] = []
        with self.locked():
            self._tighten()
            for name, env, make in (
                (SECRET_FILE, "EKTP_SECRET_KEY", _new_secret_key),
                (BIOMETRIC_FILE, "EKTP_BIOMETRIC_KEY", _new_fernet_line),
                (ABIS_FILE, "EKTP_ABIS_KEY", _new_abis_line),
            ):
                path = self.directory / name
                if not self.environ.get(env, "").strip() and not path.is_file():
                    write_new(path, make())
                    made.append(name)
            made += self._make_suket(self.suket_paths())
        return made

    def ensure_suket(self, paths: SuketPaths) -> list[str]:
        """Make the suket keys at ``paths`` that are missing (development); return those made."""
        with self.locked():
            return self._make_suket(paths)

    def _make_suket(self, paths: SuketPaths) -> list[str]:
        made = []
        if not paths.qr_key.is_file():
            write_new(paths.qr_key, _ed25519_pem(Ed25519PrivateKey.generate()))
            made.append(paths.qr_key.name)
        if not paths.signing_key.is_file() and not paths.signing_cert.is_file():
            key_pem, cert_pem = self_signed_pair()
            write_new(paths.signing_key, key_pem)
            write_new(paths.signing_cert, cert_pem)
            made += [paths.signing_key.name, paths.signing_cert.name]
        return made

    @contextlib.contextmanager
    def locked(self, name: str = LOCK_FILE, *, wait: bool = True) -> Iterator[None]:
        """Hold an exclusive lock of the store: ``LOCK`` while keys are made or replaced (short),
        ``ROTATION`` for a whole rotation (``wait=False`` raises BusyRotating when held)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise BusyRotating("Rotasi kunci lain sedang berjalan.") from None
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def write_biometric_keys(self, keys: list[bytes]) -> None:
        """Replace the biometric key file (the caller holds the lock)."""
        replace(self.directory / BIOMETRIC_FILE, b"".join(k + b"\n" for k in keys))

    def rotate_suket(self, paths: SuketPaths | None = None) -> SuketPaths:
        """Make new suket keys here; keep the old public key and certificate in the retired file.

        The new PAdES certificate is self-signed: in production the office replaces it with one
        it obtains (the environment's EKTP_SUKET_* paths are never rewritten).
        """
        for env in ("EKTP_SUKET_QR_KEY", "EKTP_SUKET_SIGNING_KEY", "EKTP_SUKET_SIGNING_CERT"):
            if self.environ.get(env, "").strip():
                raise BadKey(
                    f"{env} diisi dari lingkungan: ganti berkasnya sendiri, kunci lama "
                    f"tambahkan ke {self.directory / SUKET_RETIRED_FILE}."
                )
        with self.locked():
            paths = paths or self.suket_paths()
            retired = paths.retired.read_bytes() if paths.retired.is_file() else b""
            if paths.qr_key.is_file():
                old = serialization.load_pem_private_key(paths.qr_key.read_bytes(), None)
                retired += old.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            if paths.signing_cert.is_file():
                retired += paths.signing_cert.read_bytes()
            # The retired list first: a crash after it leaves the old keys verifiable.
            replace(paths.retired, retired)
            key_pem, cert_pem = self_signed_pair()
            replace(paths.signing_key, key_pem)
            replace(paths.signing_cert, cert_pem)
            replace(paths.qr_key, _ed25519_pem(Ed25519PrivateKey.generate()))
            return paths

    # -- helpers ----------------------------------------------------------------------------

    def _env_path(self, env: str, name: str) -> Path:
        value = self.environ.get(env, "").strip()
        return Path(value) if value else self.directory / name

    def _read_text(self, name: str, env: str) -> str:
        path = self.directory / name
        if self.create and not path.is_file():
            self.ensure()
        try:
            return path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise MissingKeys([f"{env} (atau berkas {path})"]) from None
        except (OSError, UnicodeDecodeError) as error:
            raise BadKey(f"{self.directory / name} tidak dapat dibaca: {error}") from None

    def _tighten(self) -> None:
        """Make the directory 0700 and every file in it 0600 (keys of an older version were not)."""
        os.chmod(self.directory, 0o700)
        for path in self.directory.iterdir():
            if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)


def parse_fernet_keys(text: str, label: str) -> list[bytes]:
    """Return Fernet keys from comma- or line-separated text, refusing a malformed one."""
    keys = [item.encode("ascii") for item in _split(text)]
    if not keys:
        raise BadKey(f"{label} kosong.")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise BadKey(f"{label}: bukan kunci Fernet (32 byte base64url).") from None
    return keys


def parse_abis_keys(text: str, label: str) -> list[bytes]:
    """Return 32-byte AES keys from base64url text, refusing a malformed one."""
    if not _split(text):
        raise BadKey(f"{label} kosong.")
    try:
        return sealing.parse_keys(text)
    except ValueError:
        raise BadKey(f"{label}: setiap kunci harus 32 byte dalam base64url.") from None


def new_fernet_key() -> bytes:
    """Return a fresh Fernet key."""
    return Fernet.generate_key()


def new_abis_key() -> str:
    """Return a fresh AES-256 key in base64url (the form of EKTP_ABIS_KEY)."""
    return sealing.new_key()


def key_id(key: bytes) -> bytes:
    """Return 4 bytes naming a key without revealing it."""
    return hashlib.sha256(b"ektp-key-id:" + key).digest()[:4]


def write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) holding ``data`` unless it exists; return whether it was made.

    The bytes go to a temporary file first, which is then hard-linked to the name: the link
    fails when another process got there first, and nobody ever reads a half-written key.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = _written_temporary(path, data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    _fsync_directory(path.parent)
    return True


def replace(path: Path, data: bytes) -> None:
    """Replace ``path`` (0600) with ``data`` atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = _written_temporary(path, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _written_temporary(path: Path, data: bytes) -> str:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_secret_key() -> bytes:
    return secrets.token_urlsafe(50).encode("ascii") + b"\n"


def _new_fernet_line() -> bytes:
    return new_fernet_key() + b"\n"


def _new_abis_line() -> bytes:
    return new_abis_key().encode("ascii") + b"\n"


def _ed25519_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def self_signed_pair() -> tuple[bytes, bytes]:
    """Return a new ECDSA P-256 key and a self-signed certificate for it (PEM), marked as such."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Disdukcapil (pengembangan)"),
            x509.NameAttribute(NameOID.COMMON_NAME, SELF_SIGNED_MARKER),
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def is_self_signed_here(cert: x509.Certificate) -> bool:
    """Tell whether a certificate is one this module made (not the office's real one)."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return any(SELF_SIGNED_MARKER in str(n.value) for n in names)


def retired_suket_keys(path: Path) -> tuple[list[Ed25519PublicKey], list[x509.Certificate]]:
    """Return the earlier suket QR public keys and certificates kept in ``path``."""
    if not path.is_file():
        return [], []
    data = path.read_bytes()
    public_keys: list[Ed25519PublicKey] = []
    certs: list[x509.Certificate] = []
    marker = b"-----BEGIN "
    for block in data.split(marker)[1:]:
        pem = marker + block
        if pem.startswith(b"-----BEGIN PUBLIC KEY-----"):
            key = serialization.load_pem_public_key(pem)
            if isinstance(key, Ed25519PublicKey):
                public_keys.append(key)
        elif pem.startswith(b"-----BEGIN CERTIFICATE-----"):
            certs.append(x509.load_pem_x509_certificate(pem))
    return public_keys, certs
