"""Writes of edge sync on the office: devices (register, enrol, approve, revoke) and packets
(announce, receive bytes, verify, hand to recording, quarantine decisions)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.enrollment.biometrics import Capture, Modality
from ektp.enrollment.services import (
    EnrollmentError,
    ExceptionIn,
    record_enrollment,
    send_for_penunggalan,
)
from ektp.offices.models import Device, ServicePoint
from ektp.regions.models import Region
from ektp.residents.models import KtpStatus, Resident
from ektp.sync import keys, packets
from ektp.sync.models import DeviceKey, EdgeDevice, InboundPacket

log = logging.getLogger(__name__)

MANAGERS = {Role.SUPERVISOR, Role.SYSTEM_ADMIN}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone
CODE_VALID = dt.timedelta(hours=24)
MAX_PACKET_BYTES = 4 * 1024 * 1024
S = InboundPacket.State
Standing = EdgeDevice.Standing


class SyncError(DomainError, ValueError):
    """A sync request breaks a rule; the message says which."""

    rule = "sync"


def _check_manager(actor: User, point: ServicePoint) -> None:
    if actor.role not in MANAGERS:
        raise SyncError(
            "Hanya kepala dinas / supervisor yang boleh mengelola perangkat lapangan.",
            rule="role",
            status=403,
        )
    if not within_jurisdiction(actor, point.office.region_id):
        raise SyncError("Titik layanan ini berada di luar wilayah kerja Anda.", status=403)


def _hash_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(b"ektp-edge-code:" + cleaned.encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def register_device(
    *,
    name: str,
    service_point: ServicePoint,
    operator: User,
    villages: list[str],
    actor: User,
    freeze_after_days: int = 3,
) -> tuple[EdgeDevice, str]:
    """Register a laptop of a service point and return it with its one-time enrolment code."""
    point = ServicePoint.objects.select_related("office").get(pk=service_point.pk)
    _check_manager(actor, point)
    name = " ".join((name or "").split())[:100]
    if not name:
        raise SyncError("Nama perangkat wajib diisi.")
    if not 1 <= int(freeze_after_days) <= 30:
        raise SyncError("Batas hari tanpa sinkron harus 1–30 hari.")
    if operator.role not in (Role.OPERATOR, Role.SUPERVISOR):
        raise SyncError("Perangkat lapangan harus dipegang operator atau supervisor.")
    regions = list(Region.objects.filter(code__in=villages, level=Region.Level.DESA))
    if not villages or len(regions) != len(set(villages)):
        raise SyncError("Pilih desa/kelurahan yang dilayani dengan kode wilayah yang sah.")
    for region in regions:
        if not region.code.startswith(point.office.region_id + "."):
            raise SyncError(f"Desa {region.code} berada di luar kabupaten/kota kantor ini.")
    code = _new_code()
    with transaction.atomic():
        kit = Device.objects.create(
            service_point=point,
            kind=Device.Kind.RECORDING_KIT,
            serial_number=f"EDGE-{uuid.uuid4().hex[:12].upper()}",
        )
        device = EdgeDevice.objects.create(
            name=name,
            service_point=point,
            kit=kit,
            operator=operator,
            freeze_after_days=freeze_after_days,
            code_hash=_hash_code(code),
            code_expires_at=timezone.now() + CODE_VALID,
        )
        device.villages.set(regions)
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="edge_device",
            object_id=str(device.pk),
            detail={"point": point.code, "villages": sorted(villages)},
        )
    return device, code


def issue_enrolment_code(*, device: EdgeDevice, actor: User) -> str:
    """Give a device a new one-time code: enrolling with it rotates the device's key."""
    with transaction.atomic():
        locked = EdgeDevice.objects.select_for_update().get(pk=device.pk)
        _check_manager(
            actor, ServicePoint.objects.select_related("office").get(pk=locked.service_point_id)
        )
        if locked.standing == Standing.REVOKED:
            raise SyncError(
                "Perangkat yang dicabut tidak dapat didaftarkan lagi; daftarkan perangkat baru."
            )
        code = _new_code()
        locked.code_hash = _hash_code(code)
        locked.code_expires_at = timezone.now() + CODE_VALID
        locked.save(update_fields=["code_hash", "code_expires_at"])
    return code


