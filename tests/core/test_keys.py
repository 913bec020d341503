"""Every install keeps its own keys: made on first start, 0600, none derived from another,
production refuses to start without them, rotation keeps every sample readable."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from ektp.core import keys
from ektp.enrollment import crypto
from ektp.enrollment.key_rotation import KeyRotationError, rotate_biometric_key
from ektp.enrollment.models import BiometricSample
from tests.core.keyring import production_keys
from tests.enrollment.factories import record, simulated
from tests.residents.factories import ResidentFactory

# The SECRET_KEY that settings.py published until installs made their own.
PUBLISHED_SECRET = "ektp-development-only-secret-key-not-for-production"
KEY_FILES = {
    "secret-key",
    "biometric.keys",
    "abis.key",
    "suket-qr-ed25519.pem",
    "suket-signing-key.pem",
    "suket-signing-cert.pem",
}


def derived_key(secret: str) -> bytes:
    """The biometric key that used to be derived from SECRET_KEY."""
    digest = hashlib.sha256(f"ektp-biometric:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@pytest.fixture
def own_key_dir(settings, tmp_path):
    """Biometric keys in a key directory of this test only."""
    settings.EKTP_KEY_DIR = tmp_path / "keys"
    settings.EKTP_BIOMETRIC_KEY = ""
    return tmp_path / "keys"


def _blobs():
    for sample in BiometricSample.objects.all():
        yield bytes(sample.template_ciphertext)
        if sample.image_ciphertext:
            yield bytes(sample.image_ciphertext)


@pytest.mark.django_db
def test_biometric_samples_do_not_open_with_a_key_derived_from_a_secret_key(settings, operator):
    """A raw copy of the database gives nothing to someone who knows the published secret."""
    record(operator)
    blobs = list(_blobs())
    assert blobs
    for secret in (PUBLISHED_SECRET, settings.SECRET_KEY):
        for blob in blobs:
            with pytest.raises(InvalidToken):
                Fernet(derived_key(secret)).decrypt(blob)
    assert all(crypto.decrypt(blob) for blob in blobs)


def test_the_install_secret_key_is_its_own_and_not_the_published_one(settings):
    assert settings.SECRET_KEY != PUBLISHED_SECRET
    assert len(settings.SECRET_KEY) >= 50
    path = Path(settings.EKTP_KEY_DIR) / "secret-key"
    if not os.environ.get("EKTP_SECRET_KEY"):
        assert path.read_text().strip() == settings.SECRET_KEY


def test_the_install_key_files_are_readable_by_the_owner_only(settings):
    directory = Path(settings.EKTP_KEY_DIR)
    assert directory.stat().st_mode & 0o777 == 0o700
    for path in directory.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_first_start_makes_every_key_once_with_mode_0600(tmp_path):
    directory = tmp_path / "keys"
    store = keys.KeyStore(directory, environ={})
    assert set(store.ensure()) == KEY_FILES
    assert directory.stat().st_mode & 0o777 == 0o700
    assert {p.name for p in directory.iterdir()} == KEY_FILES | {"LOCK"}
    for path in directory.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    assert store.ensure() == []
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_keys_are_independent_random_values(tmp_path):
    one = keys.KeyStore(tmp_path / "a", environ={})
    two = keys.KeyStore(tmp_path / "b", environ={})
    one.ensure()
    two.ensure()
    assert one.secret_key() != two.secret_key()
    assert one.biometric_keys() != two.biometric_keys()
    assert one.abis_keys() != two.abis_keys()
    assert derived_key(one.secret_key()) not in one.biometric_keys()


def test_key_files_of_an_older_install_are_tightened_to_0600(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o755)
    old = directory / "suket-qr-ed25519.pem"
    old.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    old.chmod(0o644)
    content = old.read_bytes()
    keys.KeyStore(directory, environ={}).ensure()
    assert old.read_bytes() == content
    assert old.stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700


PRINT_KEYS = """
import sys
from ektp.core.keys import KeyStore
store = KeyStore(sys.argv[1])
store.ensure()
print(store.secret_key(), store.biometric_keys(), store.abis_keys(),
      open(store.suket_paths().signing_cert).read(), open(store.suket_paths().qr_key).read())
