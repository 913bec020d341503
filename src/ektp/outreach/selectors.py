"""Reads for jemput bola: target lists, closures, visits and where to go next."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from ektp.core.access import limit_to_jurisdiction
from ektp.core.dates import KTP_EL_BEGAN, DayOutOfRange, check_day
from ektp.core.errors import DomainError
from ektp.core.models import User
from ektp.coverage.selectors import first_time_voters, scope_for
from ektp.coverage.stats import CoverageRow, coverage_by_level, not_recorded_indexed
from ektp.coverage.zones import thresholds_for
from ektp.offices.models import ServicePoint
from ektp.outreach.distance import Base, Distance, base_for, distance_to
from ektp.outreach.models import OutreachVisit, SpecialNeed, ZoneClosure
from ektp.regions import codes
from ektp.residents.models import Resident, years_ago

LIST_KINDS = {
    "belum_rekam": "Wajib KTP belum rekam",
    "pemilih_pemula": "Pemilih pemula belum rekam",
    "door_to_door": "Lansia ≥ 60, disabilitas, ODGJ belum rekam (dari pintu ke pintu)",
}
ELDERLY_AGE = 60
# A first-time voter list for a polling day from the first KTP-el recordings to ten years
# ahead (two election cycles).
POLLING_DAY_AHEAD = dt.timedelta(days=3653)


class OutreachInputError(DomainError, ValueError):
    """A request names an unknown list, a bad date or a region the user may not see."""

    rule = "outreach_input"


def closures_on(day: dt.date) -> QuerySet[ZoneClosure]:
    """Return the closures in force on a day."""
    return ZoneClosure.objects.filter(starts_on__lte=day).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day)
    )


def closure_for(code: str, day: dt.date) -> ZoneClosure | None:
    """Return the closure that forbids visiting a region (or any region above it) on a day."""
    return closures_on(day).filter(region_id__in=[*codes.ancestor_codes(code), code]).first()


def is_closed(code: str, closed: set[str]) -> bool:
    return code in closed or any(a in closed for a in codes.ancestor_codes(code))


def unrecorded(qs: QuerySet[Resident], as_of: dt.date) -> QuerySet[Resident]:
    return qs.filter(not_recorded_indexed(as_of))


def target_list(
    *, user: User, village: str, kind: str, as_of: dt.date, polling_day: dt.date | None = None
) -> QuerySet[Resident]:
    """Return the people of a village that a visit should reach, by list kind."""
    if kind not in LIST_KINDS:
        raise OutreachInputError("Daftar harus salah satu dari: " + ", ".join(LIST_KINDS) + ".")
    code = scope_for(user=user, code=village)
    if codes.level_of(code) != codes.DESA:
        raise OutreachInputError("Daftar sasaran dibuat per desa/kelurahan (kode 4 tingkat).")
    base = limit_to_jurisdiction(Resident.objects.filter(address_region_id=code), user)
    if kind == "pemilih_pemula":
        if polling_day is None:
            raise OutreachInputError("Daftar pemilih pemula memerlukan hari pemungutan suara.")
        try:
            check_day(
                polling_day,
                earliest=KTP_EL_BEGAN,
                latest=as_of + POLLING_DAY_AHEAD,
                what="Hari pemungutan suara",
            )
        except DayOutOfRange as exc:
            raise OutreachInputError(exc.message) from None
        return unrecorded(first_time_voters(base, polling_day=polling_day), as_of)
    people = unrecorded(base.wajib_ktp(as_of), as_of)
    if kind == "door_to_door":
        needs = SpecialNeed.objects.values("resident_id")
        people = people.filter(Q(birth_date__lte=years_ago(as_of, ELDERLY_AGE)) | Q(pk__in=needs))
    return people


ORDERS = {
    "perlu": "Paling banyak yang diperlukan untuk hijau, lalu yang terdekat",
    "jarak": "Terdekat dulu",
}


@dataclass
class Suggestion:
    row: CoverageRow
    goal_rate: Decimal
    needed: int
    planned: bool
    distance: Distance | None = None

    @property
    def distance_km(self) -> float | None:
        return None if self.distance is None else self.distance.km

    @property
    def gap(self) -> Decimal | None:
        return None if self.row.rate is None else self.goal_rate - self.row.rate


def suggestions(
    *,
    user: User,
    within: str,
    as_of: dt.date,
    day: dt.date,
    limit: int = 20,
    service_point: ServicePoint | None = None,
    order: str = "perlu",
) -> tuple[list[Suggestion], list[CoverageRow]]:
    """Rank the villages to visit next by the people still needed to reach the green zone
    (then the nearest, then most people missing), or nearest first (`order="jarak"`);
    the distance runs from the mobile unit's base (`distance.base_for`). Villages closed on
    `day` are left out (and returned apart)."""
    if order not in ORDERS:
        raise OutreachInputError("Urutan harus salah satu dari: " + ", ".join(ORDERS) + ".")
    within = scope_for(user=user, code=within)
    if not within or codes.level_of(within) > codes.KECAMATAN:
        raise OutreachInputError("Pilih kabupaten/kota atau kecamatan untuk saran kunjungan.")
    rows = coverage_by_level(level=codes.DESA, as_of=as_of, within=within, include_empty=False)
    closed_codes = set(closures_on(day).values_list("region_id", flat=True))
    planned = set(
        OutreachVisit.objects.filter(
            status=OutreachVisit.Status.PLANNED,
            date__gte=as_of,
            village__code__startswith=within + ".",
        ).values_list("village_id", flat=True)
    )
    goal = thresholds_for(within[:5], day).green_min
    base = base_for(within=within, service_point=service_point)
    closed, open_ = [], []
    for row in rows:
        if not row.missing:
            continue
        if is_closed(row.code, closed_codes):
            closed.append(row)
            continue
        needed = max(math.ceil(Decimal(row.wajib_ktp) * goal / 100) - row.recorded, 0)
        open_.append(
            Suggestion(
                row=row,
                goal_rate=goal,
                needed=needed,
                planned=row.code in planned,
                distance=distance_to(base, row.code),
            )
        )

    def km(s: Suggestion) -> float:
        return math.inf if s.distance is None else s.distance.km

    if order == "jarak":
        open_.sort(key=lambda s: (km(s), -s.needed, s.row.code))
    else:
        open_.sort(key=lambda s: (-s.needed, km(s), -s.row.missing, s.row.code))
    return open_[:limit], closed


def suggestion_base(*, user: User, within: str, service_point: ServicePoint | None) -> Base:
    """Return where the distances of the suggestions are measured from."""
    return base_for(within=scope_for(user=user, code=within), service_point=service_point)


def mobile_units(user: User) -> QuerySet[ServicePoint]:
    """Return the active mobile units of the offices in the user's jurisdiction."""
    qs = ServicePoint.objects.filter(kind=ServicePoint.Kind.MOBILE, is_active=True)
    code = user.jurisdiction_code
    if code is not None:
        qs = (
            qs.filter(office__region__code__startswith=f"{code}.")
            if "." not in code
            else qs.filter(office__region__code=code[:5])
        )
    return qs.select_related("office").order_by("name")


def visits_for(user: User) -> QuerySet[OutreachVisit]:
    """Return the visits in the user's jurisdiction."""
    return limit_to_jurisdiction(
        OutreachVisit.objects.select_related("village", "service_point"), user
    )


def closures_for(user: User) -> QuerySet[ZoneClosure]:
    """Return the closures of regions in (or above) the user's jurisdiction."""
    code = user.jurisdiction_code
    qs = ZoneClosure.objects.select_related("region")
    if code is None:
        return qs
    return qs.filter(
        Q(region__code__startswith=code + ".")
        | Q(region_id__in=[*codes.ancestor_codes(code), code])
    )
