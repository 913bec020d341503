"""Modalities, quality rules, and the capture-device interface with its simulator driver."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Modality(models.TextChoices):
    FACE = "face", _("Foto wajah")
    RIGHT_THUMB = "finger_r1", _("Ibu jari kanan")
    RIGHT_INDEX = "finger_r2", _("Telunjuk kanan")
    RIGHT_MIDDLE = "finger_r3", _("Jari tengah kanan")
    RIGHT_RING = "finger_r4", _("Jari manis kanan")
    RIGHT_LITTLE = "finger_r5", _("Kelingking kanan")
    LEFT_THUMB = "finger_l1", _("Ibu jari kiri")
    LEFT_INDEX = "finger_l2", _("Telunjuk kiri")
    LEFT_MIDDLE = "finger_l3", _("Jari tengah kiri")
    LEFT_RING = "finger_l4", _("Jari manis kiri")
    LEFT_LITTLE = "finger_l5", _("Kelingking kiri")
    RIGHT_IRIS = "iris_right", _("Iris kanan")
    LEFT_IRIS = "iris_left", _("Iris kiri")
    SIGNATURE = "signature", _("Tanda tangan")


class ExceptionReason(models.TextChoices):
    AMPUTATION = "amputasi", _("Amputasi")
    INJURY = "cedera", _("Cedera")
    DISABILITY = "disabilitas", _("Disabilitas")


FINGERS = [m for m in Modality.values if m.startswith("finger_")]
IRISES = [Modality.RIGHT_IRIS.value, Modality.LEFT_IRIS.value]
EXCEPTABLE = {*FINGERS, *IRISES, Modality.SIGNATURE.value}

# Serialised template sizes: face embedding 128 × float32, finger minutiae record,
# one eye's iris code + mask (see ektp.abis.iris), signature stroke features.
IRIS_EYE_BYTES = 512
TEMPLATE_BYTES = {
    Modality.FACE.value: 512,
    **dict.fromkeys(FINGERS, 512),
    **dict.fromkeys(IRISES, IRIS_EYE_BYTES),
    Modality.SIGNATURE.value: 256,
}
MAX_IMAGE_BYTES = 2 * 1024 * 1024

DEFAULT_THRESHOLDS = {
    Modality.FACE.value: 60,
    **dict.fromkeys(FINGERS, 40),
    **dict.fromkeys(IRISES, 50),
    Modality.SIGNATURE.value: 30,
}


def quality_threshold(modality: str) -> int:
    """Return the minimum quality score (0–100) accepted for a modality."""
    overrides = settings.EKTP_QUALITY_THRESHOLDS
    return int(overrides.get(modality, DEFAULT_THRESHOLDS[modality]))


def retry_limit() -> int:
    """Return how many captures of one modality an operator may try."""
    return int(settings.EKTP_CAPTURE_RETRY_LIMIT)


@dataclass(frozen=True)
class Capture:
    """One capture of one modality: the template, an optional image, its quality score."""

    modality: str
    template: bytes
    quality: int
    image: bytes = b""
    attempts: int = 1

    def __repr__(self) -> str:
        return f"Capture({self.modality}, quality={self.quality}, attempts={self.attempts})"


class CaptureDevice(Protocol):
    """A biometric capture driver for one recording kit."""

    name: str

    def capture(self, *, modality: str, attempt: int) -> Capture:
        """Capture one modality once and return it with its quality score."""


try:
    from ektp.abis.synthetic import make_subject
except ImportError:  # the ABIS engine is not installed on this node
    make_subject = None


class SimulatorDevice:
    """A capture driver that produces seeded synthetic templates (never real people)."""

    name = "simulator"

    def __init__(self, *, seed: str, low_quality: dict[str, int] | None = None):
        self.seed = seed
        self.low_quality = dict(low_quality or {})
        self._iris: bytes | None = None

    def _rng(self, modality: str, attempt: int) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}:{modality}:{attempt}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _iris_eye(self, modality: str) -> bytes:
        if make_subject is None:
            return self._rng(modality, 0).randbytes(IRIS_EYE_BYTES)
        if self._iris is None:
            digest = hashlib.sha256(f"{self.seed}:iris".encode()).digest()
            self._iris = make_subject(int.from_bytes(digest[:4], "big")).to_bytes()
        return self._iris[:IRIS_EYE_BYTES] if modality == "iris_left" else self._iris[512:]

    def capture(self, *, modality: str, attempt: int) -> Capture:
        """Return a synthetic capture; a modality listed in low_quality fails that many attempts."""
        rng = self._rng(modality, attempt)
        if modality in IRISES:
            template = self._iris_eye(modality)
        else:
            template = rng.randbytes(TEMPLATE_BYTES[modality])
        threshold = quality_threshold(modality)
        if attempt <= self.low_quality.get(modality, 0):
            quality = rng.randint(0, max(threshold - 1, 0))
        else:
            quality = rng.randint(threshold, 100)
        image = b""
        if modality in (Modality.FACE, Modality.SIGNATURE):
            width, height = (48, 60) if modality == Modality.FACE else (96, 32)
            image = f"P5 {width} {height} 255\n".encode() + rng.randbytes(width * height)
        return Capture(modality=modality, template=template, quality=quality, image=image)


def capture_all(
    *, device: CaptureDevice, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, Capture], dict[str, Capture]]:
    """Capture every modality not skipped, retrying up to the limit; return (accepted, failed)."""
    accepted: dict[str, Capture] = {}
    failed: dict[str, Capture] = {}
    limit = retry_limit()
    for modality in Modality.values:
        if modality in skip:
            continue
        best: Capture | None = None
        for attempt in range(1, limit + 1):
            got = device.capture(modality=modality, attempt=attempt)
            got = Capture(got.modality, got.template, got.quality, got.image, attempt)
            if best is None or got.quality > best.quality:
                best = got
            if got.quality >= quality_threshold(modality):
                accepted[modality] = got
                break
        else:
            failed[modality] = best
    return accepted, failed


def simulator_for(*, resident_id, device_id, recording: int) -> SimulatorDevice:
    """Return the simulator driver seeded for one resident's recording."""
    return SimulatorDevice(seed=f"{resident_id}:{recording}")


def capture_device_for(*, resident_id, device_id, recording: int) -> CaptureDevice:
    """Return the capture driver chosen by settings.EKTP_CAPTURE_DRIVER (default: simulator)."""
    from django.utils.module_loading import import_string

    return import_string(settings.EKTP_CAPTURE_DRIVER)(
        resident_id=resident_id, device_id=device_id, recording=recording
    )
