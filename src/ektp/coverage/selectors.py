"""Reads for coverage pages and the API, always inside the reader's jurisdiction."""

from __future__ import annotations

import datetime as dt
import importlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ektp.core.access import limit_to_jurisdiction
from ektp.core.dates import KTP_EL_BEGAN
from ektp.core.models import User
from ektp.coverage.models import CoveragePolicy, CoverageSnapshot, PopulationKind, Target
from ektp.coverage.services import CoverageError, region_in_jurisdiction
from ektp.coverage.stats import (
    GROUP_FIELD,
    NATION,
    CoverageRow,
    coverage_by_level,
    coverage_tree,
    not_recorded_indexed,
    percent,
    scope_filter,
    village_counts,
)
from ektp.coverage.zones import apply_zones
from ektp.offices.models import Office
from ektp.regions import codes
from ektp.regions.models import Region
from ektp.regions.selectors import origins_of
from ektp.residents.models import Citizenship, Resident, years_ago

EARLIEST = KTP_EL_BEGAN


def parse_as_of(value: str | None, *, today: dt.date | None = None) -> dt.date:
    """Read the "as of" date of a request: today when empty, never in the future."""
    today = today or timezone.localdate()
    if not value:
        return today
    try:
        day = dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise CoverageError("Tanggal harus berformat TTTT-BB-HH, mis. 2018-12-31.") from None
    if day > today:
        raise CoverageError(
            "Tanggal tidak boleh di masa depan: cakupan hanya dihitung sampai hari ini."
        )
    if day < EARLIEST:
        raise CoverageError("Tanggal tidak boleh sebelum 2011, awal perekaman KTP-el.")
    return day


def scope_for(*, user: User, code: str | None) -> str:
    """Return the region code a page is about: the one asked for, else the user's jurisdiction."""
    code = (code or "").strip()
    if not code:
        return user.jurisdiction_code or ""
    region_in_jurisdiction(user=user, code=code)
    return code


def child_level(code: str) -> int:
    """Return the level just below a region ("" = the nation → provinces)."""
    return codes.level_of(code) + 1 if code else codes.PROVINSI


def parse_level(value: str | None, *, code: str) -> int:
    """Read a level name (provinsi, kabkota, kecamatan, desa); default the level below `code`."""
    names = {"provinsi": 1, "kabkota": 2, "kecamatan": 3, "desa": 4}
    if not value:
        return min(child_level(code), codes.DESA)
    if value not in names:
        raise CoverageError("Tingkat harus salah satu dari: provinsi, kabkota, kecamatan, desa.")
    level = names[value]
    if code and level < codes.level_of(code):
        raise CoverageError("Tingkat harus sama atau di bawah wilayah yang dipilih.")
    return level


def coverage_rows(*, user: User, code: str, level: int, as_of: dt.date) -> list[CoverageRow]:
    """Return zoned coverage rows of a level inside a region within the user's jurisdiction."""
    code = scope_for(user=user, code=code)
    return apply_zones(coverage_by_level(level=level, as_of=as_of, within=code or None), as_of)


def headline(*, user: User, code: str, as_of: dt.date) -> CoverageRow:
    """Return the zoned coverage of one region (the user's jurisdiction when code is empty)."""
    code = scope_for(user=user, code=code)
    level = codes.level_of(code) if code else NATION
    rows = coverage_by_level(level=level, as_of=as_of, within=code or None)
    return apply_zones(rows, as_of)[0]


def zoned_tree(
    *, user: User, code: str, as_of: dt.date, levels: Iterable[int] | None = None
) -> dict[int, list[CoverageRow]]:
    """Return the zoned coverage of a region and every level below it, or of the `levels`
    asked for (one GROUP BY in all)."""
    code = scope_for(user=user, code=code)
    return {
        level: apply_zones(rows, as_of)
        for level, rows in coverage_tree(code=code, as_of=as_of, levels=levels).items()
    }


@dataclass
class Ranked:
    rank: int
    row: CoverageRow


def ranking(*, user: User, code: str, level: int, as_of: dt.date) -> list[Ranked]:
    """Rank the regions of a level inside a region by coverage, best first (ties share a rank)."""
    rows = [r for r in coverage_rows(user=user, code=code, level=level, as_of=as_of) if r.wajib_ktp]
    rows.sort(key=lambda r: (-(r.recorded / r.wajib_ktp), -r.wajib_ktp, r.code))
    ranked: list[Ranked] = []
    for i, row in enumerate(rows):
        same = (
            ranked
            and ranked[-1].row.recorded * row.wajib_ktp == row.recorded * ranked[-1].row.wajib_ktp
        )
        ranked.append(Ranked(rank=ranked[-1].rank if same else i + 1, row=row))
    return ranked


