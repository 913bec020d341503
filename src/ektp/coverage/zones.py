"""Zones (green, yellow, red) from the coverage policy valid on a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from ektp.coverage.models import CoveragePolicy, Zone
from ektp.coverage.stats import CoverageRow
from ektp.regions import codes


@dataclass(frozen=True)
class Thresholds:
    green_min: Decimal
    yellow_min: Decimal
    policy_id: int | None = None


DEFAULT = Thresholds(green_min=Decimal("92"), yellow_min=Decimal("80"))


def _candidates(code: str) -> list[str]:
    return [*codes.ancestor_codes(code), code] if code else []


def _policies_valid(on: dt.date, candidates: Iterable[str]) -> list[CoveragePolicy]:
    return list(
        CoveragePolicy.objects.filter(valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .filter(Q(region__isnull=True) | Q(region_id__in=list(candidates)))
        .order_by("-valid_from")
    )


def _best(policies: Iterable[CoveragePolicy], code: str) -> Thresholds:
    candidates = set(_candidates(code))
    best = max(
        (p for p in policies if p.region_id is None or p.region_id in candidates),
        key=lambda p: (len(p.region_id or ""), p.valid_from),
        default=None,
    )
    if best is None:
        return DEFAULT
    return Thresholds(green_min=best.green_min, yellow_min=best.yellow_min, policy_id=best.pk)


def thresholds_for(code: str, on: dt.date) -> Thresholds:
    """Return the thresholds valid on a date for a region: its own policy, else its
    nearest ancestor's, else the national one, else the default (92 % / 80 %)."""
    return _best(_policies_valid(on, _candidates(code)), code)


def zone_for(recorded: int, wajib_ktp: int, thresholds: Thresholds) -> str:
    """Grade a coverage by exact arithmetic (92.0 % is green, 91.999 % is not)."""
    if not wajib_ktp:
        return Zone.NO_DATA
    share = Decimal(recorded) * 100
    if share >= thresholds.green_min * wajib_ktp:
        return Zone.GREEN
    if share >= thresholds.yellow_min * wajib_ktp:
        return Zone.YELLOW
    return Zone.RED


def apply_zones(rows: Iterable[CoverageRow], on: dt.date) -> list[CoverageRow]:
    """Set the zone of every row by the policy valid for its region on a date."""
    rows = list(rows)
    # Policies are set for provinces and districts; villages share their district's. One
    # query for all the rows (the nation's page has 38 provinces).
    keys = {row.code[:5] for row in rows}
    policies = _policies_valid(on, {c for key in keys for c in _candidates(key)})
    by_key = {key: _best(policies, key) for key in keys}
    for row in rows:
        row.zone = zone_for(row.recorded, row.wajib_ktp, by_key[row.code[:5]])
    return rows
