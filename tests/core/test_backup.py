"""`ektp backup` and `ektp restore`: one encrypted archive that restores onto a fresh machine.

The round trip runs the real commands as processes, each with its own EKTP_VAR_DIR (and on
PostgreSQL its own database, created here and dropped after), so settings read that install:
a small seeded district with a suket and iris templates is backed up while another thread
keeps inserting rows, then restored onto a fresh var dir and an empty database.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyrage
import pytest
from django.core.management import CommandError, call_command

from ektp.core import backup
from ektp.regions.models import Region

ROOT = Path(__file__).resolve().parents[2]
EKTP = Path(sys.executable).with_name("ektp")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
# What the test's own environment may say about an install; each install here says its own.
INSTALL_VARIABLES = (
    "DATABASE_URL",
    "ABIS_URL",
    "ABIS_DATA_DIR",
    "EKTP_CACHE",
    "EKTP_CACHE_DIR",
    "EKTP_BACKUP_KEY",
    "EKTP_BACKUP_KEY_FILE",
    "EKTP_BACKUP_DIR",
    "EKTP_SUKET_QR_KEY",
    "EKTP_SUKET_SIGNING_KEY",
    "EKTP_SUKET_SIGNING_CERT",
)
PROBE_TABLE = "backup_probe"


@dataclass
class Install:
    """One ektp install: a var dir, a database and a backup key, driven through processes."""

    var: Path
    key: str
    database_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in INSTALL_VARIABLES}
        env.update(EKTP_VAR_DIR=str(self.var), EKTP_BACKUP_KEY=self.key, **self.extra)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def ektp(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(EKTP), *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )

    def scenario(self, action: str, **extra: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "tests.core.backup_scenario", action],
            env={**self.env, **extra},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def connect(self):
        """Open a plain DB-API connection in autocommit mode to this install's database."""
        if self.database_url:
            import psycopg

            return psycopg.connect(self.database_url, autocommit=True)
        return sqlite3.connect(self.var / "ektp.sqlite3", timeout=30, isolation_level=None)

    def tables(self) -> list[str]:
        with contextlib.closing(self.connect()) as db:
            if self.database_url:
                rows = db.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            else:
                rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return [row[0] for row in rows]


@pytest.fixture(scope="module")
def make_install(tmp_path_factory):
    """Make installs with a fresh var dir (and on PostgreSQL a fresh database, dropped after)."""
    created: list[str] = []
    admin = None
    if POSTGRES:
        import psycopg

        admin = psycopg.connect(DATABASE_URL, dbname="postgres", autocommit=True)

    def make(name: str, key: str | None = None) -> Install:
        var = tmp_path_factory.mktemp(name)
        key = key or str(pyrage.x25519.Identity.generate())
        url = ""
        if admin is not None:
            database = f"ektp_cadangan_{name}_{uuid.uuid4().hex[:8]}"
            admin.execute(f'CREATE DATABASE "{database}"')
            created.append(database)
            url = urlsplit(DATABASE_URL)._replace(path=f"/{database}").geturl()
        return Install(var=var, key=key, database_url=url)

    yield make
    if admin is not None:
        for database in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


@dataclass
class BackedUp:
    source: Install
    built: dict
    archive: Path
    probes_before: int
    probes_after: int


def _insert_probes(install: Install, stop: threading.Event, errors: list) -> None:
    """Insert one committed row after another until told to stop."""
    try:
        with contextlib.closing(install.connect()) as db:
            placeholder = "%s" if install.database_url else "?"
            while not stop.is_set():
                db.execute(f"INSERT INTO {PROBE_TABLE} (note) VALUES ({placeholder})", ("tulis",))
                stop.wait(0.002)
    except Exception as error:  # surfaced in the fixture's assertion
        errors.append(error)


def _count_probes(install: Install) -> int:
    with contextlib.closing(install.connect()) as db:
        return db.execute(f"SELECT COUNT(*) FROM {PROBE_TABLE}").fetchone()[0]


@pytest.fixture(scope="module")
def backed_up(make_install, tmp_path_factory) -> BackedUp:
    """A seeded office with a suket and three iris templates, backed up while rows go in."""
    source = make_install("sumber")
    built = source.scenario("build")
    # The key store is an opaque directory: a nested folder and a private file must come back
    # as they are, whatever their names.
    store = source.var / "keys" / "store"
    store.mkdir(mode=0o700)
    (store / "rahasia.bin").write_bytes(os.urandom(64))
    os.chmod(store / "rahasia.bin", 0o600)
    with contextlib.closing(source.connect()) as db:
        kind = "bigserial" if source.database_url else "INTEGER"
        db.execute(f"CREATE TABLE {PROBE_TABLE} (id {kind} PRIMARY KEY, note TEXT NOT NULL)")
    stop, errors = threading.Event(), []
    writer = threading.Thread(target=_insert_probes, args=(source, stop, errors))
    writer.start()
    try:
        while _count_probes(source) < 10:
            stop.wait(0.01)
        probes_before = _count_probes(source)
        archive = tmp_path_factory.mktemp("arsip") / "cadangan.tar.age"
        done = source.ektp("backup", "--output", str(archive))
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Cadangan ditulis ke" in done.stdout
    return BackedUp(source, built, archive, probes_before, _count_probes(source))


