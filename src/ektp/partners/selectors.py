"""Reads for partner data: the preview of an import, an election's figures by village (the
same numbers for the page, the export and the API), voters to resolve, IKD progress."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ektp.core.access import within_jurisdiction
from ektp.core.models import User
from ektp.coverage.selectors import first_time_voters
from ektp.coverage.stats import percent
from ektp.partners.models import (
    Election,
    IkdDenominator,
    IkdTarget,
    Match,
    PartnerImport,
    StagedRow,
    Voter,
)
from ektp.regions.models import Region
from ektp.residents.models import RECORDED_STATUSES, Resident

PREVIEW_ROWS = 500


def _in_reach(user: User) -> Q:
    """The rows of districts inside the user's jurisdiction (a district or a province)."""
    code = user.jurisdiction_code
    if code is None:
        return Q()
    return Q(kabkota_id=code) | Q(kabkota__code__startswith=code + ".")


def imports_for(user: User) -> QuerySet[PartnerImport]:
    return PartnerImport.objects.filter(_in_reach(user)).select_related(
        "kabkota", "election", "created_by"
    )


def elections_for(user: User) -> QuerySet[Election]:
    return Election.objects.filter(_in_reach(user)).select_related("kabkota")


@dataclass
class Preview:
    partner_import: PartnerImport
    counts: dict[str, int]
    problems: list[StagedRow]
    matched: list[StagedRow]
    unmatched: list[StagedRow]
    changing: int

    @property
    def people(self) -> int:
        return sum(self.counts.values())


def preview(partner_import: PartnerImport) -> Preview:
    """Count the staged rows by how they matched and list them (each list capped)."""
    rows = partner_import.rows.all()
    counts = dict.fromkeys(Match.values, 0)
    counts.update(dict(rows.values_list("match").annotate(n=Count("pk")).order_by()))
    base = rows.select_related("resident").order_by("line", "role")
    return Preview(
        partner_import=partner_import,
        counts=counts,
        problems=list(base.filter(match=Match.INVALID)[:PREVIEW_ROWS]),
        matched=list(base.filter(match__in=[Match.NIK, Match.DEDUP])[:PREVIEW_ROWS]),
        unmatched=list(base.filter(match__in=[Match.NONE, Match.ELSEWHERE])[:PREVIEW_ROWS]),
        changing=rows.filter(match__in=[Match.NIK, Match.DEDUP]).exclude(changes={}).count(),
    )


@dataclass
class VillageVoters:
    code: str
    name: str
    listed: int
    first_time: int
    not_recorded: int
    first_time_not_recorded: int

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "listed": self.listed,
            "first_time": self.first_time,
            "not_recorded": self.not_recorded,
            "first_time_not_recorded": self.first_time_not_recorded,
        }


def listed_residents(election: Election) -> QuerySet[Resident]:
    """The residents of the district on an election's voter list."""
    on_list = Voter.objects.filter(election=election, resident__isnull=False).values("resident_id")
    return Resident.objects.filter(pk__in=on_list, kabkota_code=election.kabkota_id)


def voters_by_village(election: Election) -> list[VillageVoters]:
    """Per village: residents on the list, first-time voters (17 by polling day) and those of
    them who have not recorded. The one source of the page, the export and the API."""
    listed = listed_residents(election)
    first = first_time_voters(listed, polling_day=election.polling_day)
    unrecorded = Q(recorded_on__isnull=True)

    def grouped(qs) -> dict[str, dict]:
        return {
            row["address_region_id"]: row
            for row in qs.order_by()
            .values("address_region_id")
            .annotate(n=Count("pk"), unrec=Count("pk", filter=unrecorded))
        }

    all_rows, first_rows = grouped(listed), grouped(first)
    names = dict(Region.objects.filter(code__in=list(all_rows)).values_list("code", "name"))
    return [
        VillageVoters(
            code=code,
            name=names.get(code, code),
            listed=row["n"],
            not_recorded=row["unrec"],
            first_time=first_rows.get(code, {}).get("n", 0),
            first_time_not_recorded=first_rows.get(code, {}).get("unrec", 0),
        )
        for code, row in sorted(all_rows.items())
    ]


def outreach_targets(election: Election, *, village: str | None = None) -> QuerySet[Resident]:
    """Residents on the list who have not recorded: the targets of jemput bola before polling day."""
    qs = listed_residents(election).filter(recorded_on__isnull=True).alive()
    if village:
        qs = qs.filter(address_region_id=village)
    return qs.order_by("address_region_id", "rw", "rt", "name")


def voters_to_resolve(election: Election) -> QuerySet[Voter]:
    """Voters on the list the registry does not know, or knows in another district."""
    return (
        Voter.objects.filter(
            election=election,
            standing__in=[Voter.Standing.UNKNOWN, Voter.Standing.ELSEWHERE],
            resolved_at__isnull=True,
        )
        .select_related("village", "resident")
        .order_by("village_id", "name")
    )


@dataclass
class IkdProgress:
    target: IkdTarget
    denominator_label: str
    population: int
    activated: int
    goal: int
    rate: Decimal | None
    met: bool


def ikd_progress(target: IkdTarget, *, as_of: dt.date | None = None) -> IkdProgress:
    """How far a kecamatan is towards its IKD target, counted against its stated denominator."""
    as_of = as_of or timezone.localdate()
    residents = Resident.objects.filter(kecamatan_code=target.kecamatan_id).wajib_ktp(as_of)
    holders = residents.filter(recorded_on__isnull=False, ktp_status__in=RECORDED_STATUSES)
    population_qs = holders if target.denominator == IkdDenominator.HOLDERS else residents
    population = population_qs.count()
    activated = holders.filter(ikd_activated_at__isnull=False).count()
    goal = math.ceil(Decimal(population) * target.rate / 100)
    return IkdProgress(
        target=target,
        denominator_label=IkdDenominator(target.denominator).label,
        population=population,
        activated=activated,
        goal=goal,
        rate=percent(activated, population),
        met=activated >= goal,
    )


def ikd_targets_for(user: User) -> list[IkdProgress]:
    targets = IkdTarget.objects.select_related("kecamatan").order_by("kecamatan_id")
    return [ikd_progress(t) for t in targets if within_jurisdiction(user, t.kecamatan_id)]
