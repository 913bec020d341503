"""Staff pages for suket (issue, list, revoke, PDF) and the public verification page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from ektp.core.access import role_required
from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.offices.access import office_of_page
from ektp.residents.selectors import get_resident_by_nik
from ektp.suket import documents, selectors, services, signing
from ektp.suket.forms import IssueForm, QrDownloadForm, RevokeForm, VerifyNumberForm
from ektp.suket.models import Suket
from ektp.suket.policy import rule_in_force

ISSUERS = (Role.OPERATOR, Role.SUPERVISOR)
READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN)


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        return f"{label}: {errors[0]}" if label else errors[0]
    return "Data tidak valid."


@role_required(*READERS)
def suket_list(request: HttpRequest) -> HttpResponse:
    """List an office's suket with the rule in force, the issue form and the outstanding count."""
    office = office_of_page(request)
    today = timezone.localdate()
    status = request.GET.get("status", "")
    qs = selectors.office_sukets(user=request.user, office=office, status=status, today=today)
    page = Paginator(qs, 50).get_page(request.GET.get("hal"))
    return render(
        request,
        "suket/list.html",
        {
            "office": office,
            "in_force": rule_in_force(office, today),
            "outstanding": selectors.outstanding(office, today),
            "page": page,
            "today": today,
            "status": status,
            "statuses": Suket.Status.choices,
            # Opened from the resident page: the NIK is filled in (the form checks it on submit).
            "form": IssueForm(initial={"nik": request.GET.get("nik", "")[:16]}),
            "can_issue": request.user.role in ISSUERS or request.user.role == Role.SYSTEM_ADMIN,
        },
    )


@require_POST
@role_required(*ISSUERS)
def issue_view(request: HttpRequest) -> HttpResponse:
    """Issue a suket for a resident, or say why not."""
    office = office_of_page(request)
    back = f"{reverse('suket:list')}?kab={office.region_id}"
    form = IssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(back)
    resident = get_resident_by_nik(user=request.user, nik=form.cleaned_data["nik"])
    if resident is None:
        messages.error(request, "NIK tidak ditemukan di wilayah kerja Anda.")
        return redirect(back)
    try:
        suket = services.issue_suket(
            resident=resident,
            office=office,
            officer=request.user,
            technical_failure=form.cleaned_data["technical_failure"],
            purpose=form.cleaned_data["purpose"],
            request=request,
        )
    except (services.SuketNotAllowed, services.SuketInvalid) as exc:
        messages.error(request, f"Suket tidak diterbitkan: {exc}")
        return redirect(back)
    messages.success(
        request, f"Suket {suket.number} diterbitkan, berlaku sampai {suket.valid_until:%d-%m-%Y}."
    )
    return redirect("suket:detail", suket_id=suket.pk)


@role_required(*READERS)
def detail(request: HttpRequest, suket_id) -> HttpResponse:
    """Show one suket with its status and, for supervisors, the revoke form."""
    suket = selectors.get_suket(user=request.user, suket_id=suket_id)
    if suket is None:
        raise Http404("Suket tidak ditemukan di wilayah kerja Anda.")
    today = timezone.localdate()
    return render(
        request,
        "suket/detail.html",
        {
            "suket": suket,
            "status": suket.current_status(today),
            "status_label": suket.current_status_label(today),
            "form": RevokeForm(),
            "can_revoke": request.user.role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN),
            "verify_url": documents.verify_url(request, suket.number),
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def revoke_view(request: HttpRequest, suket_id) -> HttpResponse:
    """Revoke a suket with a reason."""
    suket = selectors.get_suket(user=request.user, suket_id=suket_id)
    if suket is None:
        raise Http404("Suket tidak ditemukan di wilayah kerja Anda.")
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("suket:detail", suket_id=suket.pk)
    try:
        services.revoke_suket(
            suket=suket, reason=form.cleaned_data["reason"], actor=request.user, request=request
        )
    except (services.SuketNotAllowed, services.SuketInvalid) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Suket {suket.number} dicabut.")
    return redirect("suket:detail", suket_id=suket.pk)


@role_required(*READERS)
def pdf(request: HttpRequest, suket_id) -> HttpResponse:
    """Download the signed PDF of a suket."""
    suket = selectors.get_suket(user=request.user, suket_id=suket_id)
    if suket is None:
        raise Http404("Suket tidak ditemukan di wilayah kerja Anda.")
    record_audit(
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="suket",
        object_id=suket.pk,
        request=request,
        detail={"pdf": True},
    )
    return documents.pdf_response(request, suket)


@role_required(Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def outstanding(request: HttpRequest) -> HttpResponse:
    """Show the head of office the suket outstanding against blanks in stock."""
    office = office_of_page(request)
    return render(
        request,
        "suket/outstanding.html",
        {"office": office, "outstanding": selectors.outstanding(office, timezone.localdate())},
    )


def verify_rate(group, request) -> str:
    return settings.EKTP_VERIFY_RATE


def too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "suket/too_many.html", status=429)


@require_http_methods(["GET"])
def verify_form(request: HttpRequest) -> HttpResponse:
    """Ask for a suket's number and send the reader to its verification page."""
    form = VerifyNumberForm(request.GET if "nomor" in request.GET else None)
    if form.is_valid():
        return redirect("verify:verify", number=form.cleaned_data["nomor"])
    status = 400 if form.is_bound else 200
    return render(request, "suket/verify_form.html", {"form": form}, status=status)


@ratelimit(key="ip", rate=verify_rate, method=ratelimit.ALL, block=False, group="suket-verify")
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, number: str) -> HttpResponse:
    """Show anyone whether a suket is valid, with masked data.

    The PDF (full NIK, birth date, address) goes only to whoever holds the document's QR
    (its signed payload); the resident without it asks on the status page for a one-time
    code sent to the phone on record. A NIK and a birth date are public: they open nothing.
    """
    if getattr(request, "limited", False):
        return too_many(request)
    suket = selectors.public_suket(number)
    if suket is None:
        return render(request, "suket/verify.html", {"number": number[:60]}, status=404)
    today = timezone.localdate()
    form = QrDownloadForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            fields = selectors.qr_fields(form.cleaned_data["qr"])
        except signing.ForgedPayload as exc:
            form.add_error("qr", str(exc))
        else:
            if fields["number"] == suket.number:
                return documents.public_pdf_response(request, suket, by="qr")
            form.add_error("qr", "Kode QR ini milik suket lain.")
    return render(
        request,
        "suket/verify.html",
        {
            "number": suket.number,
            "suket": suket,
            "status": suket.current_status(today),
            "status_label": suket.current_status_label(today),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )
