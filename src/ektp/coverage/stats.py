"""Coverage arithmetic: one GROUP BY per region level over the residents table."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from ektp.coverage.models import CountedScope, VillageCount
from ektp.enrollment.models import StatusChange
from ektp.regions import codes
from ektp.regions.models import Region
from ektp.residents.models import KtpStatus, Resident

log = logging.getLogger(__name__)

NATION = 0
LEVELS = {
    "nasional": NATION,
    "provinsi": codes.PROVINSI,
    "kabkota": codes.KABKOTA,
    "kecamatan": codes.KECAMATAN,
    "desa": codes.DESA,
}
# The denormalised column of Resident that holds the code of each level.
GROUP_FIELD = {
    codes.PROVINSI: "province_code",
    codes.KABKOTA: "kabkota_code",
    codes.KECAMATAN: "kecamatan_code",
    codes.DESA: "address_region_id",
}
PRINTED_STATUSES = [KtpStatus.CARD_PRINTED, KtpStatus.CARD_ISSUED]
HUNDRED = Decimal(100)


def percent(part: int, whole: int) -> Decimal | None:
    """Return part ÷ whole as a percentage with two decimals (None when whole is 0); never clamped."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class CoverageRow:
    """The figures behind one region's coverage on one day."""

    code: str
    name: str
    level: int
    wajib_ktp: int = 0
    recorded: int = 0
    printed: int = 0
    prr: int = 0
    ikd: int = 0
    suket_outstanding: int | None = None
    zone: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> Decimal | None:
        return percent(self.recorded, self.wajib_ktp)

    @property
    def missing(self) -> int:
        return max(self.wajib_ktp - self.recorded, 0)

    @property
    def printed_rate(self) -> Decimal | None:
        return percent(self.printed, self.recorded)

    @property
    def ikd_rate(self) -> Decimal | None:
        """IKD activations ÷ recorded wajib KTP (the KTP-el holders who may activate)."""
        return percent(self.ikd, self.recorded)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "wajib_ktp": self.wajib_ktp,
            "recorded": self.recorded,
            "missing": self.missing,
            "rate": self.rate,
            "zone": self.zone,
            "printed": self.printed,
            "printed_rate": self.printed_rate,
            "prr": self.prr,
            "ikd": self.ikd,
            "ikd_rate": self.ikd_rate,
            "suket_outstanding": self.suket_outstanding,
        }


def scope_filter(within: str | None) -> Q:
    """Return the filter that keeps residents living in a region (None: everyone)."""
    if not within:
        return Q()
    return Q(**{GROUP_FIELD[codes.level_of(within)]: within})


def recorded_by(as_of: dt.date) -> Q:
    """The condition of `Resident.objects.recorded(as_of)`, for use inside an aggregate."""
    return Q(recorded_on__isnull=False, recorded_on__lte=as_of)


def not_recorded_by(as_of: dt.date) -> Q:
    """The opposite of `recorded_by`: never recorded, or recorded after `as_of`. A filter on
    the row itself (not `pk NOT IN (everyone recorded)`), so the database reads only the
    residents of the region asked for."""
    return Q(recorded_on__isnull=True) | Q(recorded_on__gt=as_of)


# Up to this many residents recorded after the day asked for are named by id.
LATER_IDS_MAX = 1000


def not_recorded_indexed(as_of: dt.date) -> Q:
    """`not_recorded_by(as_of)` in the form the (region, recorded_on) indexes serve: never
    recorded, or one of the few recorded after `as_of`, named by id (read from the
    recorded_on index; ids outside the region asked for are left out by its filter).
    Spelt as `recorded_on > as_of`, the OR leads SQLite's planner to walk the whole
    birth-date index instead."""
    later = list(
        Resident.objects.filter(recorded_on__gt=as_of)
        .order_by()
        .values_list("pk", flat=True)[: LATER_IDS_MAX + 1]
    )
    if len(later) > LATER_IDS_MAX:  # a day long past: most were recorded since
        return not_recorded_by(as_of)
    return Q(recorded_on__isnull=True) | Q(pk__in=later)


def _end_of_day(as_of: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))


def _aggregates(as_of: dt.date) -> dict:
    recorded = recorded_by(as_of)
    return {
        "wajib": Count("pk"),
        "rec": Count("pk", filter=recorded),
        "printed": Count("pk", filter=recorded & Q(ktp_status__in=PRINTED_STATUSES)),
        "prr": Count("pk", filter=recorded & Q(ktp_status=KtpStatus.PRINT_READY_RECORD)),
        # PRR recorded before the day before: waiting longer than a print takes (cards).
        "prr_stale": Count(
            "pk",
            filter=recorded
            & Q(
                ktp_status=KtpStatus.PRINT_READY_RECORD,
                recorded_on__lt=as_of - dt.timedelta(days=1),
            ),
        ),
        "ikd": Count("pk", filter=Q(ikd_activated_at__lt=_end_of_day(as_of))),
    }


def suket_outstanding_by_code(*, level: int, within: str | None, as_of: dt.date) -> dict[str, int]:
    """Return outstanding suket per region code from the suket app, or {} until it offers
    `ektp.suket.selectors.outstanding_by_region(level=, within=, as_of=) -> {code: count}`."""
    if not apps.is_installed("ektp.suket"):
        return {}
    suket_selectors = importlib.import_module("ektp.suket.selectors")
    counter = getattr(suket_selectors, "outstanding_by_region", None)
    if counter is None:
        return {}
    return counter(level=level, within=within, as_of=as_of)


CODE_LENGTH = {codes.PROVINSI: 2, codes.KABKOTA: 5, codes.KECAMATAN: 8, codes.DESA: 13}
COUNTS = ("wajib", "rec", "printed", "prr", "ikd", "prr_stale")


def _grouped(*, level: int, as_of: dt.date, within: str | None) -> dict[str, dict]:
    """Return the counts of a level by region code: the village counts (`village_counts`)
    summed up to the level (the counts of a region are the sums of its villages')."""
    villages = as_regions_on(village_counts(as_of=as_of, within=within), as_of)
    if level == codes.DESA:
        return villages
    return _roll_up(villages, level)


