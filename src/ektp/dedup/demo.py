"""Plant double NIKs in a synthetic demo district so that the adjudication page has work."""

from __future__ import annotations

import random
import uuid

from django.db import transaction

from ektp.dedup.services import check_region_code, region_q
from ektp.residents.models import KtpStatus, Resident
from ektp.residents.nik import make_nik

VOWELS = "AIUEO"


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if not letters:
        return name
    at = rng.choice(letters)
    replacement = rng.choice([v for v in VOWELS if v != name[at].upper()])
    return name[:at] + replacement + name[at + 1 :]


def _free_nik(resident: Resident) -> str:
    for serial in range(9999, 0, -1):
        nik = make_nik(
            kecamatan_code=resident.kecamatan_code,
            birth_date=resident.birth_date,
            sex=resident.sex,
            serial=serial,
        )
        if not Resident.objects.filter(nik=nik).exists():
            return nik
    raise ValueError(f"Tidak ada nomor urut NIK bebas untuk {resident.nik}.")


def plant_duplicates(*, region: str, count: int, seed: int = 42) -> list[Resident]:
    """Register a second NIK (a typo in the name) for ``count`` residents of a region."""
    code = check_region_code(region)
    rng = random.Random(seed)
    ids = sorted(
        Resident.objects.filter(region_q(code), duplicate_cases__isnull=True)
        .values_list("pk", flat=True)
        .distinct()
    )
    chosen = rng.sample(ids, min(count, len(ids)))
    planted = []
    with transaction.atomic():
        for original in Resident.objects.filter(pk__in=chosen).order_by("nik"):
            copy = Resident.objects.get(pk=original.pk)
            copy.pk = uuid.uuid4()
            copy.nik = _free_nik(original)
            copy.name = _typo(original.name, rng)
            copy.family = None
            copy.ktp_status = KtpStatus.BELUM_REKAM
            copy.recorded_on = None
            copy.ikd_activated_at = None
            copy.save(force_insert=True)
            planted.append(copy)
    return planted
