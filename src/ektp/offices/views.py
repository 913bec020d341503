"""Staff pages: offices, points and devices, device status, a point's calendar."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ektp.core.access import role_required
from ektp.core.models import Role
from ektp.offices import selectors, services
from ektp.offices.calendar import month_openings, opening
from ektp.offices.forms import DeviceStatusForm, MonthForm, SpecialDayForm

STAFF = (Role.GATE_OFFICER, Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN)
MANAGERS = (Role.SUPERVISOR,)


def _point_or_404(request, pk):
    point = selectors.get_point(user=request.user, pk=pk)
    if point is None:
        raise Http404("Titik layanan tidak ditemukan di wilayah kerja Anda.")
    return point


@role_required(*STAFF)
def point_list(request: HttpRequest) -> HttpResponse:
    """List the offices, their service points and recording kits."""
    today = timezone.localdate()
    points = [(p, opening(point=p, day=today)) for p in selectors.points_for(request.user)]
    return render(request, "offices/point_list.html", {"points": points, "today": today})


def _render_point(request, point, *, form=None, status=200):
    devices = point.devices.order_by("kind", "serial_number")
    return render(
        request,
        "offices/point_detail.html",
        {
            "point": point,
            "devices": devices,
            "today": opening(point=point, day=timezone.localdate()),
            "form": form or DeviceStatusForm(),
            "may_manage": request.user.role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN),
        },
        status=status,
    )


@role_required(*STAFF)
def point_detail(request: HttpRequest, pk) -> HttpResponse:
    """Show a point's devices with their status and today's opening."""
    return _render_point(request, _point_or_404(request, pk))


@role_required(*MANAGERS)
def device_status(request: HttpRequest, pk) -> HttpResponse:
    """Change a device's status (supervisor)."""
    device = selectors.devices_for(request.user).filter(pk=pk).first()
    if device is None:
        raise Http404("Perangkat tidak ditemukan di wilayah kerja Anda.")
    point = _point_or_404(request, device.service_point_id)
    if request.method != "POST":
        return redirect("offices:point", pk=point.pk)
    form = DeviceStatusForm(request.POST)
    if not form.is_valid():
        return _render_point(request, point, form=form, status=422)
    try:
        services.change_device_status(
            device=device,
            to=form.cleaned_data["status"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except services.OfficeError as exc:
        form.add_error(None, str(exc))
        return _render_point(request, point, form=form, status=422)
    messages.success(request, f"Status {device.serial_number} kini {device.get_status_display()}.")
    return redirect("offices:point", pk=point.pk)


@role_required(*STAFF)
def device_detail(request: HttpRequest, pk) -> HttpResponse:
    """Show a device's status history."""
    device = selectors.devices_for(request.user).filter(pk=pk).first()
    if device is None:
        raise Http404("Perangkat tidak ditemukan di wilayah kerja Anda.")
    return render(
        request,
        "offices/device_detail.html",
        {"device": device, "history": selectors.device_history(device)},
    )


def _render_calendar(request, point, *, month: dt.date, form=None, status=200):
    return render(
        request,
        "offices/calendar.html",
        {
            "point": point,
            "month": month,
            "previous": (month - dt.timedelta(days=1)).strftime("%Y-%m"),
            "next": (month + dt.timedelta(days=31)).strftime("%Y-%m"),
            "days": month_openings(point=point, year=month.year, month=month.month),
            "form": form or SpecialDayForm(),
            "may_manage": request.user.role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN),
        },
        status=status,
    )


@role_required(*STAFF)
def calendar(request: HttpRequest, pk) -> HttpResponse:
    """Show a point's service calendar for a month; supervisors add special days."""
    point = _point_or_404(request, pk)
    month_form = MonthForm(request.GET)
    today = timezone.localdate()
    month = today.replace(day=1)
    if month_form.is_valid() and month_form.cleaned_data["bulan"]:
        year, number = map(int, month_form.cleaned_data["bulan"].split("-"))
        month = dt.date(year, number, 1)
    elif not month_form.is_valid():
        messages.error(request, " ".join(month_form.errors["bulan"]))
    if request.method != "POST":
        return _render_calendar(request, point, month=month)
    if request.user.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        messages.error(request, "Hanya kepala dinas / supervisor yang boleh mengubah kalender.")
        return _render_calendar(request, point, month=month, status=403)
    form = SpecialDayForm(request.POST)
    if not form.is_valid():
        return _render_calendar(request, point, month=month, form=form, status=422)
    data = form.cleaned_data
    try:
        services.set_special_day(
            actor=request.user,
            office=point.office,
            point=None if data["whole_office"] else point,
            day=data["day"],
            is_open=data["is_open"],
            reason=data["reason"],
            hours=(data["opens_at"], data["closes_at"]) if data["is_open"] else None,
        )
    except services.OfficeError as exc:
        form.add_error(None, str(exc))
        return _render_calendar(request, point, month=month, form=form, status=422)
    messages.success(request, f"Hari layanan khusus {data['day']:%d-%m-%Y} tersimpan.")
    return redirect(f"{request.path}?bulan={data['day']:%Y-%m}")