def as_regions_on(villages: dict[str, dict], as_of: dt.date) -> dict[str, dict]:
    """Count the residents of a village a decree made after `as_of` under the village they
    lived in on that day (a split child's people are its parent's before the split), so
    that a day's rows and rankings show the regions valid on that day."""
    from ektp.regions.selectors import predecessors_on

    earlier = predecessors_on(villages, as_of) if villages else {}
    if not earlier:
        return villages
    out = {code: dict(counts) for code, counts in villages.items() if code not in earlier}
    for new, old in earlier.items():
        total = out.setdefault(old, dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            total[name] = (total.get(name) or 0) + (villages[new].get(name) or 0)
    return out


# The cached village counts: a random version names the state of the residents table; a
# write to it that commits draws a new version (`forget_counts`), so a figure is never read
# from before the last write. A day's figures are kept for a day at most.
VERSION_KEY = "coverage:counts:version"
COUNTS_SECONDS = 24 * 3600


def counts_version() -> str:
    """Return the version of the residents table the cached counts belong to."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY) or ""
    return version


def forget_counts() -> None:
    """Make every cached count stale: call after a write to residents (or their status
    history) commits. A cache that cannot be reached is logged, never in the way of the
    write (its counts cannot be read either)."""
    from ektp.core.ratelimit import BACKEND_ERRORS

    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except BACKEND_ERRORS as exc:
        log.warning("coverage counts not marked stale, cache unavailable: %s", exc)


def _counts_key(version: str, within: str | None, as_of: dt.date) -> str:
    return f"coverage:counts:{version}:{within or '-'}:{as_of.isoformat()}:{timezone.localdate()}"


def village_counts(*, as_of: dt.date, within: str | None) -> dict[str, dict]:
    """Return the counts of every village inside `within` (None: everywhere) by village code.

    Today's counts are read from the kept village rows (`kept_village_counts`); a past
    day's are one GROUP BY by village over the district (or the province, or the nation),
    kept in the cache until the residents change. A kecamatan's or a village's counts are
    those of its district's villages that lie inside it."""
    if within and codes.level_of(within) > codes.KABKOTA:
        prefix = within + "."
        return {
            code: counts
            for code, counts in village_counts(as_of=as_of, within=within[:5]).items()
            if code == within or code.startswith(prefix)
        }
    if as_of == timezone.localdate():
        return kept_village_counts(within=within, today=as_of)
    key = _counts_key(counts_version(), within, as_of)
    counts = cache.get(key)
    if counts is None:
        counts = live_village_counts(as_of=as_of, within=within)
        cache.set(key, counts, COUNTS_SECONDS)
    return counts


# Counts of a village in the kept rows (VillageCount) under the names of the GROUP BY.
KEPT_FIELDS = {
    "wajib": "wajib_ktp",
    "rec": "recorded",
    "printed": "printed",
    "prr": "prr",
    "ikd": "ikd",
    "prr_stale": "prr_stale",
}
IN_CHUNK = 500  # villages per `IN (…)` list


def _in_scope(within: str | None) -> Q:
    return Q(village__startswith=within + ".") if within else Q()


def _kept_dict(row) -> dict:
    return {name: getattr(row, column) for name, column in KEPT_FIELDS.items()}


def _store(village: str, version: int, counts: dict, today: dt.date) -> None:
    """Store a village's counts unless a write to its residents came after `version` was
    read (the row's version moved on: the counts stay stale and are counted again)."""
    VillageCount.objects.filter(village=village, version=version).update(
        day=today,
        counted_version=version,
        **{column: counts.get(name) or 0 for name, column in KEPT_FIELDS.items()},
    )


def _count_scope(*, within: str | None, today: dt.date) -> dict[str, dict]:
    """Count every village of a region (one GROUP BY over its residents), keep the counts
    and mark the region counted for the day."""
    versions = dict(
        VillageCount.objects.filter(_in_scope(within)).values_list("village", "version")
    )
    counted = live_village_counts(as_of=today, within=within)
    with transaction.atomic():
        for village, version in versions.items():
            _store(village, version, counted.get(village, {}), today)
        VillageCount.objects.bulk_create(
            [
                VillageCount(
                    village=village,
                    day=today,
                    version=0,
                    counted_version=0,
                    **{column: counts.get(name) or 0 for name, column in KEPT_FIELDS.items()},
                )
                for village, counts in counted.items()
                if village not in versions
            ],
            ignore_conflicts=True,  # a write created the row meanwhile: it stays stale
        )
        CountedScope.objects.filter(day__lt=today).delete()
        CountedScope.objects.bulk_create(
            [CountedScope(scope=within or "", day=today)], ignore_conflicts=True
        )
    return counted


def kept_village_counts(*, within: str | None, today: dt.date) -> dict[str, dict]:
    """Return today's counts of every village inside `within` (a district or wider; None:
    everywhere) from the kept rows: a region not yet counted today is counted whole once,
    and only the villages written to since their last count are counted again."""
    scopes = ["", *codes.ancestor_codes(within), within] if within else [""]
    if not CountedScope.objects.filter(scope__in=scopes, day=today).exists():
        return _count_scope(within=within, today=today)
    rows = list(VillageCount.objects.filter(_in_scope(within)))
    out = {row.village: _kept_dict(row) for row in rows}
    stale = {r.village: r.version for r in rows if r.day != today or r.counted_version != r.version}
    villages = list(stale)
    for start in range(0, len(villages), IN_CHUNK):
        chunk = villages[start : start + IN_CHUNK]
        qs = Resident.objects.wajib_ktp(today).filter(address_region_id__in=chunk)
        key = GROUP_FIELD[codes.DESA]
        counted = {r.pop(key): r for r in qs.order_by().values(key).annotate(**_aggregates(today))}
        with transaction.atomic():
            for village in chunk:
                out[village] = counted.get(village, dict.fromkeys(COUNTS, 0))
                _store(village, stale[village], out[village], today)
    return {village: counts for village, counts in out.items() if counts["wajib"]}


def bump_villages(villages) -> None:
    """Mark the kept counts of villages stale, inside the writing transaction: call when a
    resident of theirs is written. The row of a village not yet kept is created stale."""
    table = connection.ops.quote_name(VillageCount._meta.db_table)
    today = timezone.localdate()
    with connection.cursor() as cursor:
        for village in sorted({v for v in villages if v}):
            cursor.execute(
                f"INSERT INTO {table} (village, day, version, counted_version, wajib_ktp,"
                " recorded, printed, prr, ikd, prr_stale) VALUES (%s, %s, 1, -1, 0, 0, 0, 0, 0, 0)"
                f" ON CONFLICT (village) DO UPDATE SET version = {table}.version + 1",
                [village, today],
            )


def bump_villages_within(kecamatan: set[str]) -> None:
    """Mark stale the kept counts of every village of these kecamatan (a decree moved people
    between them in bulk)."""
    if not kecamatan:
        return
    rows = VillageCount.objects.none()
    for code in sorted(kecamatan):
        rows |= VillageCount.objects.filter(village__startswith=f"{code}.")
    rows.update(version=F("version") + 1)


def forget_all_counts() -> None:
    """Count every region again at its next read: call after residents were written in bulk,
    past the signals (the seed)."""
    CountedScope.objects.all().delete()
    VillageCount.objects.all().delete()
    forget_counts()


def live_village_counts(*, as_of: dt.date, within: str | None) -> dict[str, dict]:
    """Run the one GROUP BY by village of a region and return the counts by village code.

    Printed and PRR count the status each resident had at the end of `as_of`: the current
    status, corrected from the status history for those whose status changed later."""
    qs = Resident.objects.wajib_ktp(as_of).filter(scope_filter(within))
    key = GROUP_FIELD[codes.DESA]
    grouped = {r.pop(key): r for r in qs.order_by().values(key).annotate(**_aggregates(as_of))}
    if as_of < timezone.localdate():
        _apply_later_changes(grouped, qs=qs, level=codes.DESA, as_of=as_of)
    return grouped


def _apply_later_changes(grouped: dict[str, dict], *, qs, level: int, as_of: dt.date) -> None:
    """Move the recorded residents whose KTP status changed after `as_of` back to the status
    they had then: the `from_status` of their first later change."""
    since = StatusChange.objects.filter(at__gte=_end_of_day(as_of))
    if not since.exists():  # nothing changed after that day: no second pass over residents
        return
    later = since.filter(resident=OuterRef("pk"))
    changed = (
        qs.filter(recorded_by(as_of), Exists(later))
        .annotate(then=Subquery(later.order_by("at", "id").values("from_status")[:1]))
        .order_by()
    )
    key = GROUP_FIELD.get(level)
    fields = [key] if key else []
    for row in changed.values(*fields, "ktp_status", "then").annotate(n=Count("pk")):
        counts = grouped.setdefault(row[key] if key else "", dict.fromkeys(COUNTS, 0))
        now, then, n = row["ktp_status"], row["then"], row["n"]
        counts["printed"] = (counts.get("printed") or 0) + n * (
            (then in PRINTED_STATUSES) - (now in PRINTED_STATUSES)
        )
        counts["prr"] = (counts.get("prr") or 0) + n * (
            (then == KtpStatus.PRINT_READY_RECORD) - (now == KtpStatus.PRINT_READY_RECORD)
        )


def _roll_up(grouped: dict[str, dict], level: int) -> dict[str, dict]:
    """Sum finer counts into a coarser level (counts are additive over regions)."""
    width = CODE_LENGTH.get(level, 0)
    out: dict[str, dict] = {}
    for code, counts in grouped.items():
        total = out.setdefault(code[:width], dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            total[name] += counts.get(name) or 0
    return out


def _rows(
    *, level: int, as_of: dt.date, within: str | None, grouped: dict[str, dict], include_empty: bool
) -> list[CoverageRow]:
    if level == NATION:
        return [_row("", "Indonesia", NATION, grouped.get("", {}))]
    regions = Region.objects.filter(level=level)
    if within:
        regions = (
            regions.filter(code__startswith=within + ".")
            if level > codes.level_of(within)
            else regions.filter(code=within)
        )
    wanted = Q(code__in=list(grouped))
    if include_empty:  # the regions valid on the day (a decree's old codes until it took effect)
        wanted |= (Q(valid_to__isnull=True) | Q(valid_to__gte=as_of)) & (
            Q(valid_from__isnull=True) | Q(valid_from__lte=as_of)
        )
    names = dict(regions.filter(wanted).values_list("code", "name"))
    rows = [_row(code, name, level, grouped.get(code, {})) for code, name in names.items()]
    suket = suket_outstanding_by_code(level=level, within=within, as_of=as_of)
    for row in rows:
        row.suket_outstanding = suket.get(row.code)
    rows.sort(key=lambda r: r.code)
    return rows


def coverage_by_level(
    *, level: int, as_of: dt.date, within: str | None = None, include_empty: bool = True
) -> list[CoverageRow]:
    """Return the coverage of every region of a level inside `within` on a date, by code.

    Regions without any wajib KTP are listed with zero counts (rate None) when
    include_empty is true, so that a village with no data is seen, not hidden."""
    grouped = _grouped(level=level, as_of=as_of, within=within)
    return _rows(
        level=level, as_of=as_of, within=within, grouped=grouped, include_empty=include_empty
    )


def _row(code: str, name: str, level: int, agg: dict) -> CoverageRow:
    return CoverageRow(
        code=code,
        name=name,
        level=level,
        wajib_ktp=agg.get("wajib") or 0,
        recorded=agg.get("rec") or 0,
        printed=agg.get("printed") or 0,
        prr=agg.get("prr") or 0,
        ikd=agg.get("ikd") or 0,
    )


def coverage_of(*, code: str, as_of: dt.date) -> CoverageRow:
    """Return the coverage of one region ("" for the nation) on a date."""
    if not code:
        return coverage_by_level(level=NATION, as_of=as_of)[0]
    rows = coverage_by_level(level=codes.level_of(code), as_of=as_of, within=code)
    if not rows:
        return CoverageRow(code=code, name=code, level=codes.level_of(code))
    return rows[0]


def levels_below(code: str) -> list[int]:
    """Return the region levels at and below a region ("" = the nation), top first."""
    top = codes.level_of(code) if code else NATION
    return [level for level in (NATION, *GROUP_FIELD) if level >= top]


def coverage_tree(
    *, code: str, as_of: dt.date, levels: Iterable[int] | None = None
) -> dict[int, list[CoverageRow]]:
    """Return the coverage of a region and of every region below it (or of the `levels`
    asked for), by level: one GROUP BY by village, summed upwards (the counts of a region
    are the sums of its villages')."""
    within = code or None
    villages = village_counts(as_of=as_of, within=within)
    wanted = levels_below(code) if levels is None else set(levels)
    return {
        level: _rows(
            level=level,
            as_of=as_of,
            within=within,
            grouped=villages if level == codes.DESA else _roll_up(villages, level),
            include_empty=True,
        )
        for level in levels_below(code)
        if level in wanted
    }
