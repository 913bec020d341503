"""Writes for regions: loading the shipped Kemendagri data."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from django.db import transaction

from ektp.regions import codes
from ektp.regions.models import Region

DATA_FILE = "wilayah.tsv.gz"


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def read_shipped_regions() -> Iterator[Region]:
    """Yield unsaved Region objects from the package's data file, parents first."""
    data = resources.files("ektp.regions") / "data" / DATA_FILE
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        for line in fh:
            code, name, male, female, valid_to = line.rstrip("\n").split("\t")
            yield Region(
                code=code,
                level=codes.level_of(code),
                parent_id=codes.parent_code(code),
                name=name,
                population_male=int(male) if male else None,
                population_female=int(female) if female else None,
                valid_to=dt.date.fromisoformat(valid_to) if valid_to else None,
            )


FIELDS = ["level", "parent_id", "name", "population_male", "population_female", "valid_to"]


def load_regions(*, batch_size: int = 5000) -> LoadResult:
    """Insert or update every shipped region; running it twice changes nothing."""
    existing = {
        row[0]: row[1:]
        for row in Region.objects.values_list("code", *FIELDS).iterator(chunk_size=20000)
    }
    to_create: list[Region] = []
    to_update: list[Region] = []
    unchanged = 0
    for region in read_shipped_regions():
        current = existing.get(region.code)
        wanted = tuple(getattr(region, f) for f in FIELDS)
        if current is None:
            to_create.append(region)
        elif tuple(current) != wanted:
            to_update.append(region)
        else:
            unchanged += 1
    with transaction.atomic():
        Region.objects.bulk_create(to_create, batch_size=batch_size)
        Region.objects.bulk_update(
            to_update,
            [f.removesuffix("_id") if f == "parent_id" else f for f in FIELDS],
            batch_size=batch_size,
        )
    return LoadResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)
