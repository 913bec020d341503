"""API for jemput bola: suggestions, target lists, visits, results, closures, special needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from ektp.outreach import selectors, services
from ektp.residents.nik import NikIn

router = Router(tags=["outreach"])


class SuggestionOut(Schema):
    code: str
    name: str
    wajib_ktp: int
    recorded: int
    missing: int
    rate: Decimal | None
    needed_for_green: int
    planned: bool
    distance_km: float | None = Field(
        None, description="Jarak garis lurus (haversine) dari pangkalan; kosong bila tak ada titik"
    )
    distance_approximate: bool = Field(
        False, description="Diukur ke titik kecamatan atau dari titik kabupaten/kota"
    )
    distance_from: str = Field("", description="Pangkalan asal jarak")


class PersonOut(Schema):
    nik: str
    name: str
    birth_date: dt.date
    rt: str
    rw: str
    street: str


class VisitIn(Schema):
    village: str = Field(..., max_length=13)
    date: dt.date
    service_point: UUID
    team: str = Field(..., max_length=300)
    expected_people: int = Field(..., ge=0, le=100000)
    blanks_to_carry: int = Field(0, ge=0, le=100000)


class VisitOut(Schema):
    id: UUID
    village: str = Field(..., alias="village_id")
    date: dt.date
    service_point: UUID = Field(..., alias="service_point_id")
    team: str
    expected_people: int
    blanks_to_carry: int
    status: str
    recorded_people: int | None
    cards_printed: int | None


class ResultIn(Schema):
    recorded_people: int = Field(..., ge=0, le=100000)
    cards_printed: int = Field(0, ge=0, le=100000)
    note: str = Field("", max_length=500)


class ClosureIn(Schema):
    region: str = Field(..., max_length=13)
    starts_on: dt.date
    ends_on: dt.date | None = None
    reason: str = Field(..., max_length=200)


class ClosureOut(Schema):
    id: int
    region: str = Field(..., alias="region_id")
    starts_on: dt.date
    ends_on: dt.date | None
    reason: str


class SpecialNeedIn(Schema):
    nik: NikIn
    kind: str = Field(..., max_length=20)
    note: str = Field("", max_length=200)


@router.get("/suggestions", response=list[SuggestionOut])
def suggestions(
    request,
    wilayah: str = "",
    tanggal: dt.date | None = None,
    dari: UUID | None = None,
    urut: str = "perlu",
):
    """Villages to visit next, closed ones left out, with the distance from the base
    (`dari`: a mobile unit; else the office). `urut`: perlu (default) or jarak."""
    today = timezone.localdate()
    within = wilayah[:13] or request.auth.jurisdiction_code or ""
    unit = None
    if dari is not None:
        unit = selectors.mobile_units(request.auth).filter(pk=dari).first()
        if unit is None:
            raise selectors.OutreachInputError(
                "Mobil keliling tidak dikenal di wilayah kerja Anda."
            )
    rows, _closed = selectors.suggestions(
        user=request.auth,
        within=within,
        as_of=today,
        day=max(tanggal or today, today),
        service_point=unit,
        order=urut[:10],
    )
    base = selectors.suggestion_base(user=request.auth, within=within, service_point=unit)
    return [
        {
            **s.row.as_dict(),
            "needed_for_green": s.needed,
            "planned": s.planned,
            "distance_km": s.distance_km,
            "distance_approximate": bool(s.distance and s.distance.approximate),
            "distance_from": base.name,
        }
        for s in rows
    ]


@router.get("/villages/{village}/people", response=list[PersonOut])
def people(request, village: str, daftar: str = "belum_rekam", pemilu: dt.date | None = None):
    """The people of a village that a visit should reach."""
    qs = selectors.target_list(
        user=request.auth,
        village=village[:13],
        kind=daftar[:20],
        as_of=timezone.localdate(),
        polling_day=pemilu,
    )
    return list(qs.order_by("rt", "rw", "name")[:1000])


@router.post("/visits", response={201: VisitOut})
def plan_visit(request, payload: VisitIn):
    """Plan a visit of a mobile unit to a village."""
    visit = services.plan_visit(
        actor=request.auth,
        village_code=payload.village,
        date=payload.date,
        service_point_id=payload.service_point,
        team=payload.team,
        expected_people=payload.expected_people,
        blanks_to_carry=payload.blanks_to_carry,
    )
    return Status(201, visit)


@router.post("/visits/{visit_id}/result", response=VisitOut)
def record_result(request, visit_id: UUID, payload: ResultIn):
    """Record what a visit achieved."""
    return services.record_result(
        actor=request.auth,
        visit_id=visit_id,
        recorded_people=payload.recorded_people,
        cards_printed=payload.cards_printed,
        note=payload.note,
    )


@router.post("/closures", response={201: ClosureOut})
def close_zone(request, payload: ClosureIn):
    """Close a region to visits for a period."""
    closure = services.close_zone(
        actor=request.auth,
        region_code=payload.region,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        reason=payload.reason,
    )
    return Status(201, closure)


@router.post("/special-needs", response={201: dict})
def flag_special_need(request, payload: SpecialNeedIn):
    """Mark a resident for door-to-door service."""
    need = services.flag_special_need(
        actor=request.auth, nik=payload.nik, kind=payload.kind, note=payload.note
    )
    return Status(201, {"id": str(need.pk), "kind": need.kind})