"""


def test_processes_starting_at_once_end_with_the_same_keys(tmp_path):
    directory = tmp_path / "keys"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EKTP_")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEYS, str(directory)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out)
    assert len(set(outputs)) == 1
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]


def test_the_environment_comes_before_the_files(tmp_path):
    directory = tmp_path / "keys"
    keys.KeyStore(directory, environ={}).ensure()
    fernet = Fernet.generate_key().decode()
    abis = keys.new_abis_key()
    store = keys.KeyStore(
        directory,
        environ={
            "EKTP_SECRET_KEY": "s" * 60,
            "EKTP_BIOMETRIC_KEY": fernet,
            "EKTP_ABIS_KEY": abis,
            "EKTP_SUKET_QR_KEY": "/etc/ektp/qr.pem",
        },
    )
    assert store.secret_key() == "s" * 60
    assert store.biometric_keys() == [fernet.encode()]
    assert store.abis_keys() == [base64.urlsafe_b64decode(abis)]
    assert store.suket_paths().qr_key == Path("/etc/ektp/qr.pem")
    assert store.missing() == ["EKTP_SUKET_QR_KEY (berkas /etc/ektp/qr.pem tidak ada)"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EKTP_SECRET_KEY": "pendek"}, "EKTP_SECRET_KEY terlalu pendek"),
        ({"EKTP_BIOMETRIC_KEY": "bukan-kunci"}, "EKTP_BIOMETRIC_KEY: bukan kunci Fernet"),
        ({"EKTP_BIOMETRIC_KEY": " , "}, "EKTP_BIOMETRIC_KEY kosong"),
        ({"EKTP_ABIS_KEY": "AAAA"}, "EKTP_ABIS_KEY: setiap kunci harus 32 byte"),
        ({"EKTP_ABIS_KEY": "%%%%"}, "EKTP_ABIS_KEY: setiap kunci harus 32 byte"),
    ],
)
def test_malformed_keys_are_refused_with_their_name(tmp_path, environ, message):
    store = keys.KeyStore(tmp_path / "keys", environ=environ)
    store.ensure()
    read = {
        "EKTP_SECRET_KEY": store.secret_key,
        "EKTP_BIOMETRIC_KEY": store.biometric_keys,
        "EKTP_ABIS_KEY": store.abis_keys,
    }[next(iter(environ))]
    with pytest.raises(keys.BadKey, match=message):
        read()


def test_a_store_without_keys_names_every_missing_one(tmp_path):
    store = keys.KeyStore(tmp_path / "keys", environ={})
    missing = store.missing()
    assert [m.split(" ")[0] for m in missing] == [
        "EKTP_SECRET_KEY",
        "EKTP_BIOMETRIC_KEY",
        "EKTP_ABIS_KEY",
        "EKTP_SUKET_QR_KEY",
        "EKTP_SUKET_SIGNING_KEY",
        "EKTP_SUKET_SIGNING_CERT",
    ]
    with pytest.raises(keys.MissingKeys, match="EKTP_SECRET_KEY"):
        store.secret_key()
    assert not (tmp_path / "keys").exists()


def _ektp(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ektp", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EKTP_")}
    env.pop("DATABASE_URL", None)
    # Set by the browser tests of this session; a deployment never has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        EKTP_VAR_DIR=str(tmp_path / "var"),
        EKTP_ENV="production",
        DJANGO_SETTINGS_MODULE="ektp.settings",
    )
    return env


def test_production_refuses_to_start_without_keys_and_names_them(tmp_path):
    env = _clean_env(tmp_path)
    env["EKTP_SECRET_KEY"] = "x" * 60
    done = _ektp("check", env=env, cwd=tmp_path)
    assert done.returncode != 0
    for name in (
        "EKTP_BIOMETRIC_KEY",
        "EKTP_ABIS_KEY",
        "EKTP_SUKET_QR_KEY",
        "EKTP_SUKET_SIGNING_KEY",
        "EKTP_SUKET_SIGNING_CERT",
    ):
        assert name in done.stderr
    assert "EKTP_SECRET_KEY (" not in done.stderr
    assert not (tmp_path / "var" / "keys").exists()


def _production_env(tmp_path: Path) -> dict[str, str]:
    """A production environment that supplies every key."""
    return (
        _clean_env(tmp_path) | production_keys(tmp_path) | {"EKTP_ALLOWED_HOSTS": "ektp.example.id"}
    )


@pytest.mark.slow
def test_check_deploy_is_clean_in_production_with_the_keys_supplied(tmp_path):
    env = _production_env(tmp_path)
    done = _ektp("check", "--deploy", "--fail-level", "WARNING", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr
    assert not (tmp_path / "var" / "keys").exists()


@pytest.mark.django_db
def test_rotating_the_biometric_key_keeps_every_sample_readable_and_drops_the_old_key(
    own_key_dir, operator
):
    resident = ResidentFactory()
    captures = simulated(str(resident.pk))
    record(operator, resident, captures=captures)
    old = crypto.current_keys()
    before = list(_blobs())

    done = rotate_biometric_key(batch_size=3)

    new = crypto.current_keys()
    assert len(new) == 1 and new[0] not in old
    assert done.samples == BiometricSample.objects.count() and done.dropped == 1
    after = list(_blobs())
    assert len(after) == len(before)
    for blob in after:
        with pytest.raises(InvalidToken):
            Fernet(old[0]).decrypt(blob)
        Fernet(new[0]).decrypt(blob)
    for sample in BiometricSample.objects.all():
        assert crypto.decrypt(sample.template_ciphertext) == captures[sample.modality].template
    assert (own_key_dir / "biometric.keys").stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_rotation_with_keep_old_keeps_the_old_key_to_decrypt_only(own_key_dir, operator):
    record(operator)
    old = crypto.current_keys()
    call_command("keys", "rotate-biometric", "--keep-old")
    now = crypto.current_keys()
    assert now[1:] == old and now[0] not in old
    assert all(Fernet(now[0]).decrypt(blob) for blob in _blobs())
    legacy = Fernet(old[0]).encrypt(b"sampel lama")
    assert crypto.decrypt(legacy) == b"sampel lama"
    assert Fernet(now[0]).decrypt(crypto.encrypt(b"baru")) == b"baru"


@pytest.mark.django_db
def test_a_sample_written_with_the_old_key_during_rotation_is_caught_by_the_next_pass(
    own_key_dir, operator
):
    record(operator)
    old = crypto.current_keys()
    straggler = BiometricSample.objects.first()
    calls = []

    def write_with_the_old_key(seen: int) -> None:
        if not calls:  # a process that had not yet seen the new key file writes a sample
            BiometricSample.objects.filter(pk=straggler.pk).update(
                template_ciphertext=Fernet(old[0]).encrypt(b"ditulis saat rotasi")
            )
        calls.append(seen)

    done = rotate_biometric_key(batch_size=1000, progress=write_with_the_old_key)
    assert done.passes >= 2
    straggler.refresh_from_db()
    assert crypto.decrypt(straggler.template_ciphertext) == b"ditulis saat rotasi"
    with pytest.raises(InvalidToken):
        Fernet(old[0]).decrypt(bytes(straggler.template_ciphertext))


@pytest.mark.django_db
def test_rotation_refuses_keys_given_in_the_environment(settings, operator):
    settings.EKTP_BIOMETRIC_KEY = Fernet.generate_key().decode()
    with pytest.raises(KeyRotationError, match="EKTP_BIOMETRIC_KEY"):
        rotate_biometric_key()
    with pytest.raises(CommandError, match="EKTP_BIOMETRIC_KEY"):
        call_command("keys", "rotate-biometric")


@pytest.mark.django_db
def test_reencrypt_after_a_key_is_put_first_in_the_environment(settings, operator):
    old = Fernet.generate_key().decode()
    settings.EKTP_BIOMETRIC_KEY = old
    record(operator)
    new = Fernet.generate_key().decode()
    settings.EKTP_BIOMETRIC_KEY = f"{new},{old}"
    call_command("keys", "rotate-biometric", "--reencrypt")
    assert all(Fernet(new.encode()).decrypt(blob) for blob in _blobs())


def test_rotate_biometric_refuses_a_bad_batch_size():
    with pytest.raises(CommandError, match="batch-size"):
        call_command("keys", "rotate-biometric", "--batch-size", "0")


def test_keys_status_names_the_source_of_each_key_without_showing_it(settings, capsys):
    call_command("keys", "status")
    out = capsys.readouterr().out
    assert "EKTP_BIOMETRIC_KEY:" in out and "EKTP_SUKET_QR_KEY:" in out
    assert settings.SECRET_KEY not in out


@pytest.mark.django_db
def test_a_second_rotation_while_one_runs_is_refused(own_key_dir, operator):
    record(operator)
    before = crypto.current_keys()
    store = crypto.key_store()
    with (
        store.locked(keys.ROTATION_LOCK_FILE),
        pytest.raises(KeyRotationError, match="sedang berjalan"),
    ):
        rotate_biometric_key()
    assert crypto.current_keys() == before


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EKTP_BIOMETRIC_KEY", "bukan-kunci", "EKTP_BIOMETRIC_KEY: bukan kunci Fernet"),
        ("EKTP_ABIS_KEY", "pendek", "EKTP_ABIS_KEY: setiap kunci harus 32 byte"),
        ("EKTP_SECRET_KEY", "rahasia", "EKTP_SECRET_KEY terlalu pendek"),
    ],
)
def test_production_refuses_to_start_with_a_malformed_key(tmp_path, name, value, message):
    env = _production_env(tmp_path)
    env[name] = value
    done = _ektp("check", env=env, cwd=tmp_path)
    assert done.returncode != 0
    assert message in done.stderr
