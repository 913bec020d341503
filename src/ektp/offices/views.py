"""Staff pages: offices, points and devices, device status, a point's calendar."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ektp.core.access import role_required
from ektp.core.models import Role
from ektp.core.refusals import refused_as_message
from ektp.naskah.errors import NaskahError
from ektp.naskah.forms import LetterheadForm
from ektp.naskah.selectors import letterhead_of
from ektp.naskah.services import format_letter_number, save_letterhead
from ektp.offices import selectors, services
from ektp.offices import setup as setup_services
from ektp.offices.access import office_of_page
from ektp.offices.calendar import month_openings, opening, weekly_hours
from ektp.offices.forms import (
    CounterNameForm,
    DeviceForm,
    DeviceStatusForm,
    MonthForm,
    PasswordResetForm,
    ServicePointForm,
    SpecialDayForm,
    StaffForm,
    WorkingHoursForm,
)
from ektp.offices.models import WEEKDAYS

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


def _render_point(request, point, *, form=None, device_form=None, status=200):
    devices = point.devices.order_by("kind", "serial_number")
    return render(
        request,
        "offices/point_detail.html",
        {
            "point": point,
            "devices": devices,
            "today": opening(point=point, day=timezone.localdate()),
            "form": form or DeviceStatusForm(),
            "device_form": device_form or DeviceForm(),
            "hours": [(dict(WEEKDAYS)[d], h) for d, h in sorted(weekly_hours(point).items())],
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


# ---------------------------------------------------------------- setting up the day

STAFF_MANAGERS = (Role.SUPERVISOR, Role.PROVINCE_ADMIN)


@role_required(*MANAGERS)
def setup(request: HttpRequest) -> HttpResponse:
    """The head's page to set up the day: points, counters, devices, hours, staff."""
    office = office_of_page(request)
    points = selectors.points_for(request.user).filter(office=office)
    counters = {p.pk: list(selectors.counters_of_point(p)) for p in points}
    return render(
        request,
        "offices/setup.html",
        {"office": office, "points": [(p, counters[p.pk]) for p in points]},
    )


def _render_point_form(request, *, office, form, point=None, status=200):
    return render(
        request,
        "offices/point_form.html",
        {"office": office, "form": form, "point": point},
        status=status,
    )


def _save_point(request, *, office, point=None):
    initial = None
    if point is not None:
        initial = {
            "kind": point.kind,
            "code": point.code,
            "name": point.name,
            "region": point.region_id or "",
            "address": point.address,
            "per_kit_daily_throughput": point.per_kit_daily_throughput,
            "is_active": point.is_active,
        }
    if request.method != "POST":
        form = ServicePointForm(office=office, initial=initial)
        return _render_point_form(request, office=office, form=form, point=point)
    form = ServicePointForm(request.POST, office=office)
    if not form.is_valid():
        return _render_point_form(request, office=office, form=form, point=point, status=422)
    try:
        saved = setup_services.save_point(
            actor=request.user, office=office, point=point, request=request, **form.cleaned_data
        )
    except services.OfficeError as exc:
        form.add_error(None, str(exc))
        return _render_point_form(request, office=office, form=form, point=point, status=422)
    messages.success(request, f"Titik layanan {saved.name} tersimpan.")
    return redirect("offices:point", pk=saved.pk)


@role_required(*MANAGERS)
def point_new(request: HttpRequest) -> HttpResponse:
    """Add a service point to the head's office."""
    return _save_point(request, office=office_of_page(request))


@role_required(*MANAGERS)
def point_edit(request: HttpRequest, pk) -> HttpResponse:
    """Change a service point's name, kind, place, capacity or whether it is active."""
    point = _point_or_404(request, pk)
    return _save_point(request, office=point.office, point=point)


@role_required(*MANAGERS)
def device_new(request: HttpRequest, pk) -> HttpResponse:
    """Register a recording kit or card printer at a point."""
    point = _point_or_404(request, pk)
    if request.method != "POST":
        return redirect("offices:point", pk=point.pk)
    form = DeviceForm(request.POST)
    if form.is_valid():
        try:
            device = setup_services.add_device(
                actor=request.user, point=point, request=request, **form.cleaned_data
            )
        except services.OfficeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{device} terdaftar.")
            return redirect("offices:point", pk=point.pk)
    return _render_point(request, point, device_form=form, status=422)


@role_required(*MANAGERS)
def working_hours(request: HttpRequest, pk) -> HttpResponse:
    """Set a point's weekly opening hours."""
    point = _point_or_404(request, pk)
    form = WorkingHoursForm(request.POST or None, week=weekly_hours(point))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                setup_services.set_working_hours(
                    actor=request.user, point=point, week=form.week(), request=request
                )
            except services.OfficeError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Jam layanan {point.name} tersimpan.")
                return redirect("offices:point", pk=point.pk)
    return render(
        request, "offices/working_hours.html", {"point": point, "form": form}, status=status
    )


