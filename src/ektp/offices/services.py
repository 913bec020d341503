"""Writes for offices: device status with history, special service days."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.offices.models import Device, DeviceStatusChange, Office, ServicePoint, SpecialDay

DEVICE_MANAGERS = {Role.SUPERVISOR, Role.SYSTEM_ADMIN}
MAX_REASON = 250


class OfficeError(DomainError, ValueError):
    """A change to an office, point or device breaks a rule; the message says which."""

    rule = "office"


def _check_office_access(actor: User, office: Office) -> None:
    if actor.role not in DEVICE_MANAGERS:
        raise OfficeError(
            "Hanya kepala dinas / supervisor yang boleh mengubah data ini.", rule="role", status=403
        )
    if not within_jurisdiction(actor, office.region_id):
        raise OfficeError("Kantor ini berada di luar wilayah kerja Anda.")


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise OfficeError("Alasan wajib diisi.")
    if len(text) > MAX_REASON:
        raise OfficeError(f"Alasan paling banyak {MAX_REASON} karakter.")
    return text


def change_device_status(
    *, device: Device, to: str, actor: User, reason: str, node_id: str = "office", request=None
) -> DeviceStatusChange:
    """Set a device's status and append the change to its history."""
    if to not in Device.Status.values:
        raise OfficeError(f"Status perangkat '{str(to)[:20]}' tidak dikenal.")
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = (
            Device.objects.select_for_update()
            .select_related("service_point__office")
            .get(pk=device.pk)
        )
        _check_office_access(actor, locked.service_point.office)
        if locked.status == to:
            raise OfficeError(f"Perangkat sudah berstatus {locked.get_status_display()}.")
        change = DeviceStatusChange.objects.create(
            device=locked,
            from_status=locked.status,
            to_status=to,
            reason=reason,
            changed_by=actor,
            node_id=node_id[:40],
        )
        locked.status = to
        locked.status_reason = "" if to == Device.Status.ACTIVE else reason
        locked.status_changed_at = change.changed_at
        locked.save(update_fields=["status", "status_reason", "status_changed_at"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="device",
            object_id=str(locked.pk),
            request=request,
            detail={"from": change.from_status, "to": to},
        )
    device.status, device.status_reason = locked.status, locked.status_reason
    return change


def recording_blocked(*, point: ServicePoint, device: Device | None = None) -> str | None:
    """Return why recording cannot happen at a point (with a device), or None when it can."""
    kits = list(point.devices.filter(kind=Device.Kind.RECORDING_KIT))
    if not kits:
        return "Titik layanan ini tidak memiliki alat perekaman."
    if device is None:
        if not any(k.is_working for k in kits):
            broken = "; ".join(f"{k.serial_number}: {k.status_reason}" for k in kits)
            return f"Semua alat perekaman tidak berfungsi ({broken})."
        return None
    if device.service_point_id != point.pk:
        return f"Alat {device.serial_number} bukan milik titik layanan {point.name}."
    if device.kind != Device.Kind.RECORDING_KIT:
        return f"Perangkat {device.serial_number} bukan alat perekaman."
    if not device.is_working:
        return (
            f"Alat perekaman {device.serial_number} {device.get_status_display().lower()}: "
            f"{device.status_reason}"
        )
    return None


def set_special_day(
    *,
    actor: User,
    office: Office,
    day: dt.date,
    is_open: bool,
    reason: str,
    point: ServicePoint | None = None,
    hours: tuple[dt.time, dt.time] | None = None,
) -> SpecialDay:
    """Declare a special opening or closure of a point, or of every point of an office."""
    _check_office_access(actor, office)
    reason = _clean_reason(reason)
    if point is not None and point.office_id != office.pk:
        raise OfficeError("Titik layanan bukan milik kantor ini.")
    if is_open:
        if hours is None or hours[0] is None or hours[1] is None:
            raise OfficeError("Jam buka dan jam tutup wajib diisi untuk hari buka khusus.")
        if hours[0] >= hours[1]:
            raise OfficeError("Jam buka harus lebih awal dari jam tutup.")
    else:
        hours = None
    try:
        with transaction.atomic():
            special = SpecialDay.objects.create(
                office=office,
                service_point=point,
                day=day,
                is_open=is_open,
                opens_at=hours[0] if hours else None,
                closes_at=hours[1] if hours else None,
                reason=reason,
                created_by=actor,
            )
            record_audit(
                user=actor,
                action=AuditEvent.Action.CREATE,
                object_type="special_day",
                object_id=str(special.pk),
                detail={"day": day.isoformat(), "open": is_open},
            )
    except IntegrityError:
        raise OfficeError(f"Sudah ada hari layanan khusus pada {day:%d-%m-%Y}.") from None
    return special
