"""Staff pages: find a resident, the recording screen, the KTP-el timeline, the day's figures."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ektp.core.access import role_required
from ektp.core.models import AuditEvent, Role
from ektp.core.refusals import refused_as_message
from ektp.core.services import record_audit
from ektp.enrollment import selectors, services
from ektp.enrollment.biometrics import (
    Modality,
    quality_threshold,
    retry_limit,
)
from ektp.enrollment.forms import DayForm, FindForm, RecordForm
from ektp.offices.services import recording_blocked
from ektp.residents.selectors import get_resident_by_nik

RECORDERS = (Role.OPERATOR, Role.SUPERVISOR)
VIEWERS = (Role.GATE_OFFICER, Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN)


def _resident_or_404(request, nik: str):
    resident = get_resident_by_nik(user=request.user, nik=nik[:16])
    if resident is None:
        raise Http404("Penduduk tidak ditemukan di wilayah kerja Anda.")
    return resident


@role_required(*RECORDERS)
def find(request: HttpRequest) -> HttpResponse:
    """Find a resident awaiting recording."""
    form = FindForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = list(
            selectors.residents_to_record(user=request.user, query=form.cleaned_data["q"])
        )
        record_audit(
            user=request.user,
            action=AuditEvent.Action.SEARCH,
            object_type="resident",
            request=request,
            detail={"q": form.cleaned_data["q"], "for": "perekaman"},
        )
    return render(request, "enrollment/find.html", {"form": form, "results": results})


def _kits_with_blocks(kits):
    return [(k, recording_blocked(point=k.service_point, device=k)) for k in kits]


def _render_record(request, resident, form, *, quality=None, status=200):
    kits = list(selectors.recording_kits_for(request.user))
    return render(
        request,
        "enrollment/record.html",
        {
            "r": resident,
            "form": form,
            "kits": _kits_with_blocks(kits),
            "quality": quality,
            "retry_limit": retry_limit(),
        },
        status=status,
    )


def _quality(accepted, failed, exceptions):
    """Rows of the quality table: label, quality, threshold, failed, exception reason."""
    return [
        (
            str(Modality(m).label),
            (accepted.get(m) or failed.get(m)).quality if m not in exceptions else None,
            quality_threshold(m),
            m in failed,
            exceptions[m].reason if m in exceptions else "",
        )
        for m in Modality.values
    ]


@role_required(*RECORDERS)
def record(request: HttpRequest, nik: str) -> HttpResponse:
    """Record a resident's biometrics with a kit at a point, step by step per modality."""
    resident = _resident_or_404(request, nik)
    kits = list(selectors.recording_kits_for(request.user))
    if request.method != "POST":
        return _render_record(request, resident, RecordForm(kits=kits))
    form = RecordForm(request.POST, kits=kits)
    if not form.is_valid():
        return _render_record(request, resident, form, status=422)
    kit = next(k for k in kits if str(k.pk) == form.cleaned_data["device"])
    exceptions = {m: services.ExceptionIn(r, n) for m, (r, n) in form.exceptions().items()}
    try:
        services.capture_and_record(
            resident=resident,
            device=kit,
            operator=request.user,
            exceptions=exceptions,
            request=request,
        )
    except services.CaptureBelowThreshold as exc:
        names = ", ".join(str(Modality(m).label) for m in exc.failed)
        form.add_error(
            None,
            f"Kualitas di bawah ambang setelah {retry_limit()} percobaan: {names}. "
            "Rekam ulang, atau catat pengecualian beserta alasannya.",
        )
        quality = _quality(exc.accepted, exc.failed, exceptions)
        return _render_record(request, resident, form, quality=quality, status=422)
    except services.EnrollmentError as exc:
        # The form stays filled in; the quality table shows when the capture had run.
        form.add_error(None, exc.message)
        quality = (
            _quality(exc.accepted, exc.failed, exceptions) if hasattr(exc, "accepted") else None
        )
        return _render_record(request, resident, form, quality=quality, status=422)
    messages.success(request, f"Biometrik {resident.name} terekam.")
    return redirect("enrollment:history", nik=resident.nik)


@role_required(*RECORDERS)
def send(request: HttpRequest, nik: str) -> HttpResponse:
    """Send a captured record to penunggalan."""
    resident = _resident_or_404(request, nik)
    if request.method == "POST":
        with refused_as_message(request):
            services.send_for_penunggalan(resident=resident, actor=request.user)
            messages.success(request, "Rekaman dikirim untuk penunggalan.")
    return redirect("enrollment:history", nik=resident.nik)


@role_required(*VIEWERS)
def history(request: HttpRequest, nik: str) -> HttpResponse:
    """Show a resident's KTP-el timeline and recording summary."""
    resident = _resident_or_404(request, nik)
    record_audit(
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="ktp_history",
        object_id=resident.nik,
        request=request,
    )
    enrollment = selectors.enrollment_of(resident)
    _allowed, held = services.card_may_be_printed(resident)
    return render(
        request,
        "enrollment/history.html",
        {
            "r": resident,
            "enrollment": enrollment,
            "history": selectors.history_of(resident),
            "held_reason": held if resident.ktp_status == "PRINT_READY_RECORD" else "",
            "may_send": resident.ktp_status == "BIO_CAPTURED"
            and enrollment is not None
            and request.user.role in (*RECORDERS, Role.SYSTEM_ADMIN),
            "may_record": (
                resident.ktp_status in ("BELUM_REKAM", "ENROLL_FAILURE")
                or (resident.ktp_status == "BIO_CAPTURED" and enrollment is None)
            )
            and request.user.role in (*RECORDERS, Role.SYSTEM_ADMIN),
            "biometrics_missing": resident.ktp_status == "BIO_CAPTURED" and enrollment is None,
        },
    )


@role_required(Role.SUPERVISOR, Role.OPERATOR, Role.PROVINCE_ADMIN)
def daily(request: HttpRequest) -> HttpResponse:
    """Show each point's recordings on a day against its capacity."""
    form = DayForm(request.GET or None)
    day = timezone.localdate()
    status = 200
    if form.is_bound and form.is_valid() and form.cleaned_data["tanggal"]:
        day = form.cleaned_data["tanggal"]
    elif form.is_bound and not form.is_valid():
        status = 422
    rows = selectors.daily_figures(user=request.user, day=day)
    totals = (sum(r.recorded for r in rows), sum(r.opening.capacity for r in rows))
    return render(
        request,
        "enrollment/daily.html",
        {"form": form, "day": day, "rows": rows, "totals": totals},
        status=status,
    )


@role_required(*VIEWERS)
@require_GET
def penunggalan_status(request: HttpRequest, nik: str) -> JsonResponse:
    """Tell how far a recording's penunggalan has got, in the shape of a job's progress, for the
    timeline page that follows it without reload."""
    resident = _resident_or_404(request, nik)
    return JsonResponse(selectors.penunggalan_progress(resident))