def enrol_device(*, code: str, public_key: bytes) -> EdgeDevice:
    """Record a laptop's public key against a one-time code; the office approves it next."""
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise SyncError("Kunci publik perangkat harus Ed25519 (32 byte).")
    now = timezone.now()
    with transaction.atomic():
        device = (
            EdgeDevice.objects.select_for_update()
            .filter(code_hash=_hash_code(code or ""))
            .exclude(code_hash="")
            .first()
        )
        if device is None or device.code_expires_at is None or device.code_expires_at < now:
            raise SyncError(
                "Kode pendaftaran salah, sudah dipakai, atau kedaluwarsa.",
                rule="sync_bad_code",
                status=403,
            )
        if device.standing == Standing.REVOKED:
            raise SyncError("Perangkat ini sudah dicabut.", rule="sync_revoked", status=403)
        DeviceKey.objects.filter(device=device, retired_at__isnull=True).update(retired_at=now)
        DeviceKey.objects.create(
            device=device, public_key=public_key, fingerprint=packets.fingerprint(public_key)
        )
        device.code_hash = ""
        device.code_expires_at = None
        device.enrolled_at = now
        device.standing = Standing.PENDING
        device.save(update_fields=["code_hash", "code_expires_at", "enrolled_at", "standing"])
    return device