def first_time_voters(
    qs: QuerySet[Resident], *, polling_day: dt.date, previous_polling_day: dt.date | None = None
) -> QuerySet[Resident]:
    """Residents who are WNI and alive and turn 17 by polling day but were not 17 on the previous one."""
    previous = previous_polling_day or years_ago(polling_day, 5)
    return qs.filter(
        citizenship=Citizenship.WNI,
        birth_date__lte=years_ago(polling_day, 17),
        birth_date__gt=years_ago(previous, 17),
    ).alive()


def target_population(target: Target, as_of: dt.date) -> QuerySet[Resident]:
    """Return the residents a target counts."""
    qs = Resident.objects.filter(scope_filter(target.region_id))
    if target.population == PopulationKind.PEMILIH_PEMULA:
        return first_time_voters(
            qs, polling_day=target.polling_day, previous_polling_day=target.previous_polling_day
        )
    return qs.wajib_ktp(as_of)


@dataclass
class Progress:
    population: int
    recorded: int
    goal: int
    remaining: int
    days_left: int
    per_day: int | None
    rate: Decimal | None
    met: bool
    overdue: bool


def target_progress(target: Target, *, as_of: dt.date) -> Progress:
    """Return how far a target is and the recordings per day still needed to reach it."""
    population = target_population(target, as_of)
    total = population.count()
    recorded = population.recorded(as_of).count()
    goal = math.ceil(Decimal(total) * target.rate / 100)
    remaining = max(goal - recorded, 0)
    days_left = (target.due_date - as_of).days + 1
    per_day = math.ceil(remaining / days_left) if days_left > 0 else None
    return Progress(
        population=total,
        recorded=recorded,
        goal=goal,
        remaining=remaining,
        days_left=max(days_left, 0),
        per_day=per_day if remaining else 0,
        rate=percent(recorded, total),
        met=remaining == 0,
        overdue=remaining > 0 and days_left <= 0,
    )


def targets_for(user: User) -> QuerySet[Target]:
    """Return the targets of regions inside the user's jurisdiction."""
    code = user.jurisdiction_code
    qs = Target.objects.select_related("region")
    if code is None:
        return qs
    return qs.filter(Q(region_id=code) | Q(region__code__startswith=code + "."))


def trend(*, user: User, code: str, start: dt.date, end: dt.date) -> list[CoverageSnapshot]:
    """Return the daily snapshots of a region between two dates; before a decree made the
    region (a split child, a merge, a new code), the days are those of the regions it was made
    from, summed (a child's trend shows its parent's past and its own future)."""
    code = scope_for(user=user, code=code)
    own = list(
        CoverageSnapshot.objects.filter(region_code=code, day__gte=start, day__lte=end).order_by(
            "day"
        )
    )
    origins, since = origins_of(code) if code else ([], None)
    if not origins or since <= start:
        return own
    past: dict[dt.date, CoverageSnapshot] = {}
    for s in CoverageSnapshot.objects.filter(
        region_code__in=origins, day__gte=start, day__lte=end, day__lt=since
    ).order_by("day"):
        day = past.setdefault(
            s.day,
            CoverageSnapshot(
                region_code=code,
                level=codes.level_of(code),
                day=s.day,
                wajib_ktp=0,
                recorded=0,
                printed=0,
                prr=0,
                ikd=0,
            ),
        )
        for name in ("wajib_ktp", "recorded", "printed", "prr", "ikd"):
            setattr(day, name, getattr(day, name) + getattr(s, name))
    return [*past.values(), *(s for s in own if s.day >= since)]


def recordings_per_day(*, user: User, code: str, start: dt.date, end: dt.date) -> list[dict]:
    """Count recordings per day per kecamatan (residents carry no service point yet)."""
    code = scope_for(user=user, code=code)
    group = GROUP_FIELD[min(child_level(code), codes.KECAMATAN)]
    qs = limit_to_jurisdiction(Resident.objects.filter(scope_filter(code or None)), user)
    return list(
        qs.filter(recorded_on__gte=start, recorded_on__lte=end)
        .order_by()
        .values("recorded_on", group)
        .annotate(n=Count("pk"))
        .order_by("recorded_on", group)
        .values_list("recorded_on", group, "n")
    )


