"""Writes that set up an office's day without /admin/: counters, service points, devices,
weekly opening hours, and staff accounts within the head's own jurisdiction.

Every write checks the actor (a head of office / supervisor, or above) and the jurisdiction,
runs in one transaction and leaves an audit event.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ektp.appointments.models import Counter
from ektp.core.access import within_jurisdiction
from ektp.core.models import OFFICE_ROLES, AuditEvent, Role, User
from ektp.core.services import InvalidStaffAssignment, create_staff_user, record_audit
from ektp.offices.models import Device, Office, ServicePoint, WorkingHours
from ektp.offices.services import DEVICE_MANAGERS, OfficeError
from ektp.regions.models import Region

# Who may grant what: a role may grant roles up to its own rank, never above.
ROLE_RANK = {
    Role.GATE_OFFICER: 1,
    Role.OPERATOR: 2,
    Role.SUPERVISOR: 3,
    Role.PROVINCE_ADMIN: 4,
    Role.SYSTEM_ADMIN: 5,
}
STAFF_MANAGERS = {Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}


class SetupError(OfficeError):
    """A set-up change breaks a rule; the message (Bahasa Indonesia) says which."""


def _audit(actor, action, object_type, object_id, request=None, **detail) -> None:
    record_audit(
        user=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        request=request,
        detail=detail,
    )


def _office_access(actor: User, office: Office) -> None:
    if actor.role not in DEVICE_MANAGERS:
        raise SetupError("Hanya kepala dinas / supervisor yang boleh mengubah data ini.")
    if not within_jurisdiction(actor, office.region_id):
        raise SetupError("Kantor ini berada di luar wilayah kerja Anda.")


def _point_access(actor: User, point: ServicePoint) -> None:
    _office_access(actor, point.office)


# ---------------------------------------------------------------- counters


def _counter_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 40:
        raise SetupError("Nama loket wajib diisi, paling banyak 40 karakter.")
    return name


def add_counter(*, actor: User, point: ServicePoint, name: str, request=None) -> Counter:
    """Open a new counter (loket) at a service point."""
    _point_access(actor, point)
    name = _counter_name(name)
    if not point.is_active:
        raise SetupError(f"Titik layanan {point.name} tidak aktif; aktifkan dulu.")
    try:
        with transaction.atomic():
            counter = Counter.objects.create(service_point=point, name=name)
            _audit(actor, AuditEvent.Action.CREATE, "counter", counter.pk, request, name=name)
    except IntegrityError:
        raise SetupError(f"Loket {name} sudah ada di titik ini.") from None
    return counter


def rename_counter(*, actor: User, counter: Counter, name: str, request=None) -> Counter:
    """Give a counter a new name."""
    _point_access(actor, counter.service_point)
    name = _counter_name(name)
    if name == counter.name:
        raise SetupError("Nama loket tidak berubah.")
    try:
        with transaction.atomic():
            old = counter.name
            counter.name = name
            counter.save(update_fields=["name"])
            _audit(
                actor, AuditEvent.Action.UPDATE, "counter", counter.pk, request, name=[old, name]
            )
    except IntegrityError:
        raise SetupError(f"Loket {name} sudah ada di titik ini.") from None
    return counter


def set_counter_active(*, actor: User, counter: Counter, active: bool, request=None) -> Counter:
    """Close a counter (it leaves the board and calls no more) or open it again."""
    _point_access(actor, counter.service_point)
    with transaction.atomic():
        locked = Counter.objects.select_for_update().get(pk=counter.pk)
        if locked.is_active == active:
            state = "sudah dibuka" if active else "sudah ditutup"
            raise SetupError(f"Loket {locked.name} {state}.")
        if not active and locked.tickets.filter(status="called").exists():
            raise SetupError(
                f"Loket {locked.name} masih melayani nomor yang dipanggil; selesaikan dulu."
            )
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        _audit(actor, AuditEvent.Action.UPDATE, "counter", locked.pk, request, active=active)
    counter.is_active = active
    return counter


# ---------------------------------------------------------------- service points and devices


def _point_region(office: Office, region: Region | None) -> Region | None:
    if region is None:
        return None
    if region.level != Region.Level.KECAMATAN or not region.code.startswith(office.region_id + "."):
        raise SetupError(f"Wilayah {region.code} bukan kecamatan di {office.name}.")
    return region


def save_point(
    *,
    actor: User,
    office: Office,
    kind: str,
    code: str,
    name: str,
    region: Region | None = None,
    address: str = "",
    per_kit_daily_throughput: int = 60,
    is_active: bool = True,
    point: ServicePoint | None = None,
    request=None,
) -> ServicePoint:
    """Add a service point to an office, or change one (when `point` is given)."""
    _office_access(actor, office)
    if point is not None and point.office_id != office.pk:
        raise SetupError("Titik layanan bukan milik kantor ini.")
    if kind not in ServicePoint.Kind.values:
        raise SetupError(f"Jenis titik layanan '{str(kind)[:20]}' tidak dikenal.")
    code, name = (code or "").strip().upper(), " ".join((name or "").split())
    if not code or len(code) > 20:
        raise SetupError("Kode titik layanan wajib diisi, paling banyak 20 karakter.")
    if not name or len(name) > 150:
        raise SetupError("Nama titik layanan wajib diisi, paling banyak 150 karakter.")
    if not 1 <= int(per_kit_daily_throughput) <= 1000:
        raise SetupError("Kapasitas per alat per hari harus antara 1 dan 1000.")
    fields = {
        "kind": kind,
        "code": code,
        "name": name,
        "region": _point_region(office, region),
        "address": (address or "").strip()[:250],
        "per_kit_daily_throughput": int(per_kit_daily_throughput),
        "is_active": is_active,
    }
    try:
        with transaction.atomic():
            if point is None:
                point = ServicePoint.objects.create(office=office, **fields)
                action = AuditEvent.Action.CREATE
            else:
                for key, value in fields.items():
                    setattr(point, key, value)
                point.save()
                action = AuditEvent.Action.UPDATE
            _audit(actor, action, "service_point", point.pk, request, code=code, active=is_active)
    except IntegrityError:
        raise SetupError(f"Kode {code} sudah dipakai titik layanan lain di kantor ini.") from None
    return point


def add_device(
    *, actor: User, point: ServicePoint, kind: str, serial_number: str, request=None
) -> Device:
    """Register a recording kit or a card printer at a service point."""
    _point_access(actor, point)
    if kind not in Device.Kind.values:
        raise SetupError(f"Jenis perangkat '{str(kind)[:20]}' tidak dikenal.")
    serial = (serial_number or "").strip().upper()
    if not serial or len(serial) > 60:
        raise SetupError("Nomor seri wajib diisi, paling banyak 60 karakter.")
    try:
        with transaction.atomic():
            device = Device.objects.create(service_point=point, kind=kind, serial_number=serial)
            _audit(actor, AuditEvent.Action.CREATE, "device", device.pk, request, kind=kind)
    except IntegrityError:
        raise SetupError(f"Nomor seri {serial} sudah terdaftar.") from None
    return device


def set_working_hours(
    *,
    actor: User,
    point: ServicePoint,
    week: dict[int, tuple[dt.time, dt.time] | None],
    request=None,
) -> list[WorkingHours]:
    """Replace a point's weekly opening hours; a weekday given None (or left out) is closed."""
    _point_access(actor, point)
    open_days = {day: hours for day, hours in week.items() if hours is not None}
    if not open_days:
        raise SetupError("Pilih paling sedikit satu hari buka.")
    for day, (opens, closes) in open_days.items():
        if day not in range(7):
            raise SetupError("Hari tidak dikenal.")
        if opens is None or closes is None:
            raise SetupError("Jam buka dan jam tutup wajib diisi untuk hari yang buka.")
        if opens >= closes:
            raise SetupError("Jam buka harus lebih awal dari jam tutup.")
    with transaction.atomic():
        WorkingHours.objects.filter(service_point=point).delete()
        rows = WorkingHours.objects.bulk_create(
            WorkingHours(service_point=point, weekday=day, opens_at=o, closes_at=c)
            for day, (o, c) in sorted(open_days.items())
        )
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            "working_hours",
            point.pk,
            request,
            week={str(d): f"{o:%H:%M}-{c:%H:%M}" for d, (o, c) in sorted(open_days.items())},
        )
    return rows


