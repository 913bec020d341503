"""API for coverage: figures by level, rankings, targets, zone policies, trend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.dates import check_day
from ektp.core.models import Role
from ektp.coverage import selectors, services

router = Router(tags=["coverage"])
VIEWER_ROLES = {Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}


class CoverageIn(Schema):
    wilayah: str = Field("", max_length=13)
    tingkat: str = Field("", max_length=10)
    tanggal: str = Field("", max_length=10)


class CoverageOut(Schema):
    code: str
    name: str
    level: int
    wajib_ktp: int
    recorded: int
    missing: int
    rate: Decimal | None
    zone: str
    printed: int
    printed_rate: Decimal | None
    prr: int
    ikd: int
    ikd_rate: Decimal | None
    suket_outstanding: int | None


class RankedOut(Schema):
    rank: int
    region: CoverageOut


class TargetIn(Schema):
    name: str = Field(..., max_length=150)
    population: str = Field(..., max_length=20)
    region: str = Field(..., max_length=13)
    rate: Decimal = Field(..., max_digits=5, decimal_places=2)
    due_date: dt.date
    polling_day: dt.date | None = None
    previous_polling_day: dt.date | None = None


class TargetOut(Schema):
    id: UUID
    name: str
    population: str
    region: str = Field(..., alias="region_id")
    rate: Decimal
    due_date: dt.date
    polling_day: dt.date | None
    previous_polling_day: dt.date | None


class ProgressOut(Schema):
    population: int
    recorded: int
    goal: int
    remaining: int
    days_left: int
    per_day: int | None
    rate: Decimal | None
    met: bool
    overdue: bool


class PolicyIn(Schema):
    region: str | None = Field(None, max_length=13)
    green_min: Decimal = Field(..., max_digits=5, decimal_places=2)
    yellow_min: Decimal = Field(..., max_digits=5, decimal_places=2)
    valid_from: dt.date
    valid_to: dt.date | None = None
    note: str = Field("", max_length=200)


class PolicyOut(Schema):
    id: int
    region: str | None = Field(None, alias="region_id")
    green_min: Decimal
    yellow_min: Decimal
    valid_from: dt.date
    valid_to: dt.date | None


class SnapshotOut(Schema):
    day: dt.date
    wajib_ktp: int
    recorded: int
    printed: int
    prr: int
    ikd: int


def _viewer(request):
    if request.auth.role not in VIEWER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh melihat statistik cakupan.")
    return request.auth


@router.get("/", response=list[CoverageOut])
def coverage(request, params: Query[CoverageIn]):
    """Coverage of every region of a level (default: the level below the region) on a date."""
    user = _viewer(request)
    as_of = selectors.parse_as_of(params.tanggal)
    code = selectors.scope_for(user=user, code=params.wilayah)
    level = selectors.parse_level(params.tingkat, code=code)
    rows = selectors.coverage_rows(user=user, code=code, level=level, as_of=as_of)
    return [r.as_dict() for r in rows]


@router.get("/ranking", response=list[RankedOut])
def ranking(request, params: Query[CoverageIn]):
    """Rank the regions of a level inside a region by coverage, best first."""
    user = _viewer(request)
    as_of = selectors.parse_as_of(params.tanggal)
    code = selectors.scope_for(user=user, code=params.wilayah)
    level = selectors.parse_level(params.tingkat, code=code)
    ranked = selectors.ranking(user=user, code=code, level=level, as_of=as_of)
    return [{"rank": r.rank, "region": r.row.as_dict()} for r in ranked]


@router.get("/trend", response=list[SnapshotOut])
def trend(request, wilayah: str = "", dari: dt.date | None = None, sampai: dt.date | None = None):
    """Daily snapshots of a region."""
    user = _viewer(request)
    today = timezone.localdate()
    end = check_day(
        sampai or today, earliest=selectors.EARLIEST, latest=today, what="Tanggal 'sampai'"
    )
    start = check_day(
        dari or max(end - dt.timedelta(days=90), selectors.EARLIEST),
        earliest=selectors.EARLIEST,
        latest=today,
        what="Tanggal 'dari'",
    )
    if start > end:
        raise HttpError(422, "Tanggal 'dari' harus sebelum 'sampai'.")
    return selectors.trend(user=user, code=wilayah[:13], start=start, end=end)


@router.get("/targets", response=list[TargetOut])
def list_targets(request):
    """Targets of regions inside the caller's jurisdiction."""
    return list(selectors.targets_for(_viewer(request)))


@router.post("/targets", response={201: TargetOut})
def create_target(request, payload: TargetIn):
    """Set a recording target (supervisor or province admin)."""
    target = services.create_target(
        actor=_viewer(request),
        name=payload.name,
        population=payload.population,
        region_code=payload.region,
        rate=payload.rate,
        due_date=payload.due_date,
        polling_day=payload.polling_day,
        previous_polling_day=payload.previous_polling_day,
    )
    return Status(201, target)


@router.get("/targets/{target_id}/progress", response=ProgressOut)
def target_progress(request, target_id: UUID):
    """Progress of a target today and the recordings per day still needed."""
    target = selectors.targets_for(_viewer(request)).filter(pk=target_id).first()
    if target is None:
        raise HttpError(404, "Target tidak ditemukan di wilayah kerja Anda.")
    return selectors.target_progress(target, as_of=timezone.localdate())


@router.post("/policies", response={201: PolicyOut})
def create_policy(request, payload: PolicyIn):
    """Set zone thresholds for a period (province admin or system admin)."""
    policy = services.create_policy(
        actor=request.auth,
        region_code=payload.region,
        green_min=payload.green_min,
        yellow_min=payload.yellow_min,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        note=payload.note,
    )
    return Status(201, policy)
