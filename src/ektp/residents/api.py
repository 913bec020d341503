"""API for residents: search, read, create, update (staff token, jurisdiction-limited)."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.regions import codes
from ektp.residents import selectors, services

router = Router(tags=["residents"])

EDITOR_ROLES = {Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN}


class ResidentOut(Schema):
    nik: str
    kk_number: str | None = None
    name: str
    birth_place: str
    birth_date: dt.date
    sex: str
    marital_status: str
    religion: str
    occupation: str
    citizenship: str
    mother_name: str
    address_region: str = Field(..., alias="address_region_id")
    rt: str
    rw: str
    street: str
    phone: str
    email: str
    life_status: str
    ktp_status: str
    recorded_on: dt.date | None = None
    wajib_ktp: bool

    @staticmethod
    def resolve_kk_number(obj) -> str | None:
        return obj.family.kk_number if obj.family_id else None

    @staticmethod
    def resolve_wajib_ktp(obj) -> bool:
        return obj.is_wajib_ktp()


class ResidentIn(Schema):
    nik: str = Field(..., max_length=16)
    kk_number: str | None = Field(None, max_length=16)
    family_relation: str = Field("kepala_keluarga", max_length=20)
    name: str = Field(..., max_length=100)
    birth_place: str = Field(..., max_length=60)
    birth_date: dt.date
    sex: str = Field(..., max_length=1)
    marital_status: str = Field("belum_kawin", max_length=12)
    religion: str = Field(..., max_length=12)
    occupation: str = Field("", max_length=60)
    citizenship: str = Field("WNI", max_length=3)
    has_itap: bool = False
    mother_name: str = Field(..., max_length=100)
    address_region: str = Field(..., max_length=13)
    rt: str = Field(..., max_length=3)
    rw: str = Field(..., max_length=3)
    street: str = Field("", max_length=200)
    phone: str = Field("", max_length=20)
    email: str = Field("", max_length=120)
    life_status: str = Field("hidup", max_length=10)


class ResidentCreated(Schema):
    resident: ResidentOut
    warnings: list[str]


class SearchIn(Schema):
    q: str = Field("", max_length=100)
    desa: str = Field("", max_length=13)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100000)


@router.get("/", response=list[ResidentOut])
def search(request, params: Query[SearchIn]):
    """Search residents by NIK / No. KK (exact), name (contains) or region code."""
    if params.desa and not codes.is_valid_code(params.desa):
        raise HttpError(422, "desa: kode wilayah tidak sah (contoh: 18.09.01 atau 18.09.01.2001).")
    qs = selectors.search_residents(user=request.auth, query=params.q, village=params.desa)
    record_audit(
        user=request.auth,
        action=AuditEvent.Action.SEARCH,
        object_type="resident",
        request=request,
        channel="api",
        detail={"q": params.q, "desa": params.desa},
    )
    return list(qs[params.offset : params.offset + params.limit])


@router.get("/{nik}", response=ResidentOut)
def get_resident(request, nik: str):
    """Return one resident by NIK (404 when outside the caller's jurisdiction)."""
    resident = selectors.get_resident_by_nik(user=request.auth, nik=nik[:16])
    if resident is None:
        raise HttpError(404, "Penduduk tidak ditemukan di wilayah kerja Anda.")
    record_audit(
        user=request.auth,
        action=AuditEvent.Action.VIEW,
        object_type="resident",
        object_id=resident.nik,
        request=request,
        channel="api",
    )
    return resident


@router.post("/", response={201: ResidentCreated})
def create_resident(request, payload: ResidentIn):
    """Register a resident; 422 names each broken rule."""
    if request.auth.role not in EDITOR_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh mendaftarkan penduduk.")
    resident, warnings = services.create_resident(
        actor=request.auth, data=payload.dict(), request=request
    )
    return Status(201, {"resident": resident, "warnings": warnings})


@router.put("/{nik}", response=ResidentCreated)
def update_resident(request, nik: str, payload: ResidentIn):
    """Replace a resident's data (the NIK itself cannot change)."""
    if request.auth.role not in EDITOR_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh mengubah data penduduk.")
    resident = selectors.get_resident_by_nik(user=request.auth, nik=nik[:16])
    if resident is None:
        raise HttpError(404, "Penduduk tidak ditemukan di wilayah kerja Anda.")
    if payload.nik != resident.nik:
        raise HttpError(422, "nik: NIK tidak dapat diubah.")
    resident, warnings = services.update_resident(
        actor=request.auth, resident=resident, data=payload.dict(), request=request
    )
    return {"resident": resident, "warnings": warnings}
