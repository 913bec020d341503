"""Staff pages: the duplicate-case queue, side-by-side adjudication, the registry scan."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ektp.core import jobs
from ektp.core.access import role_required, within_jurisdiction
from ektp.core.models import AuditEvent, Role
from ektp.core.refusals import refused_as_message
from ektp.core.services import record_audit
from ektp.dedup import demographic, selectors, services
from ektp.dedup.errors import DedupError
from ektp.dedup.forms import DecisionForm, ScanForm
from ektp.dedup.models import CaseStatus
from ektp.regions.models import Region

VIEWERS = (Role.SUPERVISOR, Role.PROVINCE_ADMIN)
DECIDERS = (Role.SUPERVISOR,)
SCAN_JOB = "dedup_scan"


def _region_name(code: str) -> str:
    region = Region.objects.filter(pk=code).only("name").first()
    return f"{region.name} ({code})" if region else code


@role_required(*VIEWERS)
def queue(request: HttpRequest) -> HttpResponse:
    """List duplicate cases in the user's jurisdiction, open ones first by default."""
    status = request.GET.get("status", CaseStatus.OPEN)
    code = 200
    if status not in CaseStatus.values and status != "semua":
        messages.error(request, "Status kasus tidak dikenal; ditampilkan kasus yang menunggu.")
        status, code = CaseStatus.OPEN, 400
    qs = selectors.cases_for(user=request.user, status=None if status == "semua" else status)
    page = Paginator(qs, 25).get_page(request.GET.get("hal"))
    context = {
        "page": page,
        "status": status,
        "statuses": [*CaseStatus.choices, ("semua", "Semua")],
        "scan_form": ScanForm(initial={"region": request.user.region_id or ""}),
        "failures": selectors.engine_failures_for(user=request.user)[:50],
        "stuck": selectors.stuck_enrollments(user=request.user, limit=50),
        "scan_job": jobs.latest(user=request.user, kind=SCAN_JOB),
    }
    return render(request, "dedup/queue.html", context, status=code)


@role_required(*VIEWERS)
def models(request: HttpRequest) -> HttpResponse:
    """Show the demographic models of the user's scopes: training, threshold, m/u per level."""
    stored = list(selectors.models_for(user=request.user)[:20])
    newest = {}
    for model in stored:
        newest.setdefault(model.scope, model)
    shown = [
        (m, demographic.Model(settings=m.settings, threshold=m.threshold).levels())
        for m in newest.values()
    ]
    context = {
        "models": shown,
        "history": stored,
        "fallback": demographic.default_model(),
        "fallback_levels": demographic.default_model().levels(),
    }
    return render(request, "dedup/models.html", context)


def _render_case(request, case, form, *, status=200):
    context = {
        "case": case,
        "rows": selectors.side_by_side(case),
        "form": form,
        "notice": selectors.resident_notice(case),
        "may_decide": request.user.role in services.ADJUDICATORS and case.is_open,
    }
    return render(request, "dedup/case.html", context, status=status)


@role_required(*VIEWERS)
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: str) -> HttpResponse:
    """Show both records side by side and take the supervisor's decision."""
    case = selectors.get_case(user=request.user, case_id=case_id)
    if case is None:
        raise Http404("Kasus data ganda tidak ditemukan di wilayah kerja Anda.")
    if request.method == "GET":
        record_audit(
            user=request.user,
            action=AuditEvent.Action.VIEW,
            object_type="duplicate_case",
            object_id=str(case.pk),
            request=request,
        )
        return _render_case(request, case, DecisionForm())
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, form, status=400)
    try:
        services.decide_case(
            case=case,
            decision=form.cleaned_data["decision"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except DedupError as error:
        form.add_error(None, str(error))
        return _render_case(request, case, form, status=400)
    messages.success(request, "Keputusan adjudikasi tersimpan.")
    return redirect("dedup:case", case_id=case.pk)


@role_required(*DECIDERS)
@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    """Schedule a demographic scan of a region in the user's jurisdiction."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        for problem in form.errors.get("region", []):
            messages.error(request, problem)
        return redirect("dedup:queue")
    try:
        region = services.check_region_code(form.cleaned_data["region"])
    except DedupError as error:
        messages.error(request, str(error))
        return redirect("dedup:queue")
    if not within_jurisdiction(request.user, region):
        messages.error(request, f"Wilayah {region} berada di luar wilayah kerja Anda.")
        return redirect("dedup:queue")
    from ektp.dedup.tasks import scan_region

    record_audit(
        user=request.user,
        action=AuditEvent.Action.CREATE,
        object_type="dedup_scan_request",
        object_id=region,
        request=request,
    )
    job = jobs.start(
        kind=SCAN_JOB, title=f"Pemindaian data ganda {_region_name(region)}", user=request.user
    )
    transaction.on_commit(lambda: scan_region.enqueue(region=region, job_id=str(job.pk)))
    messages.success(request, f"Pemindaian data ganda {_region_name(region)} dijadwalkan.")
    return redirect("dedup:queue")


@role_required(*DECIDERS)
@require_POST
def rerun(request: HttpRequest, failure_id: str) -> HttpResponse:
    """Run penunggalan again for a record that failed because the ABIS could not be reached."""
    failure = selectors.get_failure(user=request.user, failure_id=failure_id)
    if failure is None:
        raise Http404("Kegagalan penunggalan tidak ditemukan di wilayah kerja Anda.")
    with refused_as_message(request):
        services.rerun_penunggalan(failure=failure, actor=request.user, request=request)
        nik = failure.enrollment.resident.nik
        messages.success(request, f"Penunggalan NIK {nik} dijadwalkan ulang.")
    return redirect("dedup:queue")


@role_required(*DECIDERS)
@require_POST
def requeue(request: HttpRequest, enrollment_id: str) -> HttpResponse:
    """Queue penunggalan again for a record stuck in SFE with no task to move it."""
    try:
        pk = uuid.UUID(enrollment_id)
    except ValueError:
        raise Http404("Rekaman tidak ditemukan.") from None
    with refused_as_message(request):
        enrollment = services.requeue_stuck(enrollment_id=pk, actor=request.user, request=request)
        nik = enrollment.resident.nik
        messages.success(request, f"Penunggalan NIK {nik} dikirim ulang.")
    return redirect("dedup:queue")