# ---------------------------------------------------------------- staff accounts


def _check_staff_manager(actor: User) -> None:
    if actor.role not in STAFF_MANAGERS:
        raise SetupError("Hanya kepala dinas / supervisor yang boleh mengelola akun petugas.")


def _check_may_grant(actor: User, role: str, region: Region | None) -> None:
    _check_staff_manager(actor)
    if role not in ROLE_RANK:
        raise SetupError(f"Peran '{str(role)[:20]}' tidak dikenal.")
    if ROLE_RANK[role] > ROLE_RANK[actor.role]:
        raise SetupError(
            f"Anda tidak boleh memberi peran {Role(role).label}, yang lebih tinggi dari peran Anda."
        )
    if region is None:
        if actor.jurisdiction_code is not None:
            raise SetupError("Wilayah kerja wajib diisi.")
    elif not within_jurisdiction(actor, region.code):
        raise SetupError(f"Wilayah {region.code} berada di luar wilayah kerja Anda.")
    if role in OFFICE_ROLES and (region is None or region.level != Region.Level.KABKOTA):
        raise SetupError("Petugas kantor harus terikat pada kabupaten/kota.")
    if role == Role.PROVINCE_ADMIN and (region is None or region.level != Region.Level.PROVINSI):
        raise SetupError("Admin provinsi harus terikat pada provinsi.")


