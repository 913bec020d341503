"""API for penunggalan: duplicate cases, adjudication, engine failures to run again (staff token)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.dedup import selectors, services
from ektp.dedup.models import CaseStatus, DuplicateCase, PenunggalanFailure

router = Router(tags=["dedup"])

VIEWER_ROLES = {Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}


class CaseOut(Schema):
    id: str
    nik: str
    name: str
    candidate_nik: str
    candidate_name: str
    source: str
    status: str
    biometric_score: float | None
    demographic_probability: float | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    reason: str

    @staticmethod
    def resolve_id(obj: DuplicateCase) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_nik(obj: DuplicateCase) -> str:
        return obj.resident.nik

    @staticmethod
    def resolve_name(obj: DuplicateCase) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_candidate_nik(obj: DuplicateCase) -> str:
        return obj.candidate.nik

    @staticmethod
    def resolve_candidate_name(obj: DuplicateCase) -> str:
        return obj.candidate.name


class FailureOut(Schema):
    id: str
    nik: str
    name: str
    kind: str
    attempts: int
    reason: str
    created_at: dt.datetime
    rerun_at: dt.datetime | None

    @staticmethod
    def resolve_id(obj: PenunggalanFailure) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_nik(obj: PenunggalanFailure) -> str:
        return obj.enrollment.resident.nik

    @staticmethod
    def resolve_name(obj: PenunggalanFailure) -> str:
        return obj.enrollment.resident.name


class CasesIn(Schema):
    status: Literal["open", "confirmed_duplicate", "not_duplicate", "semua"] = "open"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class DecisionIn(Schema):
    decision: Literal["confirmed_duplicate", "not_duplicate"]
    reason: str = Field(..., min_length=1, max_length=services.MAX_REASON)


def _viewer(request) -> None:
    if request.auth.role not in VIEWER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh membuka kasus data ganda.")


def _case(request, case_id: str) -> DuplicateCase:
    case = selectors.get_case(user=request.auth, case_id=case_id[:64])
    if case is None:
        raise HttpError(404, "Kasus data ganda tidak ditemukan di wilayah kerja Anda.")
    return case


@router.get("/cases", response=list[CaseOut])
def list_cases(request, params: Query[CasesIn]):
    """List duplicate cases in the caller's jurisdiction."""
    _viewer(request)
    status = None if params.status == "semua" else params.status
    qs = selectors.cases_for(user=request.auth, status=status)
    return list(qs[params.offset : params.offset + params.limit])


@router.get("/cases/{case_id}", response=CaseOut)
def get_case(request, case_id: str):
    """Read one duplicate case."""
    _viewer(request)
    case = _case(request, case_id)
    record_audit(
        user=request.auth,
        action=AuditEvent.Action.VIEW,
        object_type="duplicate_case",
        object_id=str(case.pk),
        request=request,
        channel="api",
    )
    return case


@router.post("/cases/{case_id}/decision", response=CaseOut)
def decide(request, case_id: str, payload: DecisionIn):
    """Decide a case: the same person or different people."""
    case = _case(request, case_id)
    return services.decide_case(
        case=case,
        decision=CaseStatus(payload.decision),
        actor=request.auth,
        reason=payload.reason,
        request=request,
    )


@router.get("/failures", response=list[FailureOut])
def list_failures(request):
    """List records that failed penunggalan because of the engine and may be run again."""
    _viewer(request)
    return list(selectors.engine_failures_for(user=request.auth)[:200])


@router.post("/failures/{failure_id}/rerun", response=FailureOut)
def rerun(request, failure_id: str):
    """Run penunggalan again for an engine failure, with the stored templates."""
    failure = selectors.get_failure(user=request.auth, failure_id=failure_id[:64])
    if failure is None:
        raise HttpError(404, "Kegagalan penunggalan tidak ditemukan di wilayah kerja Anda.")
    return services.rerun_penunggalan(
        failure=failure, actor=request.auth, request=request, channel="api"
    )
