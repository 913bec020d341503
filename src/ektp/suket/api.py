"""API for suket: policy in force, issuance, revocation, PDF and verification."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.models import Role
from ektp.offices.models import Office
from ektp.offices.selectors import office_for
from ektp.regions import codes
from ektp.residents.nik import NikIn
from ektp.residents.selectors import get_resident_by_nik
from ektp.suket import selectors, services, signing
from ektp.suket.documents import pdf_response
from ektp.suket.models import Suket
from ektp.suket.policy import rule_in_force

router = Router(tags=["suket"])

ISSUER_ROLES = {Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN}
READER_ROLES = ISSUER_ROLES | {Role.PROVINCE_ADMIN}
MAX_PAYLOAD = 2000


class ErrorOut(Schema):
    detail: str


def _office(request, kab: str) -> Office:
    if request.auth.role not in READER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh melihat suket.")
    if not codes.is_valid_code(kab, level=codes.KABKOTA):
        raise HttpError(422, "kab: kode kabupaten/kota harus berbentuk NN.NN, mis. 18.09.")
    office = office_for(request.auth, kab)
    if office is None:
        raise HttpError(404, "Kantor Disdukcapil tidak ditemukan di wilayah kerja Anda.")
    return office


def _suket(request, suket_id: str) -> Suket:
    if request.auth.role not in READER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh melihat suket.")
    suket = selectors.get_suket(user=request.auth, suket_id=suket_id)
    if suket is None:
        raise HttpError(404, "Suket tidak ditemukan di wilayah kerja Anda.")
    return suket


class OfficeIn(Schema):
    kab: str = Field(..., max_length=5, description="Kode kab/kota kantor, mis. 18.09")


class RuleInForceOut(Schema):
    rule_id: uuid.UUID | None
    source: str
    mode: str
    purpose: str
    issue_until: dt.date | None
    valid_until_if_issued_today: dt.date


@router.get("/rule", response=RuleInForceOut)
def rule(request, params: Query[OfficeIn]):
    """Return the suket rule in force today for an office, with its source."""
    office = _office(request, params.kab)
    today = timezone.localdate()
    in_force = rule_in_force(office, today)
    return {
        "rule_id": in_force.rule.pk if in_force.rule else None,
        "source": in_force.source,
        "mode": in_force.mode,
        "purpose": in_force.purpose,
        "issue_until": in_force.rule.issue_until if in_force.rule else None,
        "valid_until_if_issued_today": in_force.valid_until_for(today),
    }


class RuleIn(Schema):
    authority: str = Field(..., max_length=10)
    region: str | None = Field(None, max_length=13)
    title: str = Field(..., max_length=150)
    reference: str = Field("", max_length=150)
    mode: str = Field(..., max_length=12)
    purpose: str = Field("", max_length=100)
    effective_from: dt.date
    effective_to: dt.date | None = None
    issue_until: dt.date | None = None
    valid_until: dt.date | None = None
    valid_months: int = Field(6, ge=1, le=24)


class RuleOut(Schema):
    id: uuid.UUID
    authority: str
    region_id: str | None
    title: str
    mode: str
    purpose: str
    effective_from: dt.date
    effective_to: dt.date | None
    issue_until: dt.date | None
    valid_until: dt.date | None
    valid_months: int


@router.post("/rules", response={201: RuleOut, 403: ErrorOut, 422: ErrorOut})
def create_rule(request, payload: RuleIn):
    """Create a suket rule (ministry: national admin; province: province admin; office: supervisor)."""
    return Status(201, services.create_rule(actor=request.auth, **payload.dict()))


class IssueIn(Schema):
    kab: str = Field(..., max_length=5)
    nik: NikIn
    purpose: str = Field("", max_length=100)
    technical_failure: str = Field("", max_length=250)


class SuketOut(Schema):
    id: uuid.UUID
    number: str
    nik: str
    name: str
    reason: str
    reason_note: str
    purpose: str
    rule_source: str
    issued_at: dt.datetime
    valid_until: dt.date
    status: str
    status_reason: str
    office: str
    verify_path: str

    @staticmethod
    def resolve_status(obj) -> str:
        return obj.current_status(timezone.localdate())

    @staticmethod
    def resolve_office(obj) -> str:
        return obj.office.name

    @staticmethod
    def resolve_verify_path(obj) -> str:
        from django.urls import reverse

        return reverse("verify:verify", args=[obj.number])


@router.post("/", response={201: SuketOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut})
def issue(request, payload: IssueIn):
    """Issue a suket if the rule in force allows it, or answer 409 with the reason."""
    office = _office(request, payload.kab)
    if request.auth.role not in ISSUER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh menerbitkan suket.")
    resident = get_resident_by_nik(user=request.auth, nik=payload.nik)
    if resident is None:
        return Status(404, {"detail": "NIK tidak ditemukan di wilayah kerja Anda."})
    suket = services.issue_suket(
        resident=resident,
        office=office,
        officer=request.auth,
        technical_failure=payload.technical_failure,
        purpose=payload.purpose,
        request=request,
    )
    return Status(201, suket)


class ListIn(OfficeIn):
    status: str = Field("", max_length=8)
    limit: int = Field(100, ge=1, le=500)


@router.get("/", response=list[SuketOut])
def list_sukets(request, params: Query[ListIn]):
    """List an office's suket, newest first, optionally by status."""
    office = _office(request, params.kab)
    if params.status and params.status not in Suket.Status.values:
        raise HttpError(422, "status: harus valid, voided, revoked atau expired.")
    qs = selectors.office_sukets(
        user=request.auth, office=office, status=params.status, today=timezone.localdate()
    )
    return list(qs[: params.limit])


