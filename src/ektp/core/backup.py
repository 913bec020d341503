"""Back an install up into one encrypted archive, and restore it onto a fresh machine.

What goes in: the database, the whole ``var/keys`` directory and the ABIS gallery directory
(``settings.ABIS_DATA_DIR``), as one tar stream encrypted with age (X25519, through pyrage)
to the install's backup key. The archive holds ``manifest.json`` first: format version, the
program's version, the row count of every table at the moment of the snapshot, and the
sha256, size and mode of every member.

Online-safe. SQLite is copied with its own backup API (``Connection.backup``), which reads
one consistent snapshot, WAL included, while writers go on; the row counts are taken from
that copy. PostgreSQL: a REPEATABLE READ transaction exports its snapshot, counts the rows
in it, and ``pg_dump --format=custom --snapshot=…`` dumps exactly that snapshot. Key and
gallery files are copied byte for byte, and the copy is kept only when a listing (inode,
size, mtime, mode) taken after it matches the one taken before; else it is made again. The
gallery's journal may grow meanwhile: it is only ever appended to (its other files are
replaced by rename), so its first bytes as listed are the gallery as it was then.

The key. The archive is encrypted to the public half of an age identity
(``AGE-SECRET-KEY-1…``) that the install never writes anywhere: whoever lacks the identity
can neither read an archive nor make one that restores. It comes from ``EKTP_BACKUP_KEY`` or
the file named by ``EKTP_BACKUP_KEY_FILE``, and is never put in the archive.

Restore checks the target first (a database holding rows or a gallery holding templates is
left alone unless ``force``), then decrypts and unpacks into a private staging directory,
checking every member against the manifest; a wrong key, a cut or altered archive stops
there, before anything is touched. Then keys and gallery are moved into place (what was
there is kept aside), the database is restored (SQLite through the backup API, PostgreSQL
with ``pg_restore --single-transaction``), and the row counts are compared with the
manifest. Should the database step fail, keys and gallery are put back as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

import pyrage
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

FORMAT = "ektp-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 << 20
DATABASE_MEMBER = {"sqlite": "database/ektp.sqlite3", "postgresql": "database/ektp.pgdump"}
KEYS = "keys"
ABIS = "abis"
# Tables that `migrate` fills by itself, and cache tables: rows there do not make a database
# worth protecting from an overwrite.
BOOKKEEPING_TABLES = frozenset(
    {"django_migrations", "django_content_type", "auth_permission", "sqlite_sequence"}
)
# Files of a gallery directory that belong to the process holding it, not to the gallery.
GALLERY_SKIP = ("LOCK",)
STABLE_COPY_ATTEMPTS = 8
CHUNK = 1 << 20
# libpq connection parameters that may sit in DATABASES["default"]["OPTIONS"]; the others
# there (prepare_threshold, pool, …) are psycopg's or Django's, not pg_dump's.
LIBPQ_OPTIONS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "connect_timeout",
    "target_session_attrs",
    "options",
    "service",
    "passfile",
    "application_name",
)
KEY_PREFIX = "AGE-SECRET-KEY-1"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why, in Bahasa Indonesia."""


@dataclass(frozen=True)
class Member:
    """Describe one file or directory of the archive."""

    name: str
    kind: str  # "file" | "dir"
    mode: int
    size: int = 0
    sha256: str = ""

    def to_dict(self) -> dict:
        data = {"kind": self.kind, "mode": f"{self.mode:04o}"}
        if self.kind == "file":
            data.update(size=self.size, sha256=self.sha256)
        return data