def _tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[str, int]]:
    """Map each file and folder under root to (sha256 or "dir", permission bits)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.name in skip:
            continue
        mode = path.stat().st_mode & 0o777
        digest = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        found[path.relative_to(root).as_posix()] = (digest, mode)
    return found


@pytest.mark.slow
def test_restore_on_a_fresh_machine_brings_back_rows_suket_keys_and_gallery(
    backed_up, make_install
):
    source, built = backed_up.source, backed_up.built
    target = make_install("tujuan")
    target.key = source.key

    done = target.ektp("restore", str(backed_up.archive))

    assert done.returncode == 0, done.stderr[-3000:]
    assert "jumlah baris sama seperti manifes" in done.stdout
    # The rows written while the backup ran: one consistent prefix, taken mid-way.
    with contextlib.closing(target.connect()) as db:
        ids = [row[0] for row in db.execute(f"SELECT id FROM {PROBE_TABLE} ORDER BY id")]
    assert ids == list(range(1, len(ids) + 1))
    assert backed_up.probes_before <= len(ids) < backed_up.probes_after
    # Keys and gallery byte for byte, modes included.
    assert _tree(target.var / "keys") == _tree(source.var / "keys")
    assert _tree(target.var / "abis", skip=("LOCK",)) == _tree(source.var / "abis", skip=("LOCK",))
    assert (target.var / "keys" / "store").stat().st_mode & 0o777 == 0o700
    assert (target.var / "keys" / "store" / "rahasia.bin").stat().st_mode & 0o777 == 0o600

    seen = target.scenario("inspect", SCENARIO_QR_PAYLOAD=built["qr_payload"])

    tables = dict(seen["tables"])
    tables.pop(PROBE_TABLE)
    assert tables == built["tables"]
    assert seen["verify_status"] == 200, seen["verify"]
    assert seen["verify"]["signature_valid"] is True
    assert seen["verify"]["number"] == built["suket_number"]
    assert seen["public_key"] == built["public_key"]
    assert seen["gallery_count"] == len(built["subjects"])
    assert seen["identified"] == built["subjects"]

    again = target.ektp("restore", str(backed_up.archive))
    assert again.returncode != 0
    assert "tidak kosong" in again.stderr and "--force" in again.stderr


@pytest.mark.slow
def test_restore_with_another_key_says_so_and_restores_nothing(backed_up, make_install):
    target = make_install("kunci_lain")

    done = target.ektp("restore", str(backed_up.archive))

    assert done.returncode != 0
    assert "Kunci cadangan tidak cocok" in done.stderr
    assert "Tidak ada yang dipulihkan" in done.stderr
    # The target made keys of its own on first start; none of the archived ones arrived.
    archived = _key_files(backed_up.source.var / "keys")
    assert not set(_key_files(target.var / "keys").items()) & set(archived.items())
    assert not (target.var / "abis").exists()
    assert target.tables() == []


# --- bad archives, restored in this process over the test database (with --force) ----------


@pytest.fixture
def here(settings, tmp_path, backed_up):
    """Point this process's install at an empty var dir holding the archive's key."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    settings.ABIS_DATA_DIR = settings.VAR_DIR / "abis"
    settings.BACKUP_KEY = backed_up.source.key
    settings.BACKUP_KEY_FILE = ""
    return settings.VAR_DIR


def _restore_fails(archive: Path, var: Path, *options: str) -> str:
    regions = Region.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("restore", str(archive), *options)
    assert Region.objects.count() == regions
    assert sorted(p.name for p in var.iterdir()) == []  # no keys, no gallery, no staging left
    return str(caught.value)


def _decrypted(backed_up: BackedUp) -> list[tuple[tarfile.TarInfo, bytes]]:
    identity = pyrage.x25519.Identity.from_str(backed_up.source.key)
    plain = pyrage.decrypt(backed_up.archive.read_bytes(), [identity])
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        return [(info, tar.extractfile(info).read() if info.isfile() else b"") for info in tar]


def _encrypted(members: list[tuple[tarfile.TarInfo, bytes]], key: str, path: Path) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    recipient = pyrage.x25519.Identity.from_str(key).to_public()
    path.write_bytes(pyrage.encrypt(buffer.getvalue(), [recipient]))
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("keep", [60, 0.5, -100], ids=["header", "middle", "end"])
def test_a_cut_archive_is_refused_as_damaged(backed_up, here, tmp_path, keep):
    data = backed_up.archive.read_bytes()
    end = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    cut = tmp_path / "terpotong.tar.age"
    cut.write_bytes(data[:end])

    message = _restore_fails(cut, here, "--force")

    assert "rusak" in message and "Tidak ada yang dipulihkan" in message


