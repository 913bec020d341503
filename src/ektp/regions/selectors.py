"""Reads for regions: lookups by code, children, ancestors, search by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F, QuerySet

from ektp.core.errors import DomainError
from ektp.regions import codes
from ektp.regions.models import Region, RegionChange


class RegionNotFound(DomainError, LookupError):
    """No region has this code."""

    rule = "region_not_found"
    status = 404


def get_region(code: str) -> Region:
    """Return the region with this code or raise RegionNotFound."""
    try:
        return Region.objects.get(code=code)
    except Region.DoesNotExist:
        raise RegionNotFound(f"Wilayah dengan kode {code} tidak ditemukan.") from None


def region_name(code: str) -> str:
    """Return a region's name for a page ("Lampung", not "18"); the code itself when unknown."""
    if not code:
        return "Indonesia"
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code


def children_of(code: str | None, *, include_old: bool = False) -> QuerySet[Region]:
    """Return the direct children of a region (the provinces when code is None)."""
    qs = Region.objects.filter(parent_id=code) if code else Region.objects.filter(level=1)
    return qs if include_old else qs.filter(valid_to__isnull=True)


def ancestors_of(code: str) -> list[Region]:
    """Return the ancestors of a region, the province first."""
    wanted = codes.ancestor_codes(code)
    found = {r.code: r for r in Region.objects.filter(code__in=wanted)}
    return [found[c] for c in wanted if c in found]


def search_regions(
    query: str, *, level: int | None = None, within: str | None = None, limit: int = 50
) -> QuerySet[Region]:
    """Find current regions whose name contains the query (case-insensitive)."""
    qs = Region.objects.filter(name__icontains=query.strip(), valid_to__isnull=True)
    if level:
        qs = qs.filter(level=level)
    if within:
        qs = qs.filter(code__startswith=within + ".")
    return qs.order_by("level", "code")[:limit]


def known_prefix(code: str) -> Region | None:
    """Return the region of a code (old editions included), or None when unknown."""
    return Region.objects.filter(code=code).first()


LINEAGE_OPS = ["split", "merge", "move"]


def origins_of(code: str) -> tuple[list[str], dt.date | None]:
    """Return the regions a region was made from by a decree (a split's parent, a merge's
    sources, a moved region's old code) and the day it began; ([], None) for an original."""
    rows = list(
        RegionChange.objects.filter(new_code=code, op__in=LINEAGE_OPS)
        .exclude(old_code=code)
        .select_related("change_set")
        .order_by("line", "id")
    )
    if not rows:
        return [], None
    return [r.old_code for r in rows], rows[0].change_set.effective_on


def predecessors_on(region_codes: Iterable[str], as_of: dt.date) -> dict[str, str]:
    """For the regions among `region_codes` that a decree made after `as_of`, the region
    they were part of on that day (the first when several were merged)."""
    rows = (
        RegionChange.objects.filter(op__in=LINEAGE_OPS, change_set__effective_on__gt=as_of)
        .exclude(old_code=F("new_code"))
        .order_by("line", "id")
        .values_list("new_code", "old_code")
    )
    out: dict[str, str] = {}
    for new, old in rows:  # the decrees after a day are few: no IN list of every village
        out.setdefault(new, old)
    wanted = set(region_codes)
    return {new: old for new, old in out.items() if new in wanted}