@role_required(*MANAGERS)
def counters(request: HttpRequest, pk) -> HttpResponse:
    """List a point's counters (loket); add, rename, close or reopen one."""
    point = _point_or_404(request, pk)
    form = CounterNameForm()
    status = 200
    if request.method == "POST":
        status = 422
        action = request.POST.get("action")
        counter = selectors.counters_of_point(point).filter(
            pk=_uuid_or_none(request.POST.get("counter"))
        )
        counter = counter.first()
        with refused_as_message(request):
            if action == "add":
                form = CounterNameForm(request.POST)
                if form.is_valid():
                    setup_services.add_counter(
                        actor=request.user,
                        point=point,
                        name=form.cleaned_data["name"],
                        request=request,
                    )
                    messages.success(request, f"Loket {form.cleaned_data['name']} dibuka.")
                    return redirect("offices:counters", pk=point.pk)
            elif counter is None:
                messages.error(request, "Loket tidak ditemukan di titik layanan ini.")
            elif action == "rename":
                setup_services.rename_counter(
                    actor=request.user,
                    counter=counter,
                    name=request.POST.get("name", ""),
                    request=request,
                )
                messages.success(request, f"Loket berganti nama menjadi {counter.name}.")
                return redirect("offices:counters", pk=point.pk)
            elif action in ("close", "open"):
                setup_services.set_counter_active(
                    actor=request.user, counter=counter, active=action == "open", request=request
                )
                state = "dibuka kembali" if action == "open" else "ditutup"
                messages.success(request, f"Loket {counter.name} {state}.")
                return redirect("offices:counters", pk=point.pk)
            else:
                messages.error(request, "Tindakan tidak dikenal.")
    return render(
        request,
        "offices/counters.html",
        {"point": point, "form": form, "counters": selectors.counters_of_point(point)},
        status=status,
    )


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@role_required(*STAFF_MANAGERS)
def staff_list(request: HttpRequest) -> HttpResponse:
    """List the staff accounts of the head's jurisdiction."""
    return render(request, "offices/staff_list.html", {"staff": selectors.staff_for(request.user)})


@role_required(*STAFF_MANAGERS)
def staff_new(request: HttpRequest) -> HttpResponse:
    """Create a staff account with a role and region the head may grant."""
    form = StaffForm(request.POST or None, actor=request.user)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                user = setup_services.create_staff(
                    actor=request.user, request=request, **form.cleaned_data
                )
            except services.OfficeError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"Akun {user.username} dibuat. Saat pertama masuk, petugas "
                    "mendaftarkan aplikasi autentikator bila perannya mewajibkan.",
                )
                return redirect("offices:staff")
    return render(request, "offices/staff_form.html", {"form": form}, status=status)


@role_required(*STAFF_MANAGERS)
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset a staff member's password, or deactivate / reactivate the account."""
    target = selectors.staff_for(request.user).filter(pk=pk).first()
    if target is None:
        raise Http404("Akun petugas tidak ditemukan di wilayah kerja Anda.")
    form = PasswordResetForm()
    status = 200
    if request.method == "POST":
        status = 422
        action = request.POST.get("action")
        with refused_as_message(request):
            if action == "password":
                form = PasswordResetForm(request.POST)
                if form.is_valid():
                    setup_services.reset_staff_password(
                        actor=request.user,
                        target=target,
                        password=form.cleaned_data["password"],
                        request=request,
                    )
                    messages.success(request, f"Kata sandi {target.username} diganti.")
                    return redirect("offices:staff_detail", pk=target.pk)
            elif action in ("deactivate", "activate"):
                setup_services.set_staff_active(
                    actor=request.user,
                    target=target,
                    active=action == "activate",
                    request=request,
                )
                state = "diaktifkan kembali" if action == "activate" else "dinonaktifkan"
                messages.success(request, f"Akun {target.username} {state}.")
                return redirect("offices:staff_detail", pk=target.pk)
            else:
                messages.error(request, "Tindakan tidak dikenal.")
    return render(
        request, "offices/staff_detail.html", {"target": target, "form": form}, status=status
    )


# ---------------------------------------------------------------- letterhead


@role_required(*MANAGERS)
def letterhead(request: HttpRequest) -> HttpResponse:
    """The head keeps the kop surat and the signature block of the office's documents."""
    office = office_of_page(request)
    current = letterhead_of(office)
    initial = {
        name: getattr(current, name)
        for name in LetterheadForm.base_fields
        if name != "address" and hasattr(current, name)
    }
    initial["address"] = office.address
    form = LetterheadForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                saved = save_letterhead(
                    actor=request.user, office=office, request=request, **form.cleaned_data
                )
            except NaskahError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Kop surat tersimpan; penanda tangan {saved.head_name}.")
                return redirect(f"{request.path}?kab={office.region_id}")
    example = format_letter_number(current, sequence=1, on=timezone.localdate())
    return render(
        request,
        "offices/letterhead.html",
        {"office": office, "form": form, "example": example},
        status=status,
    )
