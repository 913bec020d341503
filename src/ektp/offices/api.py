"""API for offices: service points, their calendar and opening, devices and their status."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.offices import selectors, services
from ektp.offices.calendar import month_openings, opening

router = Router(tags=["offices"])


class PointOut(Schema):
    id: uuid.UUID
    office: str
    kind: str
    code: str
    name: str
    is_active: bool
    per_kit_daily_throughput: int
    kit_count: int
    working_kit_count: int
    printer_count: int

    @staticmethod
    def resolve_office(obj) -> str:
        return obj.office.name


class OpeningOut(Schema):
    day: dt.date
    is_open: bool
    opens_at: dt.time | None
    closes_at: dt.time | None
    capacity: int
    reason: str


class DayIn(Schema):
    day: dt.date


class MonthIn(Schema):
    month: str = Field(..., pattern=r"^(20[0-9][0-9]|2100)-(0[1-9]|1[0-2])$")


class SpecialDayIn(Schema):
    day: dt.date
    is_open: bool
    whole_office: bool = False
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    reason: str = Field(..., max_length=250)


class DeviceOut(Schema):
    id: uuid.UUID
    service_point: uuid.UUID = Field(..., alias="service_point_id")
    kind: str
    serial_number: str
    status: str
    status_reason: str


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    reason: str
    changed_at: dt.datetime
    changed_by: str | None = None

    @staticmethod
    def resolve_changed_by(obj) -> str | None:
        return obj.changed_by.username if obj.changed_by_id else None


class DeviceStatusIn(Schema):
    status: str = Field(..., max_length=12)
    reason: str = Field(..., max_length=250)


def _opening_out(day: dt.date, o) -> dict:
    return {
        "day": day,
        "is_open": o.is_open,
        "opens_at": o.hours[0] if o.hours else None,
        "closes_at": o.hours[1] if o.hours else None,
        "capacity": o.capacity,
        "reason": o.reason,
    }


def _point(request, point_id):
    point = selectors.get_point(user=request.auth, pk=point_id)
    if point is None:
        raise HttpError(404, "Titik layanan tidak ditemukan di wilayah kerja Anda.")
    return point


def _device(request, device_id):
    device = selectors.devices_for(request.auth).filter(pk=device_id).first()
    if device is None:
        raise HttpError(404, "Perangkat tidak ditemukan di wilayah kerja Anda.")
    return device


@router.get("/points", response=list[PointOut])
def list_points(request):
    """List the service points in the caller's jurisdiction with their kit counts."""
    return list(selectors.points_for(request.auth))


@router.get("/points/{point_id}/opening", response=OpeningOut)
def point_opening(request, point_id: uuid.UUID, params: Query[DayIn]):
    """Tell whether a point is open on a day, its hours and its recording capacity."""
    return _opening_out(params.day, opening(point=_point(request, point_id), day=params.day))


@router.get("/points/{point_id}/calendar", response=list[OpeningOut])
def point_calendar(request, point_id: uuid.UUID, params: Query[MonthIn]):
    """Return the opening of every day of a month (month = YYYY-MM)."""
    point = _point(request, point_id)
    year, month = map(int, params.month.split("-"))
    return [_opening_out(d, o) for d, o in month_openings(point=point, year=year, month=month)]


@router.post("/points/{point_id}/special-days", response={201: OpeningOut})
def add_special_day(request, point_id: uuid.UUID, payload: SpecialDayIn):
    """Declare a special opening or closure of a point (or of its whole office)."""
    point = _point(request, point_id)
    services.set_special_day(
        actor=request.auth,
        office=point.office,
        point=None if payload.whole_office else point,
        day=payload.day,
        is_open=payload.is_open,
        reason=payload.reason,
        hours=(payload.opens_at, payload.closes_at) if payload.is_open else None,
    )
    return Status(201, _opening_out(payload.day, opening(point=point, day=payload.day)))


@router.get("/devices/{device_id}", response=DeviceOut)
def get_device(request, device_id: uuid.UUID):
    """Return one device with its current status."""
    return _device(request, device_id)


@router.get("/devices/{device_id}/history", response=list[StatusChangeOut])
def device_history(request, device_id: uuid.UUID):
    """Return a device's status changes, newest first."""
    return list(selectors.device_history(_device(request, device_id)))


@router.post("/devices/{device_id}/status", response=DeviceOut)
def change_status(request, device_id: uuid.UUID, payload: DeviceStatusIn):
    """Change a device's status with a reason (supervisor)."""
    device = _device(request, device_id)
    services.change_device_status(
        device=device,
        to=payload.status,
        actor=request.auth,
        reason=payload.reason,
        request=request,
    )
    return device
