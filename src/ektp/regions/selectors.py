"""Reads for regions: lookups by code, children, ancestors, search by name."""

from __future__ import annotations

from django.db.models import QuerySet

from ektp.core.errors import DomainError
from ektp.regions import codes
from ektp.regions.models import Region


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
