"""Pages of edge sync: the office's devices (register, approve, revoke, new code, quarantine)
and, on an edge, its own state (last sync, waiting packets, days before the freeze)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ektp.core.access import role_required
from ektp.core.models import Role, User
from ektp.offices.selectors import points_for
from ektp.sync import edge, selectors, services
from ektp.sync.forms import ReasonForm, RegisterDeviceForm
from ektp.sync.models import EdgeDevice, InboundPacket, OutboxPacket

STAFF = (Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
MANAGERS = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)


def _devices_page(request, *, form=None, code=None, status=200):
    points = points_for(request.user)
    devices = selectors.devices_for_office(points=points)
    rows = [(d, selectors.freeze_date(d)) for d in devices]
    quarantined = (
        InboundPacket.objects.filter(
            device__service_point__in=points,
            state__in=[InboundPacket.State.QUARANTINED, InboundPacket.State.NEEDS_MATCH],
        )
        .select_related("device")
        .defer("content")
    )
    return render(
        request,
        "sync/devices.html",
        {
            "rows": rows,
            "quarantined": quarantined,
            "form": form or RegisterDeviceForm(points=points),
            "code": code,
            "may_manage": request.user.role in MANAGERS,
        },
        status=status,
    )


def _device_or_404(request, pk) -> EdgeDevice:
    device = EdgeDevice.objects.filter(pk=pk, service_point__in=points_for(request.user)).first()
    if device is None:
        raise Http404(_("Perangkat tidak ditemukan di wilayah kerja Anda."))
    return device


@role_required(*STAFF)
def devices(request: HttpRequest) -> HttpResponse:
    """List the field laptops with last sync, backlog and freeze date; register one."""
    if request.method != "POST":
        return _devices_page(request)
    if request.user.role not in MANAGERS:
        raise Http404()
    form = RegisterDeviceForm(request.POST, points=points_for(request.user))
    if not form.is_valid():
        return _devices_page(request, form=form, status=422)
    operator = User.objects.filter(username=form.cleaned_data["operator"]).first()
    if operator is None:
        form.add_error("operator", _("Pengguna tidak ditemukan."))
        return _devices_page(request, form=form, status=422)
    device, code = services.register_device(
        name=form.cleaned_data["name"],
        service_point=form.cleaned_data["service_point"],
        operator=operator,
        villages=form.village_codes(),
        actor=request.user,
        freeze_after_days=form.cleaned_data["freeze_after_days"],
    )
    return _devices_page(request, code=(device, code))


@role_required(*MANAGERS)
def device_action(request: HttpRequest, pk, action: str) -> HttpResponse:
    """Approve, revoke or give a new enrolment code to a device (POST)."""
    device = _device_or_404(request, pk)
    if request.method != "POST":
        return redirect("sync:devices")
    if action == "setujui":
        services.approve_device(device=device, actor=request.user)
        messages.success(request, _("Perangkat %(name)s disetujui.") % {"name": device.name})
    elif action == "cabut":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Alasan pencabutan wajib diisi."))
            return redirect("sync:devices")
        services.revoke_device(
            device=device, actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Perangkat %(name)s dicabut.") % {"name": device.name})
    elif action == "kode":
        code = services.issue_enrolment_code(device=device, actor=request.user)
        return _devices_page(request, code=(device, code))
    else:
        raise Http404()
    return redirect("sync:devices")


@role_required(*MANAGERS)
def decide(request: HttpRequest, packet_id: str, accept: str) -> HttpResponse:
    """Take in or refuse a quarantined packet (POST, with a reason)."""
    packet = InboundPacket.objects.filter(
        pk=packet_id[:64], device__service_point__in=points_for(request.user)
    ).first()
    if packet is None or request.method != "POST":
        raise Http404()
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Alasan keputusan wajib diisi."))
        return redirect("sync:devices")
    services.decide_quarantined(
        packet=packet,
        actor=request.user,
        accept=accept == "terima",
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, _("Keputusan atas paket tersimpan."))
    return redirect("sync:devices")


@role_required(*STAFF)
def edge_status(request: HttpRequest) -> HttpResponse:
    """This edge: last sync, packets waiting, days before the freeze, each packet's fate."""
    found = edge.node()
    context = {"node": found}
    if found is not None:
        context.update(
            waiting=OutboxPacket.objects.filter(pushed_at__isnull=True).count(),
            days_left=max(edge.days_before_freeze(found), 0),
            frozen=edge.frozen_reason(found),
            packets=OutboxPacket.objects.defer("content").order_by("-sequence")[:200],
        )
    return render(request, "sync/edge_status.html", context)
