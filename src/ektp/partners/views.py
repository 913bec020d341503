"""Staff pages for partner data: import with a preview, elections, IKD."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ektp.core import tables
from ektp.core.access import role_required
from ektp.core.errors import DomainError
from ektp.core.models import Role
from ektp.offices.access import office_of_page
from ektp.partners import exports, selectors, services
from ektp.partners.forms import IkdActivationForm, IkdTargetForm, ImportForm
from ektp.partners.models import ImportKind, Match

MANAGERS = (Role.SUPERVISOR,)
STAFF = (Role.OPERATOR, Role.SUPERVISOR)
MAX_UPLOAD = 50 * 1024 * 1024


@role_required(*MANAGERS)
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a partner file into staging (then see its preview); list earlier imports."""
    office = office_of_page(request)
    elections = selectors.elections_for(request.user).filter(kabkota_id=office.region_id)
    form = ImportForm(request.POST or None, request.FILES or None, elections=elections)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                if upload.size > MAX_UPLOAD:
                    raise services.PartnerError("Berkas lebih dari 50 MB.")
                election = None
                if data["kind"] == ImportKind.VOTERS:
                    election = (
                        elections.filter(pk=data["election"]).first()
                        if data["election"]
                        else services.create_election(
                            actor=request.user,
                            kabkota_code=office.region_id,
                            name=data["election_name"],
                            polling_day=data["polling_day"],
                        )
                    )
                staged = services.stage_import(
                    actor=request.user,
                    kind=data["kind"],
                    kabkota_code=office.region_id,
                    file_name=upload.name,
                    content=upload.read(),
                    election=election,
                )
            except DomainError as exc:  # a rule of the import, or a file that cannot be read
                form.add_error(None, exc.message)
                status = 422
            else:
                return redirect("partners:preview", pk=staged.pk)
        else:
            status = 422
    return render(
        request,
        "partners/imports.html",
        {
            "office": office,
            "form": form,
            "imports": selectors.imports_for(request.user).filter(kabkota_id=office.region_id)[:50],
            "elections": elections,
        },
        status=status,
    )


def _import_or_404(request, pk):
    found = selectors.imports_for(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("Impor tidak ditemukan di wilayah kerja Anda.")
    return found


@role_required(*MANAGERS)
def preview(request: HttpRequest, pk) -> HttpResponse:
    """What a staged file will change, line by line, before anything is applied."""
    staged = _import_or_404(request, pk)
    return render(
        request,
        "partners/preview.html",
        {
            "p": selectors.preview(staged),
            "imp": staged,
            "earlier": services.earlier_application(staged),
            "Match": Match,
        },
    )


@require_POST
@role_required(*MANAGERS)
def apply(request: HttpRequest, pk) -> HttpResponse:
    staged = _import_or_404(request, pk)
    services.apply_import(actor=request.user, partner_import=staged, request=request)
    messages.success(request, "Impor diterapkan.")
    return redirect("partners:preview", pk=staged.pk)


@require_POST
@role_required(*MANAGERS)
def discard(request: HttpRequest, pk) -> HttpResponse:
    staged = _import_or_404(request, pk)
    services.discard_import(actor=request.user, partner_import=staged)
    messages.success(request, "Impor dibatalkan.")
    return redirect("partners:imports")


def _election_or_404(request, pk):
    found = selectors.elections_for(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("Pemilihan tidak ditemukan di wilayah kerja Anda.")
    return found


@role_required(*MANAGERS)
def election(request: HttpRequest, pk) -> HttpResponse:
    """First-time voters and outreach targets per village; voters for the office to resolve."""
    found = _election_or_404(request, pk)
    if request.method == "POST":
        voter = selectors.voters_to_resolve(found).filter(pk=request.POST.get("voter") or 0).first()
        if voter is None:
            raise Http404("Pemilih tidak ditemukan.")
        services.resolve_voter(actor=request.user, voter=voter, note=request.POST.get("note", ""))
        messages.success(request, "Tindak lanjut dicatat.")
        return redirect("partners:election", pk=found.pk)
    villages = selectors.voters_by_village(found)
    return render(
        request,
        "partners/election.html",
        {
            "election": found,
            "villages": villages,
            "totals": exports.totals(villages),
            "to_resolve": selectors.voters_to_resolve(found)[:500],
        },
    )


@role_required(*MANAGERS)
def election_export(request: HttpRequest, pk, fmt: str) -> HttpResponse:
    found = _election_or_404(request, pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format tidak dikenal.")
    content = exports.villages_table(found, fmt=fmt)
    return tables.download(content, stem=f"pemilih-pemula-{found.polling_day:%Y%m%d}", fmt=fmt)


@role_required(*STAFF)
def ikd(request: HttpRequest) -> HttpResponse:
    """Record an IKD activation; the head sets targets per kecamatan (with the denominator)."""
    activation = IkdActivationForm(
        request.POST if request.POST.get("form") == "activation" else None,
        initial={"activated_on": timezone.localdate()},
    )
    target = IkdTargetForm(request.POST if request.POST.get("form") == "target" else None)
    status = 200
    if request.method == "POST":
        form = activation if request.POST.get("form") == "activation" else target
        if form.is_valid():
            data = form.cleaned_data
            try:
                if form is activation:
                    services.record_ikd_activation(actor=request.user, request=request, **data)
                    messages.success(request, "Aktivasi IKD dicatat.")
                else:
                    services.set_ikd_target(
                        actor=request.user,
                        kecamatan_code=data["kecamatan"],
                        rate=data["rate"],
                        denominator=data["denominator"],
                        due_date=data["due_date"],
                    )
                    messages.success(request, "Target IKD disimpan.")
            except services.PartnerError as exc:
                form.add_error(None, exc.message)
                status = exc.status if exc.status in (403, 404, 409) else 422
            else:
                return redirect("partners:ikd")
        else:
            status = 422
    return render(
        request,
        "partners/ikd.html",
        {
            "activation": activation,
            "target": target,
            "targets": selectors.ikd_targets_for(request.user),
            "may_set_targets": request.user.role in services.IMPORTERS,
        },
        status=status,
    )