class UnrecordedList:
    """The residents behind a region's "belum rekam" figure, village by village and by name,
    for Django's Paginator: its size is the sum of the cached village counts, and a page is
    read from the villages it spans only (no count and no sort over the whole region)."""

    ORDER = ("address_region_id", "name", "nik")

    def __init__(self, qs: QuerySet[Resident], missing: dict[str, int]):
        self.qs = qs.order_by(*self.ORDER)
        self.sizes = sorted((code, n) for code, n in missing.items() if n > 0)

    def count(self) -> int:
        return sum(n for _, n in self.sizes)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[Resident]:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("UnrecordedList is read a page (a slice) at a time.")
        start, stop = item.start or 0, item.stop if item.stop is not None else self.count()
        spanned, skip, seen = [], 0, 0
        for code, n in self.sizes:
            if seen + n > start and seen < stop:
                if not spanned:
                    skip = start - seen
                spanned.append(code)
            seen += n
            if seen >= stop:
                break
        if not spanned or stop <= start:
            return []
        return list(self.qs.filter(address_region_id__in=spanned)[skip : skip + stop - start])


def unrecorded_list(*, user: User, code: str, as_of: dt.date) -> UnrecordedList:
    """Return the wajib KTP of a region who had not recorded by a date, for paging."""
    code = scope_for(user=user, code=code)
    qs = _unrecorded(user=user, code=code, as_of=as_of).select_related("address_region")
    villages = village_counts(as_of=as_of, within=code or None)
    return UnrecordedList(qs, {v: c["wajib"] - c["rec"] for v, c in villages.items()})


def unrecorded_wajib_ktp(*, user: User, code: str, as_of: dt.date) -> QuerySet[Resident]:
    """Return the wajib KTP of a region who had not recorded by a date, within jurisdiction."""
    return _unrecorded(user=user, code=scope_for(user=user, code=code), as_of=as_of)


def _unrecorded(*, user: User, code: str, as_of: dt.date) -> QuerySet[Resident]:
    qs = limit_to_jurisdiction(Resident.objects.wajib_ktp(as_of), user).filter(
        scope_filter(code or None)
    )
    return qs.filter(not_recorded_indexed(as_of))


def stock_panel(office_code: str) -> dict:
    """Return the blank stock and days of cover from the cards app, or mark it unavailable."""
    try:
        forecast = importlib.import_module("ektp.cards.forecast")
    except ImportError:
        return {"available": False}
    office_cover = getattr(forecast, "office_cover", None)
    office = Office.objects.filter(region_id=office_code).first()
    if office_cover is None or office is None:
        return {"available": False}
    return {"available": True, "cover": office_cover(office)}


def policies_for(user: User) -> QuerySet[CoveragePolicy]:
    """Return the zone policies that bear on the user's jurisdiction: national ones, those of
    the regions above and of the jurisdiction itself, and those of the regions inside it."""
    qs = CoveragePolicy.objects.select_related("region").order_by("region_id", "-valid_from")
    code = user.jurisdiction_code
    if code is None:
        return qs
    return qs.filter(
        Q(region__isnull=True)
        | Q(region_id__in=[*codes.ancestor_codes(code), code])
        | Q(region__code__startswith=code + ".")
    )


@dataclass(frozen=True)
class TrendPoint:
    """Coverage of a region at the end of one day, for a chart."""

    day: dt.date
    rate: Decimal | None
    recorded: int
    wajib_ktp: int
    prr: int
    stored: bool  # a stored daily snapshot; False for the day's live figure


def daily_trend(
    *, user: User, code: str, start: dt.date, end: dt.date, live: CoverageRow | None = None
) -> list[TrendPoint]:
    """Return one point per day that has coverage figures, oldest first: the stored daily
    snapshots, and for `end` the live figure when no snapshot of that day is stored yet."""
    points = [
        TrendPoint(
            day=s.day,
            rate=percent(s.recorded, s.wajib_ktp),
            recorded=s.recorded,
            wajib_ktp=s.wajib_ktp,
            prr=s.prr,
            stored=True,
        )
        for s in trend(user=user, code=code, start=start, end=end)
    ]
    if live is not None and (not points or points[-1].day < end):
        points.append(
            TrendPoint(
                day=end,
                rate=live.rate,
                recorded=live.recorded,
                wajib_ktp=live.wajib_ktp,
                prr=live.prr,
                stored=False,
            )
        )
    return points


def region_names(region_codes: Iterable[str]) -> dict[str, str]:
    """Return the names of regions by code (a code without a region keeps its code)."""
    wanted = set(region_codes)
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    return {c: names.get(c, c) for c in wanted}
