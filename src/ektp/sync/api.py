"""API of edge sync: enrol a laptop, push packets (metadata, then bytes, resumable), read
their fates back, pull reference data by cursor. A device signs every request with its key."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Query, Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import Field

from ektp.sync import keys, packets, selectors, services
from ektp.sync.models import DeviceKey, EdgeDevice

router = Router(tags=["sync"])

DEVICE_HEADER = "X-Ektp-Device"
TIME_HEADER = "X-Ektp-Time"
SIGNATURE_HEADER = "X-Ektp-Signature"


class DeviceSignatureAuth(APIKeyHeader):
    """Identify a device by its id header and its Ed25519 signature of the request."""

    param_name = DEVICE_HEADER

    def authenticate(self, request, key: str | None):
        unknown = services.SyncError(
            "Perangkat tidak dikenal atau tanda tangan permintaan tidak sah.",
            rule="sync_unknown_device",
            status=401,
        )
        try:
            device_id = uuid.UUID(str(key or ""))
        except ValueError:
            raise unknown from None
        at_text = request.headers.get(TIME_HEADER, "")[:40]
        signature_text = request.headers.get(SIGNATURE_HEADER, "")[:200]
        at = parse_datetime(at_text)
        current = (
            DeviceKey.objects.select_related("device")
            .filter(device_id=device_id, retired_at__isnull=True)
            .first()
        )
        if current is None or at is None or at.tzinfo is None:
            raise unknown
        try:
            signature = packets.unb64(signature_text)
        except packets.PacketError:
            raise unknown from None
        message = packets.request_message(
            method=request.method, path=request.get_full_path(), at=at_text, body=request.body
        )
        if not packets.verify(bytes(current.public_key), signature, message):
            raise unknown
        device = current.device
        request.clock_flagged = services.note_contact(device=device, device_time=at)
        return device


device_auth = DeviceSignatureAuth()


class EnrolIn(Schema):
    code: str = Field(..., min_length=4, max_length=40)
    public_key: str = Field(..., max_length=100, description="Ed25519 public key, base64.")


class DeviceOut(Schema):
    device_id: uuid.UUID
    standing: str
    service_point: str
    villages: list[str]
    freeze_after_days: int
    office_seal_key: str
    clock_tolerance_seconds: int
    server_time: dt.datetime


class AnnounceIn(Schema):
    id: str = Field(..., min_length=64, max_length=64)
    size: int = Field(..., ge=1)
    uid: uuid.UUID
    sequence: int = Field(..., ge=1)
    made_at: dt.datetime


class PacketOut(Schema):
    id: str
    state: str
    size: int
    received_bytes: int
    reason: str
    received_at: dt.datetime | None = None


class FatesIn(Schema):
    ids: list[str] = Field(..., max_length=500)


class FateOut(Schema):
    id: str
    fate: str
    reason: str
    received_at: dt.datetime | None = None


class ResidentRef(Schema):
    nik: str
    name: str
    sex: str
    birth_date: dt.date
    village: str
    ktp_status: str
    life_status: str


class RegionRef(Schema):
    code: str
    name: str
    level: int


class ReferenceOut(Schema):
    residents: list[ResidentRef]
    regions: list[RegionRef]
    cursor: str
    more: bool
    freeze_after_days: int
    standing: str


class ReferenceIn(Schema):
    cursor: str = Field("", max_length=80)


def _device_out(device: EdgeDevice) -> dict:
    return {
        "device_id": device.pk,
        "standing": device.standing,
        "service_point": device.service_point.name,
        "villages": sorted(device.villages.values_list("code", flat=True)),
        "freeze_after_days": device.freeze_after_days,
        "office_seal_key": packets.b64(keys.office_seal_public()),
        "clock_tolerance_seconds": services.skew_tolerance(),
        "server_time": timezone.now(),
    }


def _packet_out(packet) -> dict:
    return {
        "id": packet.id,
        "state": packet.state,
        "size": packet.size,
        "received_bytes": packet.received_bytes,
        "reason": packet.reason,
        "received_at": packet.received_at,
    }


@router.post("/enrol", auth=None, response={201: DeviceOut})
def enrol(request, payload: EnrolIn):
    """Enrol a laptop with the office's one-time code and its new public key."""
    try:
        public = packets.unb64(payload.public_key)
    except packets.PacketError:
        public = b""
    device = services.enrol_device(code=payload.code, public_key=public)
    return Status(201, _device_out(device))


@router.get("/device", auth=device_auth, response=DeviceOut)
def device_standing(request):
    """Return the calling device's standing, policy and the office's sealing key."""
    return _device_out(request.auth)


@router.post("/packets", auth=device_auth, response={200: PacketOut, 201: PacketOut})
def announce(request, payload: AnnounceIn):
    """Announce a packet (id, size, uid, sequence): 201 when new, 200 with its state when known."""
    before = request.auth.packets.filter(pk=payload.id.lower()).exists()
    packet = services.announce_packet(
        device=request.auth,
        packet_id=payload.id,
        size=payload.size,
        uid=payload.uid,
        sequence=payload.sequence,
        made_at=payload.made_at,
        clock_flagged=getattr(request, "clock_flagged", False),
    )
    return Status(200 if before else 201, _packet_out(packet))


@router.put("/packets/{packet_id}/content", auth=device_auth, response=PacketOut)
def upload(request, packet_id: str, offset: int = 0):
    """Send a packet's bytes from an offset (application/octet-stream); the last chunk
    answers with the receipt."""
    packet = services.receive_bytes(
        device=request.auth, packet_id=packet_id[:64], offset=offset, chunk=request.body
    )
    return _packet_out(packet)


@router.post("/fates", auth=device_auth, response=list[FateOut])
def fates(request, payload: FatesIn):
    """Return what became of each packet: received, processed, prr, duplicate, rejected…"""
    return selectors.fates(device=request.auth, ids=[i[:64].lower() for i in payload.ids])


@router.get("/reference", auth=device_auth, response=ReferenceOut)
def reference(request, params: Query[ReferenceIn]):
    """Return the residents of the device's villages changed after the cursor."""
    device = request.auth
    if device.standing != EdgeDevice.Standing.APPROVED:
        raise services.SyncError(
            "Perangkat belum disetujui atau sudah dicabut; data referensi tidak diberikan.",
            rule="sync_not_approved",
            status=403,
        )
    page = selectors.reference_page(device=device, cursor=params.cursor)
    return {**page, "freeze_after_days": device.freeze_after_days, "standing": device.standing}