def _check_may_manage(actor: User, target: User) -> None:
    _check_staff_manager(actor)
    if target.pk == actor.pk:
        raise SetupError("Akun Anda sendiri tidak dapat diubah di sini.")
    if target.region_id is None and actor.jurisdiction_code is not None:
        raise SetupError("Akun ini berada di luar wilayah kerja Anda.")
    if target.region_id is not None and not within_jurisdiction(actor, target.region_id):
        raise SetupError("Akun ini berada di luar wilayah kerja Anda.")
    if ROLE_RANK.get(target.role, 99) > ROLE_RANK[actor.role]:
        raise SetupError("Akun dengan peran lebih tinggi dari peran Anda tidak dapat diubah.")


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise SetupError(" ".join(exc.messages)) from None


def create_staff(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    region: Region | None,
    full_name: str = "",
    request=None,
) -> User:
    """Create a staff account with a role and region the head may grant."""
    _check_may_grant(actor, role, region)
    username = (username or "").strip()
    if not username:
        raise SetupError("Nama pengguna wajib diisi.")
    if User.objects.filter(username__iexact=username).exists():
        raise SetupError(f"Nama pengguna {username} sudah dipakai.")
    first, _, last = " ".join((full_name or "").split()).partition(" ")
    _check_password(password, User(username=username, first_name=first, last_name=last))
    try:
        with transaction.atomic():
            user = create_staff_user(
                username=username,
                password=password,
                role=role,
                region=region,
                first_name=first[:150],
                last_name=last[:150],
            )
            _audit(
                actor,
                AuditEvent.Action.CREATE,
                "user",
                user.pk,
                request,
                role=role,
                region=region.code if region else None,
            )
    except InvalidStaffAssignment as exc:
        raise SetupError(str(exc)) from None
    except ValidationError as exc:
        raise SetupError(" ".join(exc.messages)) from None
    return user


def reset_staff_password(*, actor: User, target: User, password: str, request=None) -> User:
    """Set a new password for a staff member (who then logs in with it)."""
    _check_may_manage(actor, target)
    _check_password(password, target)
    with transaction.atomic():
        target.set_password(password)
        target.save(update_fields=["password"])
        _audit(actor, AuditEvent.Action.UPDATE, "user", target.pk, request, password="reset")
    return target


def set_staff_active(*, actor: User, target: User, active: bool, request=None) -> User:
    """Deactivate a staff account (it can no longer log in) or activate it again."""
    _check_may_manage(actor, target)
    if target.is_active == active:
        state = "sudah aktif" if active else "sudah nonaktif"
        raise SetupError(f"Akun {target.username} {state}.")
    with transaction.atomic():
        target.is_active = active
        target.save(update_fields=["is_active"])
        _audit(actor, AuditEvent.Action.UPDATE, "user", target.pk, request, active=active)
    return target
