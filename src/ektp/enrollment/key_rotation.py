"""Rotate the biometric data key: a new key first, every stored sample re-encrypted, then the
old keys dropped (or kept to decrypt only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from ektp.core.keys import ROTATION_LOCK_FILE, KeyStoreError, new_fernet_key
from ektp.enrollment import crypto
from ektp.enrollment.models import BiometricSample
from ektp.enrollment.services import EnrollmentError

BATCH_SIZE = 500
MAX_PASSES = 5


class KeyRotationError(EnrollmentError):
    """The biometric key cannot be rotated here."""


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    samples: int
    rewritten: int
    passes: int
    dropped: int


def rotate_biometric_key(
    *,
    keep_old: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Rotation:
    """Put a new key first, re-encrypt every sample with it in batches, then drop the old keys.

    The key file is rewritten before any sample: every process reads it again when it changes,
    so from then on new samples are encrypted with the new key while the old ones still open.
    Passes repeat until one finds nothing left on an old key (a sample written by a process
    that had not yet seen the new file is caught by the next pass); only then are the old keys
    dropped. With ``keep_old`` they stay in the file to decrypt only.
    """
    if (settings.EKTP_BIOMETRIC_KEY).strip():
        raise KeyRotationError(
            "Kunci biometrik diisi dari EKTP_BIOMETRIC_KEY: tambahkan kunci baru di depannya, "
            "mulai ulang semua proses, lalu jalankan `ektp keys rotate-biometric --reencrypt`."
        )
    store = crypto.key_store()
    try:
        with store.locked(ROTATION_LOCK_FILE, wait=False):
            with store.locked():
                old = store.biometric_keys()
                keys = [new_fernet_key(), *old]
                store.write_biometric_keys(keys)
            rotation = reencrypt_samples(keys=keys, batch_size=batch_size, progress=progress)
            if keep_old:
                return rotation
            with store.locked():
                if store.biometric_keys()[0] != keys[0]:
                    raise KeyRotationError(
                        "Kunci biometrik diganti selama rotasi; kunci lama tidak dihapus."
                    )
                store.write_biometric_keys([keys[0]])
    except KeyStoreError as error:
        raise KeyRotationError(str(error)) from None
    return Rotation(rotation.samples, rotation.rewritten, rotation.passes, dropped=len(old))


def reencrypt_samples(
    *,
    keys: list[bytes] | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Rotation:
    """Re-encrypt every sample not yet under the first key (default: the keys in force)."""
    keys = keys or crypto.current_keys()
    rewritten = passes = samples = 0
    while passes < MAX_PASSES:
        passes += 1
        samples, changed = _one_pass(keys, batch_size, progress)
        rewritten += changed
        if not changed:
            return Rotation(samples, rewritten, passes, dropped=0)
    raise KeyRotationError(
        f"Setelah {MAX_PASSES} putaran masih ada sampel dengan kunci lama; kunci lama tidak dihapus."
    )


def _one_pass(
    keys: list[bytes], batch_size: int, progress: Callable[[int], None] | None
) -> tuple[int, int]:
    seen = changed = 0
    last = None
    while True:
        with transaction.atomic():
            rows = BiometricSample.objects.select_for_update().order_by("pk")
            if last is not None:
                rows = rows.filter(pk__gt=last)
            batch = list(rows.only("pk", "template_ciphertext", "image_ciphertext")[:batch_size])
            if not batch:
                return seen, changed
            update = []
            for sample in batch:
                touched = False
                for field in ("template_ciphertext", "image_ciphertext"):
                    token = getattr(sample, field)
                    if token is None or crypto.opens_with(token, keys[0]):
                        continue
                    setattr(sample, field, crypto.reencrypt(token, keys))
                    touched = True
                if touched:
                    update.append(sample)
            if update:
                BiometricSample.objects.bulk_update(
                    update, ["template_ciphertext", "image_ciphertext"]
                )
        seen += len(batch)
        changed += len(update)
        last = batch[-1].pk
        if progress is not None:
            progress(seen)