@pytest.mark.django_db
def test_a_flipped_byte_is_refused_as_damaged(backed_up, here, tmp_path):
    data = bytearray(backed_up.archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped = tmp_path / "diubah.tar.age"
    flipped.write_bytes(bytes(data))

    message = _restore_fails(flipped, here, "--force")

    assert "rusak atau terpotong" in message


def _key_files(directory: Path) -> dict[str, bytes]:
    """The non-empty files of a key directory by name (empty lock files say nothing)."""
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file() and p.stat().st_size}


def _change_member(members):
    for info, _ in members:
        if info.name.startswith("keys/") and info.isfile() and info.size:
            return [(i, bytes([d[0] ^ 1]) + d[1:] if i is info else d) for i, d in members]
    raise AssertionError("no key file in the archive")


def _add_member(members):
    extra = tarfile.TarInfo("keys/sisipan.pem")
    return [*members, (extra, b"bukan milik arsip ini")]


def _escape_member(members):
    extra = tarfile.TarInfo("keys/../../keluar.txt")
    return [*members, (extra, b"keluar dari direktori")]


def _drop_member(members):
    return [(i, d) for i, d in members if not i.name.startswith("abis/") or not i.isfile()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_change_member, "tidak cocok dengan manifesnya"),
        (_add_member, "tidak ada di manifesnya"),
        (_escape_member, "tidak sah"),
        (_drop_member, "terpotong atau diubah"),
    ],
    ids=["changed", "added", "escaping", "dropped"],
)
def test_an_archive_whose_members_differ_from_its_manifest_is_refused(
    backed_up, here, tmp_path, tamper, expected
):
    members = tamper(_decrypted(backed_up))
    archive = _encrypted(members, backed_up.source.key, tmp_path / "diubah.tar.age")

    message = _restore_fails(archive, here, "--force")

    assert expected in message and "Tidak ada yang dipulihkan" in message


@pytest.mark.django_db
def test_restore_over_a_database_in_use_needs_force(backed_up, here):
    message = _restore_fails(backed_up.archive, here)

    assert "tidak kosong" in message and "--force" in message


# --- the key -----------------------------------------------------------------------------------


def test_backup_without_a_key_says_how_to_make_one(settings):
    settings.BACKUP_KEY = ""
    settings.BACKUP_KEY_FILE = ""

    with pytest.raises(CommandError) as caught:
        call_command("backup")

    assert "ektp backup --new-key" in str(caught.value)
    assert "EKTP_BACKUP_KEY_FILE" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["", "# hanya komentar\n", "kata sandi biasa\n", "AGE-SECRET-KEY-1RUSAK\n"],
    ids=["empty", "comment", "password", "damaged"],
)
def test_a_key_file_without_a_key_is_refused(settings, tmp_path, text):
    path = tmp_path / "kunci.key"
    path.write_text(text)
    settings.BACKUP_KEY = ""
    settings.BACKUP_KEY_FILE = str(path)

    with pytest.raises(backup.BackupError) as caught:
        backup.load_identity()

    assert "kunci cadangan" in str(caught.value).lower()


def test_new_key_is_private_readable_and_never_overwritten(settings, tmp_path):
    path = tmp_path / "kunci.key"
    call_command("backup", "--new-key", str(path), stdout=io.StringIO())

    assert path.stat().st_mode & 0o777 == 0o600
    settings.BACKUP_KEY = ""
    settings.BACKUP_KEY_FILE = str(path)
    assert str(backup.load_identity()).startswith("AGE-SECRET-KEY-1")
    before = path.read_bytes()
    with pytest.raises(CommandError, match="sudah ada"):
        call_command("backup", "--new-key", str(path))
    assert path.read_bytes() == before


# --- the gallery while it is written -----------------------------------------------------------


def test_gallery_copied_while_written_and_checkpointed_opens_whole(settings, tmp_path):
    from ektp.abis import synthetic
    from ektp.dedup.engine import close_engine, get_engine

    templates = synthetic.make_population(40, seed=11)
    source, copy = tmp_path / "galeri", tmp_path / "salinan"
    settings.ABIS_URL = None
    settings.ABIS_DATA_DIR = str(source)
    engine = get_engine()
    engine.insert("awal", templates[0].tobytes())
    stop, written = threading.Event(), [1]

    def write() -> None:
        for index in range(1, len(templates)):
            if stop.wait(0.005):
                return
            engine.insert(f"S{index:03d}", templates[index].tobytes())
            if index % 8 == 0:
                engine.checkpoint()  # replaces the snapshot and removes the old generation
            written.append(index)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        members = {}
        while len(written) < 20:
            members = backup.copy_stable(
                source, copy, prefix="abis", skip=backup.GALLERY_SKIP, append_only=True
            )
    finally:
        stop.set()
        writer.join()
        close_engine()

    files = {n: m for n, m in members.items() if m.kind == "file"}
    assert files and all(
        hashlib.sha256((copy / n.removeprefix("abis/")).read_bytes()).hexdigest() == m.sha256
        for n, m in files.items()
    )
    settings.ABIS_DATA_DIR = str(copy)
    try:
        count = get_engine().count()
    finally:
        close_engine()
    assert 1 <= count <= len(written)