def approve_device(*, device: EdgeDevice, actor: User) -> EdgeDevice:
    """Let an enrolled device push packets and pull reference data."""
    with transaction.atomic():
        locked = EdgeDevice.objects.select_for_update().get(pk=device.pk)
        _check_manager(
            actor, ServicePoint.objects.select_related("office").get(pk=locked.service_point_id)
        )
        if locked.standing != Standing.PENDING:
            raise SyncError(
                f"Hanya perangkat yang menunggu persetujuan dapat disetujui (status: "
                f"{locked.get_standing_display()})."
            )
        locked.standing = Standing.APPROVED
        locked.approved_at = timezone.now()
        locked.approved_by = actor
        locked.save(update_fields=["standing", "approved_at", "approved_by"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="edge_device",
            object_id=str(locked.pk),
            detail={"standing": "approved"},
        )
    return locked


def revoke_device(*, device: EdgeDevice, actor: User, reason: str) -> EdgeDevice:
    """Revoke a lost or stolen device: later packets are refused, earlier ones quarantined."""
    reason = " ".join((reason or "").split())[:250]
    if not reason:
        raise SyncError("Alasan pencabutan wajib diisi.")
    with transaction.atomic():
        locked = EdgeDevice.objects.select_for_update().get(pk=device.pk)
        _check_manager(
            actor, ServicePoint.objects.select_related("office").get(pk=locked.service_point_id)
        )
        if locked.standing == Standing.REVOKED:
            raise SyncError("Perangkat sudah dicabut.")
        locked.standing = Standing.REVOKED
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revoke_reason = reason
        locked.code_hash = ""
        locked.save(
            update_fields=["standing", "revoked_at", "revoked_by", "revoke_reason", "code_hash"]
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="edge_device",
            object_id=str(locked.pk),
            detail={"standing": "revoked", "reason": reason},
        )
    return locked


def skew_tolerance() -> int:
    return int(settings.EKTP_EDGE_CLOCK_TOLERANCE_SECONDS)


def note_contact(*, device: EdgeDevice, device_time: dt.datetime) -> bool:
    """Record that a device was heard from; return whether its clock is off beyond tolerance."""
    now = timezone.now()
    skew = int((device_time - now).total_seconds())
    EdgeDevice.objects.filter(pk=device.pk).update(last_sync_at=now, clock_skew_seconds=skew)
    device.last_sync_at, device.clock_skew_seconds = now, skew
    return abs(skew) > skew_tolerance()


def _check_may_push(device: EdgeDevice) -> None:
    if device.standing in (Standing.AWAITING_ENROLMENT, Standing.PENDING):
        raise SyncError(
            "Perangkat belum disetujui kantor; paket belum dapat diterima.",
            rule="sync_not_approved",
            status=403,
        )


def _conflict(packet: InboundPacket, why: str) -> SyncError:
    """Count a refused conflict on the packet it clashed with (outside the refused
    transaction, so that the report stays) and return the error to raise."""
    InboundPacket.objects.filter(pk=packet.pk).update(
        conflicts=models.F("conflicts") + 1, last_conflict=why[:250]
    )
    return SyncError(why, rule="sync_id_conflict", status=409)


def announce_packet(**kwargs) -> InboundPacket:
    """Take a packet's metadata before its bytes; the same packet again changes nothing.

    Two announcements of a new packet at once: the database's unique keys let one create it,
    and the other, refused by them, reads what the first stored."""
    try:
        return _announce(**kwargs)
    except IntegrityError:
        return _announce(**kwargs)


def _announce(
    *,
    device: EdgeDevice,
    packet_id: str,
    size: int,
    uid: uuid.UUID,
    sequence: int,
    made_at: dt.datetime,
    clock_flagged: bool = False,
) -> InboundPacket:
    _check_may_push(device)
    packet_id = (packet_id or "").lower()
    if len(packet_id) != 64 or any(ch not in "0123456789abcdef" for ch in packet_id):
        raise SyncError("Id paket harus SHA-256 (64 digit heksadesimal).")
    if not 1 <= size <= MAX_PACKET_BYTES:
        raise SyncError(f"Ukuran paket harus 1–{MAX_PACKET_BYTES} byte.", rule="sync_size")
    clash: tuple[InboundPacket, str] | None = None
    with transaction.atomic():
        existing = InboundPacket.objects.select_for_update().filter(pk=packet_id).first()
        other = None
        if existing is None:
            other = (
                InboundPacket.objects.filter(device=device, uid=uid)
                | InboundPacket.objects.filter(device=device, sequence=sequence)
            ).first()
            if other is not None and other.pk == packet_id:
                # committed by another connection since the first read: the same packet
                existing = InboundPacket.objects.select_for_update().get(pk=packet_id)
        if existing is not None:
            if existing.device_id != device.pk:
                clash = (existing, "Id paket ini sudah dikirim oleh perangkat lain.")
            elif (existing.size, existing.uid, existing.sequence) != (size, uid, sequence):
                clash = (
                    existing,
                    "Id paket sama dengan isi lain (ukuran, uid atau urutan berbeda); ditolak.",
                )
            elif existing.state == S.RESEND:
                existing.state, existing.reason = S.RECEIVING, ""
                existing.save(update_fields=["state", "reason"])
                return existing
            else:
                return existing
        elif other is not None:
            which = "uid" if other.uid == uid else "nomor urut"
            clash = (
                other,
                f"Paket dengan {which} yang sama sudah ada dengan isi lain "
                f"({other.id[:12]}); ditolak.",
            )
        if clash is not None:
            packet = None
        else:
            packet = InboundPacket.objects.create(
                id=packet_id,
                device=device,
                uid=uid,
                sequence=sequence,
                size=size,
                device_time=made_at,
                clock_flagged=clock_flagged,
            )
            if device.standing == Standing.REVOKED and made_at >= device.revoked_at:
                packet.state = S.REJECTED
                packet.reason = "Dibuat setelah perangkat dicabut."
                packet.save(update_fields=["state", "reason"])
    if clash is not None:
        raise _conflict(*clash)
    if packet.state == S.REJECTED:
        raise SyncError(
            "Perangkat ini sudah dicabut; paket yang dibuat sesudahnya ditolak.",
            rule="sync_revoked",
            status=403,
        )
    return packet


def receive_bytes(
    *, device: EdgeDevice, packet_id: str, offset: int, chunk: bytes
) -> InboundPacket:
    """Append a chunk at its offset; at the last byte verify the packet and hand it on."""
    _check_may_push(device)
    with transaction.atomic():
        packet = (
            InboundPacket.objects.select_for_update()
            .filter(pk=(packet_id or "").lower(), device=device)
            .first()
        )
        if packet is None:
            raise SyncError(
                "Paket belum diumumkan; kirim metadatanya dulu.", rule="sync_unknown", status=404
            )
        if packet.state != S.RECEIVING:
            return packet  # already whole: the same bytes twice have one effect
        if offset != packet.received_bytes:
            raise SyncError(
                f"Lanjutkan dari byte {packet.received_bytes}.",
                rule="sync_offset",
                status=409,
            )
        if offset + len(chunk) > packet.size:
            raise SyncError("Isi paket melebihi ukuran yang diumumkan.", rule="sync_size")
        packet.content = bytes(packet.content) + chunk
        packet.received_bytes = offset + len(chunk)
        packet.save(update_fields=["content", "received_bytes"])
        if packet.received_bytes < packet.size:
            return packet
        _verify(packet, device)
    if packet.state == S.RESEND:
        raise SyncError(packet.reason, rule="sync_hash_mismatch", status=422)
    if packet.state == S.REJECTED:
        raise SyncError(packet.reason, rule="sync_bad_signature", status=422)
    if packet.state == S.RECEIVED:
        try:
            process_packet(packet_id=packet.pk)
        except Exception:
            # Stored and verified: the receipt stands, and process_received_packets (a task)
            # takes it up again; the edge reads the fate `diterima` meanwhile.
            log.exception("packet %s stored but not processed", packet.pk)
        packet.refresh_from_db()
    return packet


def _verify(packet: InboundPacket, device: EdgeDevice) -> None:
    """Check hash, format and signature of a whole packet; the caller holds the lock."""
    data = bytes(packet.content)
    if packets.digest(data) != packet.id:
        packet.content, packet.received_bytes = b"", 0
        packet.state, packet.reason = S.RESEND, "Isi paket tidak cocok dengan id-nya; kirim ulang."
        packet.save(update_fields=["content", "received_bytes", "state", "reason"])
        return
    problem = ""
    try:
        envelope, signature = packets.parse(data)
    except packets.PacketError as error:
        envelope, signature, problem = {}, b"", f"Paket tidak sah: {error}."
    key = None
    if not problem:
        key = DeviceKey.objects.filter(
            device=device, fingerprint=str(envelope.get("key", ""))[:16]
        ).first()
        if key is None or not packets.signed_by(envelope, signature, bytes(key.public_key)):
            problem = "Tanda tangan paket tidak sah untuk perangkat ini."
        elif envelope.get("device") != str(device.pk):
            problem = "Paket menyebut perangkat lain."
        elif envelope.get("uid") != str(packet.uid) or envelope.get("seq") != packet.sequence:
            problem = "Uid atau nomor urut paket berbeda dari metadatanya."
        elif parse_datetime(str(envelope.get("at", ""))) != packet.device_time:
            problem = "Waktu pembuatan paket berbeda dari metadatanya."
    packet.received_at = timezone.now()
    if problem:
        packet.state, packet.reason = S.REJECTED, problem
        packet.save(update_fields=["state", "reason", "received_at"])
        return
    body = envelope.get("body") or {}
    packet.kind = str(envelope.get("kind", ""))[:20]
    packet.nik = str(body.get("nik", ""))[:16]
    packet.state = S.RECEIVED
    if device.standing == Standing.REVOKED:
        packet.state = S.QUARANTINED
        packet.reason = "Dibuat sebelum perangkat dicabut; menunggu keputusan petugas."
    packet.save(update_fields=["state", "reason", "received_at", "kind", "nik"])


def _captures(envelope: dict, packet: InboundPacket) -> tuple[dict, dict]:
    body = envelope["body"]
    sealed = packets.unb64(envelope["sealed"])
    opened = json.loads(
        packets.open_sealed(
            sealed, office_private=keys.office_seal_key(), associated=packet.uid.bytes
        )
    )
    captures = {}
    for sample in body.get("samples", []):
        modality = sample["modality"]
        if modality not in Modality.values or modality not in opened:
            raise packets.PacketError(f"Sampel {modality[:12]} tidak ada.")
        captures[modality] = Capture(
            modality=modality,
            template=packets.unb64(opened[modality]["template"]),
            image=packets.unb64(opened[modality].get("image", "")),
            quality=int(sample["quality"]),
            attempts=int(sample.get("attempts", 1)),
        )
    exceptions = {
        modality: ExceptionIn(str(item.get("reason", "")), str(item.get("note", "")))
        for modality, item in (body.get("exceptions") or {}).items()
    }
    return captures, exceptions


def process_packet(*, packet_id: str, actor: User | None = None) -> InboundPacket:
    """Hand a received recording to the normal lifecycle: record, then send to penunggalan."""
    with transaction.atomic():
        packet = (
            InboundPacket.objects.select_for_update()
            .select_related("device__service_point", "device__kit", "device__operator")
            .get(pk=packet_id)
        )
        if packet.state != S.RECEIVED:
            return packet
        device = packet.device
        envelope, _ = packets.parse(bytes(packet.content))
        resident = Resident.objects.filter(nik=packet.nik).first()
        if packet.kind != "perekaman":
            packet.state, packet.reason = S.REJECTED, f"Jenis paket '{packet.kind}' tidak dikenal."
        elif resident is None:
            packet.state = S.NEEDS_MATCH
            packet.reason = "NIK tidak ada di data kantor; menunggu pencocokan oleh petugas."
        elif resident.ktp_status not in (KtpStatus.BELUM_REKAM, KtpStatus.ENROLL_FAILURE):
            packet.state = S.DUPLICATE
            packet.reason = "Penduduk sudah direkam sebelum paket ini tiba."
        else:
            try:
                captures, exceptions = _captures(envelope, packet)
                with transaction.atomic():
                    enrollment = record_enrollment(
                        resident=resident,
                        service_point=device.service_point,
                        device=device.kit,
                        operator=device.operator,
                        captures=captures,
                        exceptions=exceptions,
                        capture_driver="edge",
                        node_id=device.node_id,
                        captured_at=packet.device_time,
                    )
                    send_for_penunggalan(
                        resident=resident,
                        actor=device.operator,
                        service_point=device.service_point,
                    )
            except (EnrollmentError, packets.PacketError, KeyError, TypeError, ValueError) as error:
                packet.state = S.REJECTED
                packet.reason = (getattr(error, "message", "") or f"Paket tidak sah: {error}")[:250]
            else:
                packet.state, packet.reason, packet.enrollment = S.PROCESSED, "", enrollment
        if actor is not None:
            packet.decided_by = actor
        packet.save(update_fields=["state", "reason", "enrollment", "decided_by"])
    return packet


def decide_quarantined(
    *, packet: InboundPacket, actor: User, accept: bool, reason: str
) -> InboundPacket:
    """An operator's decision on a packet of a revoked device: take it in or refuse it."""
    reason = " ".join((reason or "").split())[:250]
    if not reason:
        raise SyncError("Alasan keputusan wajib diisi.")
    with transaction.atomic():
        locked = (
            InboundPacket.objects.select_for_update()
            .select_related("device__service_point__office")
            .get(pk=packet.pk)
        )
        _check_manager(actor, locked.device.service_point)
        if locked.state != S.QUARANTINED:
            raise SyncError("Paket ini tidak dalam karantina.")
        locked.decided_by = actor
        if accept:
            locked.state, locked.reason = S.RECEIVED, reason
        else:
            locked.state, locked.reason = S.REJECTED, reason
        locked.save(update_fields=["state", "reason", "decided_by"])
    if accept:
        return process_packet(packet_id=locked.pk, actor=actor)
    return locked