@dataclass
class Manifest:
    """What an archive holds and what its restore must find again."""

    vendor: str
    tables: dict[str, int]
    members: dict[str, Member]
    created_at: str = ""
    version: str = ""
    node: str = ""
    abis_remote: bool = False

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "version": self.version,
                "created_at": self.created_at,
                "node": self.node,
                "database": {
                    "vendor": self.vendor,
                    "member": DATABASE_MEMBER[self.vendor],
                    "tables": self.tables,
                },
                "abis_remote": self.abis_remote,
                "members": {name: m.to_dict() for name, m in sorted(self.members.items())},
            },
            indent=1,
            ensure_ascii=False,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise ValueError("format")
            if raw.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    _(
                        "Arsip ini berformat versi %(found)s; program ini memulihkan versi "
                        "%(known)s. Pakai versi ektp yang membuat arsip itu."
                    )
                    % {"found": raw.get("format_version"), "known": FORMAT_VERSION}
                )
            vendor = raw["database"]["vendor"]
            if vendor not in DATABASE_MEMBER:
                raise ValueError("vendor")
            tables = {str(k): int(v) for k, v in raw["database"]["tables"].items()}
            members = {}
            for name, item in raw["members"].items():
                kind = item["kind"]
                if kind not in ("file", "dir"):
                    raise ValueError("kind")
                members[name] = Member(
                    name=_safe_name(name),
                    kind=kind,
                    mode=int(item["mode"], 8) & 0o777,
                    size=int(item.get("size", 0)),
                    sha256=str(item.get("sha256", "")),
                )
            return cls(
                vendor=vendor,
                tables=tables,
                members=members,
                created_at=str(raw.get("created_at", "")),
                version=str(raw.get("version", "")),
                node=str(raw.get("node", "")),
                abis_remote=bool(raw.get("abis_remote", False)),
            )
        except BackupError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(
                _("Manifes arsip tidak terbaca: ini bukan arsip cadangan ektp yang utuh.")
            ) from error


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest


@dataclass
class RestoreResult:
    manifest: Manifest
    gallery: dict[str, int] = field(default_factory=dict)
    kept_aside: list[Path] = field(default_factory=list)


# --- the key ---------------------------------------------------------------------------------


def missing_key() -> str:
    """Say how to make and supply a backup key."""
    return _(
        "Kunci cadangan belum diatur. Buat satu, simpan di tempat yang aman dan terpisah dari "
        "arsipnya: `ektp backup --new-key /lokasi/aman/ektp-cadangan.key`, lalu setel "
        "EKTP_BACKUP_KEY_FILE ke berkas itu (atau EKTP_BACKUP_KEY ke isinya). "
        "Tanpa kunci itu arsip tidak dapat dipulihkan."
    )


