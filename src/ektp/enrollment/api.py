"""API for recording: record a resident, read the status and the timeline, send to penunggalan."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.core.models import AuditEvent
from ektp.core.services import record_audit
from ektp.enrollment import selectors, services
from ektp.enrollment.biometrics import (
    MAX_IMAGE_BYTES,
    Capture,
)
from ektp.residents.nik import NikIn
from ektp.residents.selectors import get_resident_by_nik

router = Router(tags=["enrollment"])

MAX_B64 = (MAX_IMAGE_BYTES * 4) // 3 + 8


class SampleIn(Schema):
    modality: str = Field(..., max_length=12)
    quality: int = Field(..., ge=0, le=100)
    attempts: int = Field(1, ge=1, le=20)
    template_b64: str = Field(..., max_length=4096)
    image_b64: str = Field("", max_length=MAX_B64)


class ExceptionSchema(Schema):
    modality: str = Field(..., max_length=12)
    reason: str = Field(..., max_length=12)
    note: str = Field("", max_length=200)


class RecordIn(Schema):
    nik: NikIn
    device_id: uuid.UUID
    simulate: bool = Field(False, description="Capture with the configured driver (simulator).")
    samples: list[SampleIn] = Field(default_factory=list, max_length=14)
    exceptions: list[ExceptionSchema] = Field(default_factory=list, max_length=13)
    node_id: str = Field("office", min_length=1, max_length=40)


class SampleOut(Schema):
    modality: str
    quality: int
    attempts: int


class EnrollmentOut(Schema):
    id: uuid.UUID
    service_point: str
    device: str
    operator: str
    node_id: str
    captured_at: dt.datetime
    recordings: int
    penunggalan: str
    penunggalan_note: str
    samples: list[SampleOut]
    exceptions: list[ExceptionSchema]

    @staticmethod
    def resolve_service_point(obj) -> str:
        return obj.service_point.code

    @staticmethod
    def resolve_device(obj) -> str:
        return obj.device.serial_number

    @staticmethod
    def resolve_operator(obj) -> str:
        return obj.operator.username

    @staticmethod
    def resolve_samples(obj):
        return list(obj.samples.all())

    @staticmethod
    def resolve_exceptions(obj):
        return list(obj.exceptions.all())


class StatusOut(Schema):
    nik: str
    ktp_status: str
    recorded_on: dt.date | None = None
    card_may_be_printed: bool
    held_reason: str
    enrollment: EnrollmentOut | None = None


class HistoryOut(Schema):
    at: dt.datetime
    from_status: str
    to_status: str
    reason: str
    actor: str | None = None
    service_point: str | None = None
    node_id: str

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_service_point(obj) -> str | None:
        return obj.service_point.code if obj.service_point_id else None


class DailyIn(Schema):
    day: dt.date | None = None


class DailyOut(Schema):
    point: str
    code: str
    is_open: bool
    reason: str
    recorded: int
    capacity: int


def _resident(request, nik: str):
    resident = get_resident_by_nik(user=request.auth, nik=nik[:16])
    if resident is None:
        raise HttpError(404, "Penduduk tidak ditemukan di wilayah kerja Anda.")
    return resident


def _decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HttpError(422, f"{what}: bukan base64 yang sah.") from None


def _status(resident) -> dict:
    allowed, why = services.card_may_be_printed(resident)
    return {
        "nik": resident.nik,
        "ktp_status": resident.ktp_status,
        "recorded_on": resident.recorded_on,
        "card_may_be_printed": allowed,
        "held_reason": why,
        "enrollment": selectors.enrollment_of(resident),
    }


@router.post("/records", response={201: StatusOut})
def record(request, payload: RecordIn):
    """Record a resident's biometrics: send samples, or simulate=true to capture with the driver."""
    resident = _resident(request, payload.nik)
    kit = selectors.recording_kits_for(request.auth).filter(pk=payload.device_id).first()
    if kit is None:
        raise HttpError(404, "Alat perekaman tidak ditemukan di wilayah kerja Anda.")
    exceptions = {}
    for e in payload.exceptions:
        if e.modality in exceptions:
            raise HttpError(422, f"Pengecualian {e.modality} dikirim dua kali.")
        exceptions[e.modality] = services.ExceptionIn(e.reason, e.note)
    if payload.simulate:
        if payload.samples:
            raise HttpError(422, "Kirim sampel atau simulate=true, bukan keduanya.")
        services.capture_and_record(
            resident=resident,
            device=kit,
            operator=request.auth,
            exceptions=exceptions,
            node_id=payload.node_id,
            request=request,
        )
    else:
        captures = {}
        for s in payload.samples:
            if s.modality in captures:
                raise HttpError(422, f"Sampel {s.modality} dikirim dua kali.")
            captures[s.modality] = Capture(
                modality=s.modality,
                template=_decode(s.template_b64, s.modality),
                quality=s.quality,
                image=_decode(s.image_b64, s.modality) if s.image_b64 else b"",
                attempts=s.attempts,
            )
        services.record_enrollment(
            resident=resident,
            service_point=kit.service_point,
            device=kit,
            operator=request.auth,
            captures=captures,
            exceptions=exceptions,
            capture_driver="api",
            node_id=payload.node_id,
            request=request,
        )
    resident.refresh_from_db()
    return Status(201, _status(resident))


@router.get("/daily", response=list[DailyOut])
def daily(request, params: Query[DailyIn]):
    """Return each point's recordings on a day against its capacity."""
    day = params.day or timezone.localdate()
    rows = selectors.daily_figures(user=request.auth, day=day)
    return [
        {
            "point": row.point.name,
            "code": row.point.code,
            "is_open": row.opening.is_open,
            "reason": row.opening.reason,
            "recorded": row.recorded,
            "capacity": row.opening.capacity,
        }
        for row in rows
    ]


@router.get("/{nik}", response=StatusOut)
def status(request, nik: str):
    """Return a resident's KTP-el status and recording summary."""
    resident = _resident(request, nik)
    record_audit(
        user=request.auth,
        action=AuditEvent.Action.VIEW,
        object_type="ktp_history",
        object_id=resident.nik,
        request=request,
        channel="api",
    )
    return _status(resident)


@router.get("/{nik}/history", response=list[HistoryOut])
def history(request, nik: str):
    """Return a resident's KTP-el timeline, oldest first."""
    resident = _resident(request, nik)
    record_audit(
        user=request.auth,
        action=AuditEvent.Action.VIEW,
        object_type="ktp_history",
        object_id=resident.nik,
        request=request,
        channel="api",
    )
    return list(selectors.history_of(resident))


@router.post("/{nik}/send", response=StatusOut)
def send(request, nik: str):
    """Send a captured record to penunggalan (BIO_CAPTURED → SFE)."""
    resident = _resident(request, nik)
    services.send_for_penunggalan(resident=resident, actor=request.auth)
    resident.refresh_from_db()
    return _status(resident)
