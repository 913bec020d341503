"""Distances from a mobile unit's base to the villages it may visit.

The points are the region coordinates shipped with the map boundaries
(`ektp.coverage.boundaries`, from cahyadsn/wilayah_boundaries: one published latitude and
longitude per region). The file holds a point for every kab/kota and kecamatan it covers
but for the villages of a few districts only; a village without its own point is placed
at its kecamatan's, and the distance is then marked approximate. A region with no point
of its own or above it gets no distance at all: the distance is never made up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ektp.coverage import boundaries
from ektp.offices.models import Office, ServicePoint
from ektp.regions import codes
from ektp.regions.selectors import region_name

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float
    code: str  # the region whose coordinates these are


@dataclass(frozen=True)
class Base:
    """Where a trip starts: a service point's region, else the office's kab/kota."""

    name: str
    point: Point | None
    approximate: bool = False  # the district's point stands for the office


@dataclass(frozen=True)
class Distance:
    km: float
    approximate: bool  # measured to (or from) a region above the one asked for


def haversine_km(a: Point, b: Point) -> float:
    """Return the great-circle distance between two points in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlng = lat2 - lat1, math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def point_of(code: str, *, down_to: int = codes.KECAMATAN) -> Point | None:
    """Return the coordinates of a region, or of the nearest region above it that has some
    (not above level `down_to`), or None."""
    shapes = boundaries.load()
    for candidate in [code, *reversed(codes.ancestor_codes(code))]:
        if codes.level_of(candidate) < down_to:
            break
        centre = shapes.get(candidate, {}).get("c")
        if centre:
            lng, lat = centre
            return Point(lat=lat, lng=lng, code=candidate)
    return None


def base_for(*, within: str, service_point: ServicePoint | None = None) -> Base:
    """Return the base of a trip: the service point's region when it has one, else the
    office of the district (its kab/kota point)."""
    if service_point is not None and service_point.region_id:
        return Base(
            name=service_point.name,
            point=point_of(service_point.region_id, down_to=codes.KABKOTA),
        )
    office = Office.objects.filter(region_id=within[:5]).first()
    district = within[:5]
    name = office.name if office else region_name(district)
    if service_point is not None:
        name = f"{service_point.name} ({name})"
    return Base(name=name, point=point_of(district, down_to=codes.KABKOTA), approximate=True)


def distance_to(base: Base, village: str) -> Distance | None:
    """Return the distance from a base to a village, or None when either has no point."""
    if base.point is None:
        return None
    target = point_of(village)
    if target is None:
        return None
    km = haversine_km(base.point, target)
    return Distance(km=round(km, 1), approximate=base.approximate or target.code != village)