class OutstandingOut(Schema):
    office: str
    valid: int
    blanks: int
    cover: bool


@router.get("/outstanding", response=OutstandingOut)
def outstanding(request, params: Query[OfficeIn]):
    """Count the office's suket outstanding against blanks in stock."""
    office = _office(request, params.kab)
    found = selectors.outstanding(office, timezone.localdate())
    return {
        "office": office.name,
        "valid": found.valid,
        "blanks": found.blanks,
        "cover": found.cover,
    }


class PublicKeyOut(Schema):
    algorithm: str
    public_key_pem: str
    retired_public_keys_pem: list[str]


@router.get("/public-key", auth=None, response=PublicKeyOut)
def public_key(request):
    """Return the office's Ed25519 public key for checking QR payloads offline, and the keys
    it used before (suket signed with them stay valid)."""
    keys = signing.office_keys()
    return {
        "algorithm": "Ed25519",
        "public_key_pem": keys.qr_public_pem(),
        "retired_public_keys_pem": keys.retired_public_pems(),
    }


class QrIn(Schema):
    payload: str = Field(..., max_length=MAX_PAYLOAD)


class QrOut(Schema):
    signature_valid: bool
    number: str
    nik: str
    name: str
    valid_until: dt.date
    status_at_issue: str
    status_now: str


@router.post("/verify-qr", auth=None, response={200: QrOut, 404: ErrorOut, 422: ErrorOut})
def verify_qr(request, body: QrIn):
    """Check a scanned QR payload's signature and report the suket's status now."""
    try:
        fields = selectors.qr_fields(body.payload)
    except signing.ForgedPayload as exc:
        return Status(422, {"detail": str(exc)})
    suket = selectors.public_suket(fields["number"])
    if suket is None:
        return Status(404, {"detail": "Suket dengan nomor ini tidak terdaftar."})
    return {
        "signature_valid": True,
        "number": suket.number,
        "nik": suket.masked_nik,
        "name": suket.masked_name,
        "valid_until": suket.valid_until,
        "status_at_issue": fields["status"],
        "status_now": suket.current_status(timezone.localdate()),
    }


@router.get("/{suket_id}", response=SuketOut)
def detail(request, suket_id: str):
    """Return one suket."""
    return _suket(request, suket_id)


class RevokeIn(Schema):
    reason: str = Field(..., max_length=250)


@router.post(
    "/{suket_id}/revoke", response={200: SuketOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def revoke(request, suket_id: str, payload: RevokeIn):
    """Revoke a valid suket with a reason (supervisor)."""
    suket = _suket(request, suket_id)
    return services.revoke_suket(
        suket=suket, reason=payload.reason, actor=request.auth, request=request
    )


@router.get("/{suket_id}/pdf")
def pdf(request, suket_id: str) -> HttpResponse:
    """Download the signed PDF of a suket."""
    return pdf_response(request, _suket(request, suket_id))