def new_key(path: Path) -> Path:
    """Write a new backup key (an age X25519 identity) to ``path``, readable by its owner only."""
    path = Path(path)
    identity = pyrage.x25519.Identity.generate()
    text = (
        f"# Kunci cadangan ektp, dibuat {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}.\n"
        "# Simpan di luar mesin ini dan terpisah dari arsip cadangan; tanpa kunci ini arsip\n"
        "# tidak dapat dipulihkan, dan siapa pun yang memegangnya dapat membaca arsip.\n"
        f"{identity}\n"
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(
            _("Berkas %(path)s sudah ada; kunci lama tidak ditimpa.") % {"path": path}
        ) from None
    except OSError as error:
        raise BackupError(
            _("Kunci tidak dapat ditulis ke %(path)s: %(error)s")
            % {"path": path, "error": error.strerror}
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    return path


def load_identity() -> pyrage.x25519.Identity:
    """Return the backup key from EKTP_BACKUP_KEY or EKTP_BACKUP_KEY_FILE."""
    text = settings.BACKUP_KEY
    source = "EKTP_BACKUP_KEY"
    if not text and settings.BACKUP_KEY_FILE:
        source = "EKTP_BACKUP_KEY_FILE"
        try:
            text = Path(settings.BACKUP_KEY_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise BackupError(
                _("Berkas kunci cadangan %(path)s tidak dapat dibaca: %(error)s")
                % {"path": settings.BACKUP_KEY_FILE, "error": error}
            ) from None
    if not text:
        raise BackupError(missing_key())
    lines = [line.strip() for line in text.splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    if len(keys) != 1 or not keys[0].startswith(KEY_PREFIX):
        raise BackupError(
            _("%(source)s tidak berisi kunci cadangan (satu baris AGE-SECRET-KEY-1…). ")
            % {"source": source}
            + missing_key()
        )
    try:
        return pyrage.x25519.Identity.from_str(keys[0])
    except pyrage.IdentityError:
        raise BackupError(
            _("%(source)s berisi kunci cadangan yang rusak.") % {"source": source}
        ) from None


# --- paths -----------------------------------------------------------------------------------


def keys_dir() -> Path:
    """The install's key directory (the key store of ektp.core.keys)."""
    return Path(settings.EKTP_KEY_DIR)


def gallery_dir() -> Path:
    return Path(settings.ABIS_DATA_DIR)


def default_output() -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    node = "".join(c if c.isalnum() or c in "-_" else "-" for c in settings.EKTP_NODE_ID)
    return Path(settings.BACKUP_DIR) / f"ektp-{node}-{stamp}.tar.age"


def _safe_name(name: str) -> str:
    """Return an archive member name if it is a plain relative path under a known top folder."""
    path = PurePosixPath(name)
    if (
        not name
        or name != str(path)
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in path.parts)
        or "\\" in name
        or any(ord(c) < 32 for c in name)
        or (path.parts[0] not in (KEYS, ABIS, "database") and name != MANIFEST)
    ):
        raise BackupError(
            _("Arsip memuat nama berkas yang tidak sah (%(name)s): arsip ditolak.")
            % {"name": name[:200]}
        )
    return name


# --- copying files ---------------------------------------------------------------------------


def _fingerprint(root: Path, skip: tuple[str, ...]) -> dict[str, tuple]:
    """Map every file and directory under ``root`` to what changes when it is written."""
    found: dict[str, tuple] = {}
    if not root.exists():
        return found
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.name in skip or path.name.endswith(".tmp"):
            continue
        try:
            info = path.lstat()
        except FileNotFoundError:  # removed by a checkpoint since the listing: changed
            found[relative] = ("gone",)
            continue
        if stat.S_ISDIR(info.st_mode):
            found[relative] = ("dir", stat.S_IMODE(info.st_mode))
        elif stat.S_ISREG(info.st_mode):
            found[relative] = (
                "file",
                info.st_ino,
                info.st_size,
                info.st_mtime_ns,
                stat.S_IMODE(info.st_mode),
            )
    return found


def _copy_file(source: Path, target: Path, mode: int, length: int) -> str:
    """Copy the first ``length`` bytes of ``source`` to a new file ``target``; return sha256."""
    digest = hashlib.sha256()
    left = length
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source, "rb") as reader, os.fdopen(fd, "wb") as writer:
        while left and (chunk := reader.read(min(CHUNK, left))):
            digest.update(chunk)
            writer.write(chunk)
            left -= len(chunk)
    if left:
        raise FileNotFoundError(source)  # cut short under us: treated as a change
    os.chmod(target, mode)
    return digest.hexdigest()


def _unchanged(before: dict, after: dict, *, append_only: bool) -> bool:
    """Tell whether a directory still holds what its earlier listing saw.

    With ``append_only`` a file that kept its inode and only grew still counts as unchanged:
    the copy took its first bytes as listed, which is the file as it was then. (The gallery
    only appends to its journal and replaces every other file by rename.)
    """
    if before.keys() != after.keys():
        return False
    for name, was in before.items():
        now = after[name]
        if now == was:
            continue
        grew = (
            append_only
            and was[0] == now[0] == "file"
            and (was[1], was[4]) == (now[1], now[4])
            and now[2] > was[2]
        )
        if not grew:
            return False
    return True


def copy_stable(
    source: Path,
    target: Path,
    *,
    prefix: str,
    skip: tuple[str, ...] = (),
    append_only: bool = False,
) -> dict[str, Member]:
    """Copy a directory's files while no writer changes them; return their members.

    The listing (inode, size, mtime, mode of every file) is taken before and after the copy;
    when they differ a writer was at work, and the copy is made again after a pause, up to
    STABLE_COPY_ATTEMPTS times.
    """
    for attempt in range(STABLE_COPY_ATTEMPTS):
        if attempt:
            time.sleep(min(0.05 * 2**attempt, 2.0))
        before = _fingerprint(source, skip)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(mode=0o700, parents=True)
        members: dict[str, Member] = {}
        changed = False
        for relative, info in before.items():
            name = f"{prefix}/{relative}"
            if info[0] == "gone":
                changed = True
                break
            if info[0] == "dir":
                (target / relative).mkdir(mode=0o700, exist_ok=True)
                members[name] = Member(name, "dir", info[1])
                continue
            try:
                digest = _copy_file(source / relative, target / relative, info[4], info[2])
            except FileNotFoundError:  # replaced or removed while we copied
                changed = True
                break
            members[name] = Member(name, "file", info[4], info[2], digest)
        if changed or not _unchanged(before, _fingerprint(source, skip), append_only=append_only):
            continue
        for relative, info in before.items():
            if info[0] == "dir":
                os.chmod(target / relative, info[1])
        if source.exists():
            members[prefix] = Member(prefix, "dir", stat.S_IMODE(source.stat().st_mode))
        return members
    raise BackupError(
        _(
            "Berkas di %(path)s terus berubah selama disalin (%(attempts)s kali dicoba); "
            "ulangi cadangan saat sistem lebih sepi."
        )
        % {"path": source, "attempts": STABLE_COPY_ATTEMPTS}
    )


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


# --- the database ----------------------------------------------------------------------------


def _vendor() -> str:
    if connection.vendor not in DATABASE_MEMBER:
        raise BackupError(
            _("Basis data %(vendor)s tidak didukung oleh cadangan ektp.")
            % {"vendor": connection.vendor}
        )
    return connection.vendor


def _count_rows(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _sqlite_tables(db: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in db.execute(
            # the tables Django's introspection lists (sqlite_sequence is not one)
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        )
    ]
    counts = {}
    for name in sorted(names):
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = int(db.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0])
    return counts


def table_counts() -> dict[str, int]:
    """Return the row count of every table of the database Django is configured for."""
    with connection.cursor() as cursor:
        return _count_rows(cursor, connection.introspection.table_names(cursor))


def _bookkeeping() -> set[str]:
    tables = set(BOOKKEEPING_TABLES)
    for cache in settings.CACHES.values():
        if "DatabaseCache" in cache.get("BACKEND", ""):
            tables.add(cache["LOCATION"])
    return tables


def database_in_use() -> dict[str, int]:
    """Return the tables that hold rows other than what `migrate` puts there by itself."""
    ignored = _bookkeeping()
    return {t: n for t, n in table_counts().items() if n and t not in ignored}


def _snapshot_sqlite(target: Path) -> dict[str, int]:
    """Copy the database with SQLite's backup API (one consistent read, WAL included)."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        copy.commit()
        return _sqlite_tables(copy)
    finally:
        copy.close()


def _libpq() -> tuple[str, dict[str, str]]:
    """Return a libpq connection string for the configured database, and an environment
    carrying its password (kept out of the command line)."""
    from psycopg.conninfo import make_conninfo

    db = settings.DATABASES["default"]
    options = db.get("OPTIONS", {})
    params = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "host": db.get("HOST"),
        "port": str(db.get("PORT") or ""),
        **{key: str(options[key]) for key in LIBPQ_OPTIONS if key in options},
    }
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return make_conninfo(**{k: v for k, v in params.items() if v}), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            _(
                "%(program)s tidak ditemukan. Pasang klien PostgreSQL (paket postgresql-client) "
                "yang versinya sama atau lebih baru dari server, atau setel %(setting)s."
            )
            % {
                "program": command[0],
                "setting": "EKTP_PG_DUMP" if what == "pg_dump" else "EKTP_PG_RESTORE",
            }
        ) from None
    if done.returncode != 0:
        detail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BackupError(
            _("%(what)s gagal (kode %(code)s): %(detail)s")
            % {"what": what, "code": done.returncode, "detail": detail}
        )


def _snapshot_postgresql(target: Path) -> dict[str, int]:
    """Dump with pg_dump inside a snapshot exported by a transaction that counts the rows."""
    conninfo, env = _libpq()
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _count_rows(cursor, connection.introspection.table_names(cursor))
        _run(
            [
                settings.BACKUP_PG_DUMP,
                f"--dbname={conninfo}",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
            ],
            env,
            "pg_dump",
        )
    return counts


# --- backing up ------------------------------------------------------------------------------


def create_backup(*, output: Path | None = None) -> BackupResult:
    """Write one encrypted archive of the database, var/keys and the ABIS gallery."""
    recipient = load_identity().to_public()
    vendor = _vendor()
    output = Path(output) if output else default_output()
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cadangan-", dir=settings.VAR_DIR))
    try:
        database = staging / DATABASE_MEMBER[vendor]
        database.parent.mkdir(mode=0o700)
        if vendor == "sqlite":
            tables = _snapshot_sqlite(database)
        else:
            tables = _snapshot_postgresql(database)
        members = {"database": Member("database", "dir", 0o700)}
        size, digest = _hash_file(database)
        members[DATABASE_MEMBER[vendor]] = Member(
            DATABASE_MEMBER[vendor], "file", 0o600, size, digest
        )
        members.update(copy_stable(keys_dir(), staging / KEYS, prefix=KEYS))
        members.update(
            copy_stable(
                gallery_dir(), staging / ABIS, prefix=ABIS, skip=GALLERY_SKIP, append_only=True
            )
        )
        manifest = Manifest(
            vendor=vendor,
            tables=tables,
            members=members,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            version=metadata.version("ektp"),
            node=settings.EKTP_NODE_ID,
            abis_remote=bool(settings.ABIS_URL),
        )
        _encrypt(staging, manifest, output, recipient)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(output, manifest)


def _write_tar(writer, staging: Path, manifest: Manifest) -> None:
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        body = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(body), 0o600
        tar.addfile(info, io.BytesIO(body))
        for name, member in sorted(manifest.members.items()):
            info = tarfile.TarInfo(name)
            info.mode = member.mode
            if member.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info.size = member.size
            with open(staging / name, "rb") as handle:
                tar.addfile(info, handle)


def _encrypt(staging: Path, manifest: Manifest, output: Path, recipient) -> None:
    """Stream the tar of the staged members through age into ``output`` (via a .partial file)."""
    partial = output.with_name(output.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    read_end, write_end = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_end, "wb") as writer:
                _write_tar(writer, staging, manifest)
        except BaseException as error:  # handed to the main thread below
            failure.append(error)

    producer = threading.Thread(target=produce, name="ektp-backup-tar", daemon=True)
    try:
        with os.fdopen(read_end, "rb") as reader, os.fdopen(fd, "wb") as out:
            producer.start()
            pyrage.encrypt_io(reader, out, [recipient])
            out.flush()
            os.fsync(out.fileno())
        producer.join()
        if failure:
            raise failure[0]
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        if producer.ident is None:
            os.close(write_end)  # the producer never ran
        else:
            producer.join()


# --- restoring -------------------------------------------------------------------------------


def _gallery_in_use(path: Path) -> bool:
    """Tell whether a gallery directory holds anything but an empty journal and its lock."""
    if not path.exists():
        return False
    return any(
        p.is_file() and p.name not in GALLERY_SKIP and p.stat().st_size > 0 for p in path.rglob("*")
    )


def check_target(*, force: bool) -> None:
    """Refuse to restore over a database with rows or a gallery with templates, unless forced."""
    if force:
        return
    in_use = database_in_use()
    if in_use:
        sample = ", ".join(f"{t} ({n})" for t, n in sorted(in_use.items())[:5])
        raise BackupError(
            _(
                "Basis data tujuan tidak kosong (%(sample)s). Pemulihan akan menimpanya; "
                "ulangi dengan --force bila memang itu maksudnya."
            )
            % {"sample": sample}
        )
    if _gallery_in_use(gallery_dir()):
        raise BackupError(
            _(
                "Galeri ABIS di %(path)s tidak kosong. Pemulihan akan menggantinya; "
                "ulangi dengan --force bila memang itu maksudnya."
            )
            % {"path": gallery_dir()}
        )


def _unpack(reader, staging: Path) -> Manifest:
    """Unpack a decrypted tar stream into ``staging``, checking every member against the manifest."""
    with tarfile.open(fileobj=reader, mode="r|") as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise BackupError(_("Arsip tidak diawali manifes: ini bukan arsip cadangan ektp."))
        if first.size > MAX_MANIFEST_BYTES:
            raise BackupError(_("Manifes arsip terlalu besar: arsip ditolak."))
        manifest = Manifest.from_json(tar.extractfile(first).read())
        seen: set[str] = set()
        while (item := tar.next()) is not None:
            name = _safe_name(item.name)
            expected = manifest.members.get(name)
            if expected is None or name in seen:
                raise BackupError(
                    _("Arsip memuat %(name)s yang tidak ada di manifesnya: arsip diubah.")
                    % {"name": name}
                )
            seen.add(name)
            target = staging / name
            if expected.kind == "dir":
                if not item.isdir():
                    raise _mismatch(name)
                target.mkdir(mode=0o700, parents=True, exist_ok=True)
                continue
            if not item.isfile():
                raise _mismatch(name)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            source = tar.extractfile(item)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as writer:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
            if size != expected.size or digest.hexdigest() != expected.sha256:
                raise _mismatch(name)
            os.chmod(target, expected.mode)
        missing = sorted(set(manifest.members) - seen)
        if missing:
            raise BackupError(
                _(
                    "Arsip tidak memuat %(names)s yang disebut manifesnya: arsip terpotong atau diubah."
                )
                % {"names": ", ".join(missing[:5])}
            )
    for name, member in manifest.members.items():
        if member.kind == "dir":
            os.chmod(staging / name, member.mode)
    return manifest


def _mismatch(name: str) -> BackupError:
    return BackupError(
        _("Isi %(name)s di arsip tidak cocok dengan manifesnya (sha256): arsip rusak atau diubah.")
        % {"name": name}
    )


def _decrypt(archive: Path, identity, staging: Path) -> Manifest:
    """Decrypt and unpack ``archive`` into ``staging``; raise BackupError when it is not intact."""
    try:
        source = open(archive, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as error:
        raise BackupError(
            _("Arsip %(path)s tidak dapat dibuka: %(error)s")
            % {"path": archive, "error": error.strerror}
        ) from None
    read_end, write_end = os.pipe()
    outcome: list = []

    def consume() -> None:
        try:
            with os.fdopen(read_end, "rb") as reader:
                try:
                    outcome.append(_unpack(reader, staging))
                finally:
                    while reader.read(CHUNK):  # let the decryption finish writing
                        pass
        except BaseException as error:  # handed to the main thread below
            outcome.append(error)

    consumer = threading.Thread(target=consume, name="ektp-restore-tar", daemon=True)
    consumer.start()
    decryption: BaseException | None = None
    try:
        with os.fdopen(write_end, "wb") as writer:
            pyrage.decrypt_io(source, writer, [identity])
    except pyrage.DecryptError as error:
        decryption = error
    except OSError as error:
        decryption = error
    finally:
        source.close()
        consumer.join()
    if isinstance(decryption, pyrage.DecryptError):
        if "no matching keys" in str(decryption).lower():
            raise BackupError(
                _(
                    "Kunci cadangan tidak cocok dengan arsip ini (arsip dibuat dengan kunci lain). "
                    "Tidak ada yang dipulihkan."
                )
            )
        raise BackupError(
            _(
                "Berkas %(path)s bukan arsip cadangan ektp atau kepalanya rusak. Tidak ada yang dipulihkan."
            )
            % {"path": archive}
        )
    if decryption is not None:
        raise BackupError(
            _(
                "Arsip cadangan rusak atau terpotong: isinya tidak lolos pemeriksaan keaslian. "
                "Tidak ada yang dipulihkan."
            )
        )
    result = outcome[0] if outcome else BackupError(_("Arsip kosong."))
    if isinstance(result, BackupError):
        raise BackupError(str(result) + " " + _("Tidak ada yang dipulihkan."))
    if isinstance(result, tarfile.TarError | EOFError):
        raise BackupError(
            _("Arsip cadangan rusak: isinya bukan tar yang utuh. Tidak ada yang dipulihkan.")
        )
    if isinstance(result, BaseException):
        raise result
    return result


def _restore_sqlite(staged: Path) -> None:
    source = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
    connection.close()
    connection.ensure_connection()
    try:
        source.backup(connection.connection)
    finally:
        source.close()
        connection.close()


def _restore_postgresql(staged: Path) -> None:
    conninfo, env = _libpq()
    connection.close()
    _run(
        [
            settings.BACKUP_PG_RESTORE,
            f"--dbname={conninfo}",
            "--single-transaction",
            "--exit-on-error",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            str(staged),
        ],
        env,
        "pg_restore",
    )


@contextlib.contextmanager
def _swapped(pairs: list[tuple[Path, Path]], stamp: str, kept: list[Path]) -> Iterator[None]:
    """Put staged directories in place, keeping what was there aside; undo it on error."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for staged, target in pairs:
            aside = None
            if target.exists():
                if any(target.iterdir()):
                    aside = target.with_name(f"{target.name}.sebelum-pemulihan-{stamp}")
                    target.rename(aside)
                else:
                    target.rmdir()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staged, target)
            done.append((target, aside))
        yield
    except BaseException:
        for target, aside in reversed(done):
            shutil.rmtree(target, ignore_errors=True)
            if aside is not None:
                aside.rename(target)
        raise
    kept.extend(aside for _, aside in done if aside is not None)


def restore_backup(
    *, archive: Path, force: bool = False, progress: Callable[[str], None] | None = None
) -> RestoreResult:
    """Restore an archive onto this install; see the module's docstring for the order of steps."""
    say = progress or (lambda message: None)
    identity = load_identity()
    vendor = _vendor()
    check_target(force=force)
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pemulihan-", dir=settings.VAR_DIR))
    try:
        say(_("Mendekripsi dan memeriksa arsip…"))
        manifest = _decrypt(Path(archive), identity, staging)
        if manifest.vendor != vendor:
            raise BackupError(
                _(
                    "Arsip ini berisi basis data %(archive)s, sedangkan mesin ini memakai "
                    "%(here)s. Tidak ada yang dipulihkan."
                )
                % {"archive": manifest.vendor, "here": vendor}
            )
        result = RestoreResult(manifest)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        pairs = [
            (staging / name, target)
            for name, target in ((KEYS, keys_dir()), (ABIS, gallery_dir()))
            if name in manifest.members
        ]
        from ektp.dedup.engine import close_engine

        close_engine()  # an in-process gallery of this process lets go of its directory
        with _swapped(pairs, stamp, result.kept_aside):
            say(_("Memulihkan basis data…"))
            if vendor == "sqlite":
                _restore_sqlite(staging / DATABASE_MEMBER[vendor])
            else:
                _restore_postgresql(staging / DATABASE_MEMBER[vendor])
        found = table_counts()
        differ = {
            table: (count, found.get(table))
            for table, count in manifest.tables.items()
            if found.get(table) != count
        }
        if differ:
            sample = ", ".join(f"{t}: {a} → {b}" for t, (a, b) in sorted(differ.items())[:5])
            raise BackupError(
                _("Jumlah baris setelah pemulihan berbeda dari manifes: %(sample)s")
                % {"sample": sample}
            )
        result.gallery = _open_gallery()
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _open_gallery() -> dict[str, int]:
    """Open the restored gallery through the ABIS engine and return its size per modality."""
    if settings.ABIS_URL:
        return {}
    from ektp.abis.errors import AbisError
    from ektp.dedup.engine import close_engine, get_engine

    try:
        return dict(get_engine().ping()["modalities"])
    except (AbisError, OSError) as error:
        raise BackupError(
            _(
                "Basis data dan kunci telah dipulihkan, tetapi galeri ABIS tidak dapat dibuka "
                "(%(error)s). Bangun ulang galeri dari basis data."
            )
            % {"error": error}
        ) from error
    finally:
        close_engine()
