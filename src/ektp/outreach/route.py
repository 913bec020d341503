"""A mobile unit's day in route order, and the map that shows it.

The order is "nearest next": from the unit's base to the nearest village not yet visited,
then from there to the nearest of the rest, by straight-line distance between the published
region points (`outreach.distance`). It is a good plan for a handful of villages a day, not
an optimal tour; a village without a point of its own or above it comes last, unordered."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ektp.coverage import boundaries
from ektp.outreach.distance import Base, Point, haversine_km, point_of


@dataclass(frozen=True)
class Stop:
    code: str
    name: str
    item: Any = None  # what the stop stands for (a visit)


@dataclass(frozen=True)
class Leg:
    """One stop of the route and the distance from the previous one (None: unknown)."""

    number: int
    stop: Stop
    point: Point | None
    km: float | None
    approximate: bool


def nearest_next(
    start: Point | None, stops: Sequence[Stop], points: dict[str, Point | None]
) -> list[Leg]:
    """Order stops nearest next from a start point; stops without a point come last."""
    located = [s for s in stops if points.get(s.code) is not None]
    unlocated = sorted((s for s in stops if points.get(s.code) is None), key=lambda s: s.name)
    legs: list[Leg] = []
    here = start
    remaining = sorted(located, key=lambda s: s.code)  # ties go to the lower code
    while remaining:
        if here is None:
            chosen = remaining[0]
            km = None
        else:
            chosen = min(remaining, key=lambda s: haversine_km(here, points[s.code]))
            km = round(haversine_km(here, points[chosen.code]), 1)
        remaining.remove(chosen)
        point = points[chosen.code]
        legs.append(Leg(len(legs) + 1, chosen, point, km, approximate=point.code != chosen.code))
        here = point
    for stop in unlocated:
        legs.append(Leg(len(legs) + 1, stop, None, None, approximate=False))
    return legs


def plan_route(base: Base, stops: Sequence[Stop]) -> list[Leg]:
    """Order a day's villages from the unit's base, by the shipped region points."""
    points = {s.code: point_of(s.code) for s in stops}
    return nearest_next(base.point, stops, points)


def total_km(legs: Sequence[Leg]) -> float | None:
    known = [leg.km for leg in legs if leg.km is not None]
    return round(sum(known), 1) if known else None


@dataclass(frozen=True)
class RouteMap:
    """An SVG picture of the route: village outlines, the path, numbered stops."""

    width: int
    height: int
    # Coordinates are written here, as text with a decimal point: a template would write a
    # float the Indonesian way (12,5), which SVG does not read.
    outlines: list[str]  # SVG path data of the background (the district's kecamatan)
    villages: list[str]  # SVG path data of the villages visited
    path: str  # polyline points base → stops
    base: tuple[str, str] | None
    marks: list[tuple[int, str, str, str]]  # number, x, y, name


def route_map(
    base: Base, legs: Sequence[Leg], *, district: str, width: int = 640
) -> RouteMap | None:
    """Draw the route over the kecamatan it passes through (equirectangular, north up);
    None when there is nothing to place."""
    shapes = boundaries.load()
    located = [leg for leg in legs if leg.point is not None]
    if not located:
        return None
    # The kecamatan the route passes through (and the base's), so that the villages show.
    kecamatan = {leg.stop.code[:8] for leg in located}
    if base.point is not None and base.point.code.count(".") >= 2:
        kecamatan.add(base.point.code[:8])
    background = [
        f
        for c, f in shapes.items()
        if c.startswith(district + ".") and c.count(".") == 2 and c in kecamatan
    ]
    visited = [shapes[leg.stop.code] for leg in located if leg.stop.code in shapes]
    lngs, lats = [], []
    for feature in background + visited:
        for ring in feature["r"]:
            lngs += [p[0] for p in ring]
            lats += [p[1] for p in ring]
    anchors = [(leg.point.lng, leg.point.lat) for leg in located]
    if base.point is not None:
        anchors.append((base.point.lng, base.point.lat))
    lngs += [a[0] for a in anchors]
    lats += [a[1] for a in anchors]
    west, east, south, north = min(lngs), max(lngs), min(lats), max(lats)
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * squeeze, 1e-6)
    span_y = max(north - south, 1e-6)
    pad = 12
    scale = (width - 2 * pad - 110) / span_x  # room on the right for the last name
    height = int(span_y * scale + 2 * pad)

    def xy(lng: float, lat: float) -> tuple[float, float]:
        return (
            round(pad + (lng - west) * squeeze * scale, 1),
            round(pad + (north - lat) * scale, 1),
        )

    def path_of(feature: dict) -> str:
        parts = []
        for ring in feature["r"]:
            coords = [xy(lng, lat) for lng, lat in ring]
            parts.append("M" + " L".join(f"{x},{y}" for x, y in coords) + " Z")
        return " ".join(parts)

    start = xy(base.point.lng, base.point.lat) if base.point is not None else None
    stops = [xy(leg.point.lng, leg.point.lat) for leg in located]
    line = ([start] if start else []) + stops
    return RouteMap(
        width=width,
        height=height,
        outlines=[path_of(f) for f in background],
        villages=[path_of(f) for f in visited],
        path=" ".join(f"{x},{y}" for x, y in line),
        base=(f"{start[0]}", f"{start[1]}") if start else None,
        marks=[
            (leg.number, *(f"{v}" for v in xy(leg.point.lng, leg.point.lat)), leg.stop.name)
            for leg in located
        ],
    )
